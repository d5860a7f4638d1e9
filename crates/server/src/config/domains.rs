//! Custom domain settings: the platform's own domain (`ENCLII_PLATFORM_DOMAIN`, under which
//! platform domains are handed out; unset, they answer 503 naming it) and the nameserver that
//! verification asks for TXT records (`ENCLII_DNS_RESOLVER`, `ip:port`; unset, the system's
//! resolv.conf).

use std::net::{IpAddr, SocketAddr};

use switchyard_core::{DnsSettings, DomainSettings};
use switchyard_domain::Hostname;

use super::Reader;

#[derive(Debug, Clone, Default)]
pub struct DomainConfig {
    /// `ENCLII_PLATFORM_DOMAIN`, e.g. `enclii.dev`.
    pub platform_domain: Option<Hostname>,
    /// `ENCLII_DNS_RESOLVER`; an address without a port means port 53.
    pub dns_resolver: Option<SocketAddr>,
}

impl DomainConfig {
    /// What the control plane needs of it; `cert_issuer` is the issuer the renderer puts on
    /// Ingresses (`ENCLII_CERT_ISSUER`), which domains show as theirs.
    pub fn settings(&self, cert_issuer: Option<String>) -> DomainSettings {
        DomainSettings {
            platform_domain: self.platform_domain.clone(),
            tls_issuer: cert_issuer,
            dns: DnsSettings {
                nameserver: self.dns_resolver,
                ..DnsSettings::default()
            },
        }
    }
}

pub(super) fn domains(r: &mut Reader<'_>) -> DomainConfig {
    let platform_domain = r.get("ENCLII_PLATFORM_DOMAIN").and_then(|raw| {
        Hostname::parse(raw, "ENCLII_PLATFORM_DOMAIN")
            .map_err(|e| {
                r.errors.push(format!(
                    "ENCLII_PLATFORM_DOMAIN: expected a domain like enclii.dev, got {raw:?}: {e}"
                ));
            })
            .ok()
    });
    let dns_resolver = r.get("ENCLII_DNS_RESOLVER").and_then(|raw| {
        raw.parse::<SocketAddr>()
            .or_else(|_| raw.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
            .map_err(|_| {
                r.errors.push(format!(
                    "ENCLII_DNS_RESOLVER: expected a nameserver address like 10.43.0.10:53, got {raw:?}"
                ));
            })
            .ok()
    });
    DomainConfig {
        platform_domain,
        dns_resolver,
    }
}

/// `config check` lines.
pub(crate) fn report(config: &DomainConfig) -> Vec<(&'static str, String)> {
    vec![
        (
            "ENCLII_PLATFORM_DOMAIN",
            config.platform_domain.as_ref().map_or_else(
                || "(not set: platform domains answer 503)".to_owned(),
                ToString::to_string,
            ),
        ),
        (
            "ENCLII_DNS_RESOLVER",
            config.dns_resolver.map_or_else(
                || "(not set: the system's resolv.conf)".to_owned(),
                |a| a.to_string(),
            ),
        ),
    ]
}
