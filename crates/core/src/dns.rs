//! TXT lookups for domain verification, through `hickory-resolver`: the nameserver of
//! `ENCLII_DNS_RESOLVER` or those of the system's resolv.conf. A resolver is built per lookup, so
//! nothing is cached between verifications (a record created a second ago is seen) and a changed
//! resolv.conf applies at once. "No such name" and "no TXT there" are answers (`Ok(vec![])`); a
//! nameserver that cannot be reached or fails is `Unavailable` (503), never a verdict.

use std::{net::SocketAddr, time::Duration};

use hickory_resolver::{
    Resolver,
    config::{NameServerConfig, ResolverConfig, ResolverOpts},
    net::runtime::TokioRuntimeProvider,
    proto::rr::RData,
};
use switchyard_domain::Error;

/// Where TXT records are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    /// `ENCLII_DNS_RESOLVER` (`ip:port`); `None`: the system's resolv.conf.
    pub nameserver: Option<SocketAddr>,
    /// How long one query may take before it is retried once, then abandoned.
    pub timeout: Duration,
}

impl Default for DnsSettings {
    fn default() -> Self {
        Self {
            nameserver: None,
            timeout: Duration::from_secs(3),
        }
    }
}

impl DnsSettings {
    /// The nameserver as shown in messages.
    fn describe(&self) -> String {
        self.nameserver
            .map_or_else(|| "the system's resolver".to_owned(), |ns| ns.to_string())
    }
}

fn unavailable(
    settings: &DnsSettings,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::unavailable(
        format!(
            "DNS could not be asked ({}); try again later, or set ENCLII_DNS_RESOLVER",
            settings.describe()
        ),
        source,
    )
}

/// The TXT records at `name` (fully qualified, without the trailing dot), each one's strings
/// joined as RFC 7208 §3.3 reads them.
pub(crate) async fn txt_records(settings: &DnsSettings, name: &str) -> Result<Vec<String>, Error> {
    let provider = TokioRuntimeProvider::default();
    let mut builder = match settings.nameserver {
        Some(ns) => {
            let mut server = NameServerConfig::udp_and_tcp(ns.ip());
            for connection in &mut server.connections {
                connection.port = ns.port();
            }
            Resolver::builder_with_config(ResolverConfig::from_name_servers(vec![server]), provider)
        }
        None => Resolver::builder(provider).map_err(|e| unavailable(settings, e))?,
    };
    let options: &mut ResolverOpts = builder.options_mut();
    options.timeout = settings.timeout;
    options.attempts = 1;
    options.cache_size = 0;
    options.ndots = 0;
    let resolver = builder.build().map_err(|e| unavailable(settings, e))?;
    // The trailing dot makes the name absolute: no search domains are tried.
    match resolver.txt_lookup(format!("{name}.")).await {
        Ok(lookup) => Ok(lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect()),
        Err(e) if e.is_no_records_found() => Ok(Vec::new()),
        Err(e) => Err(unavailable(settings, e)),
    }
}
