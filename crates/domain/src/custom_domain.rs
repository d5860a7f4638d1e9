//! Bodies of the custom domain routes parsed into values that keep their rules: the host name
//! (or, for a platform domain, a label or nothing), the environment (by id as the UI sends it,
//! or by name as the CLI may), TLS. Cloudflare features of the original (`tls_provider:
//! cloudflare-for-saas`, `zero_trust_enabled`) are refused rather than silently ignored.

use serde::Deserialize;
use serde_json::Value;

use crate::{EnvironmentId, Error, Hostname, from_json, hostname::parse_label};

/// The environment a domain is added in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvironmentChoice {
    Id(EnvironmentId),
    /// The CLI's `environment` (a name in the service's project), used when no id is sent.
    Name(String),
}

/// The name asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainName {
    /// A full host name.
    Host(Hostname),
    /// Platform domains only: one label, completed with the platform's domain.
    Label(String),
    /// Platform domains only: none given; `<service>-<environment>` under the platform's domain.
    Default,
}

#[derive(Deserialize)]
struct CreateBody {
    domain: Option<String>,
    environment_id: Option<String>,
    environment: Option<String>,
    #[serde(default)]
    is_platform_domain: bool,
    tls_provider: Option<String>,
    #[serde(default)]
    zero_trust_enabled: bool,
    tls_enabled: Option<bool>,
    tls_issuer: Option<String>,
}

/// `POST /v1/services/:id/domains`.
#[derive(Debug, Clone)]
pub struct DomainCreate {
    pub name: DomainName,
    pub environment: EnvironmentChoice,
    pub is_platform_domain: bool,
    /// Default true.
    pub tls_enabled: bool,
    /// The cert-manager issuer asked for, if any (it must be the cluster's).
    pub tls_issuer: Option<String>,
}

impl DomainCreate {
    pub fn from_json(body: Value) -> Result<Self, Error> {
        let body: CreateBody = from_json(body)?;
        let raw = body.domain.as_deref().map(str::trim).unwrap_or_default();
        let name = match (body.is_platform_domain, raw) {
            (false, raw) => DomainName::Host(Hostname::parse(raw, "domain")?),
            (true, "") => DomainName::Default,
            (true, raw) if !raw.contains('.') => DomainName::Label(parse_label(raw, "domain")?),
            (true, raw) => DomainName::Host(Hostname::parse(raw, "domain")?),
        };
        let environment = match (
            blank_to_none(body.environment_id),
            blank_to_none(body.environment),
        ) {
            (Some(id), _) => EnvironmentChoice::Id(id.parse().map_err(|_| {
                Error::invalid("environment_id", "must be an environment id (UUID)")
            })?),
            (None, Some(name)) => EnvironmentChoice::Name(name),
            (None, None) => return Err(Error::invalid("environment_id", "is required")),
        };
        match blank_to_none(body.tls_provider).as_deref() {
            None | Some("cert-manager") => {}
            Some(_) => {
                return Err(Error::invalid(
                    "tls_provider",
                    "only cert-manager is supported (Cloudflare for SaaS is not)",
                ));
            }
        }
        if body.zero_trust_enabled {
            return Err(Error::invalid(
                "zero_trust_enabled",
                "Cloudflare Access (zero trust) is not supported",
            ));
        }
        Ok(Self {
            name,
            environment,
            is_platform_domain: body.is_platform_domain,
            tls_enabled: body.tls_enabled.unwrap_or(true),
            tls_issuer: parse_issuer(body.tls_issuer)?,
        })
    }
}

#[derive(Deserialize)]
struct UpdateBody {
    tls_enabled: Option<bool>,
    tls_issuer: Option<String>,
}

/// `PATCH /v1/services/:id/domains/:domain_id`: what is given changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainUpdate {
    pub tls_enabled: Option<bool>,
    pub tls_issuer: Option<String>,
}

impl DomainUpdate {
    pub fn from_json(body: Value) -> Result<Self, Error> {
        let body: UpdateBody = from_json(body)?;
        if body.tls_enabled.is_none() && body.tls_issuer.is_none() {
            return Err(Error::invalid(
                "body",
                "nothing to change: send tls_enabled or tls_issuer",
            ));
        }
        Ok(Self {
            tls_enabled: body.tls_enabled,
            tls_issuer: parse_issuer(body.tls_issuer)?,
        })
    }
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A cert-manager `ClusterIssuer` name (a DNS subdomain), or none when blank.
fn parse_issuer(raw: Option<String>) -> Result<Option<String>, Error> {
    let Some(issuer) = blank_to_none(raw) else {
        return Ok(None);
    };
    let valid = issuer.len() <= 253
        && issuer
            .split('.')
            .all(|label| parse_label(label, "tls_issuer").is_ok_and(|l| l == label));
    if valid {
        Ok(Some(issuer))
    } else {
        Err(Error::invalid(
            "tls_issuer",
            "must be a cert-manager ClusterIssuer name (lower-case letters, digits, - and .)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field_of(body: Value) -> String {
        match DomainCreate::from_json(body).unwrap_err() {
            Error::InvalidInput {
                field: Some(field), ..
            } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_ui_and_the_cli_bodies_both_parse() {
        let env = EnvironmentId::new();
        let ui = DomainCreate::from_json(json!({
            "domain": "Shop.Example.com", "environment_id": env.to_string(),
            "is_platform_domain": false, "tls_provider": "cert-manager", "zero_trust_enabled": false,
        }))
        .unwrap();
        assert_eq!(
            ui.name,
            DomainName::Host(Hostname::parse("shop.example.com", "domain").unwrap())
        );
        assert_eq!(ui.environment, EnvironmentChoice::Id(env));
        assert!(ui.tls_enabled);
        let cli = DomainCreate::from_json(json!({
            "domain": "shop.example.com", "environment": "production", "environment_id": "",
            "tls_enabled": false, "tls_issuer": "letsencrypt-prod",
        }))
        .unwrap();
        assert_eq!(
            cli.environment,
            EnvironmentChoice::Name("production".into())
        );
        assert!(!cli.tls_enabled);
        assert_eq!(cli.tls_issuer.as_deref(), Some("letsencrypt-prod"));
    }

    #[test]
    fn platform_domains_may_give_a_label_or_nothing() {
        let env = EnvironmentId::new().to_string();
        let platform = |domain: Value| {
            DomainCreate::from_json(
                json!({"domain": domain, "environment_id": env, "is_platform_domain": true}),
            )
            .unwrap()
            .name
        };
        assert_eq!(platform(json!(null)), DomainName::Default);
        assert_eq!(platform(json!("")), DomainName::Default);
        assert_eq!(platform(json!("MyApp")), DomainName::Label("myapp".into()));
        assert!(matches!(
            platform(json!("a.enclii.dev")),
            DomainName::Host(_)
        ));
    }

    #[test]
    fn each_refusal_names_its_field() {
        let env = EnvironmentId::new().to_string();
        assert_eq!(field_of(json!({"environment_id": env})), "domain");
        assert_eq!(
            field_of(json!({"domain": "a.example.com"})),
            "environment_id"
        );
        assert_eq!(
            field_of(json!({"domain": "a.example.com", "environment_id": "x"})),
            "environment_id"
        );
        assert_eq!(
            field_of(
                json!({"domain": "a.example.com", "environment_id": env, "tls_provider": "cloudflare-for-saas"})
            ),
            "tls_provider"
        );
        assert_eq!(
            field_of(
                json!({"domain": "a.example.com", "environment_id": env, "zero_trust_enabled": true})
            ),
            "zero_trust_enabled"
        );
        assert_eq!(
            field_of(
                json!({"domain": "a.example.com", "environment_id": env, "tls_issuer": "Bad Issuer"})
            ),
            "tls_issuer"
        );
        assert_eq!(
            field_of(json!({"domain": "-x", "environment_id": env, "is_platform_domain": true})),
            "domain"
        );
        assert!(DomainUpdate::from_json(json!({})).is_err());
        assert_eq!(
            DomainUpdate::from_json(json!({"tls_enabled": false})).unwrap(),
            DomainUpdate {
                tls_enabled: Some(false),
                tls_issuer: None
            }
        );
    }
}
