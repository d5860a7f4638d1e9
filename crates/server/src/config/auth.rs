//! Sign-in settings: the session signing keys, token lifetimes, roles, the dev bootstrap token and
//! Janua (external) token verification; the auth mode (`oidc` settings are in `oidc.rs`).

use std::time::Duration;

use secrecy::SecretString;
use switchyard_domain::Role;

use super::Reader;

/// Sign-in and sessions.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// PEM of the RSA key that signs session tokens; `None`: `serve` refuses, `dev` makes one.
    pub signing_key: Option<SecretString>,
    /// PEM blocks of earlier keys whose tokens still verify.
    pub previous_keys: String,
    pub access_ttl: time::Duration,
    pub refresh_ttl: time::Duration,
    pub default_role: Role,
    /// Lower-cased.
    pub admin_emails: Vec<String>,
    /// `ENCLII_BOOTSTRAP_TOKEN`: the API token `dev` gives `admin@localhost`.
    pub bootstrap_token: Option<SecretString>,
    /// Janua access tokens are accepted when `ENCLII_EXTERNAL_JWKS_URL` is set.
    pub external: Option<switchyard_auth::ExternalConfig>,
    /// Janua browser sign-in (`ENCLII_AUTH_MODE=oidc`).
    pub oidc: Option<switchyard_auth::OidcConfig>,
}

pub(super) fn auth(r: &mut Reader<'_>) -> AuthConfig {
    let oidc = match r.get("ENCLII_AUTH_MODE") {
        None | Some("local") => None,
        Some("oidc") => super::oidc::client(r),
        Some(other) => {
            r.errors.push(format!(
                "ENCLII_AUTH_MODE: expected local or oidc, got {other:?}"
            ));
            None
        }
    };
    let signing_key = match (
        r.get("ENCLII_JWT_SIGNING_KEY"),
        r.get("ENCLII_JWT_SIGNING_KEY_FILE"),
    ) {
        (Some(pem), _) => Some(("ENCLII_JWT_SIGNING_KEY", pem.replace("\\n", "\n"))),
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(pem) => Some(("ENCLII_JWT_SIGNING_KEY_FILE", pem)),
            Err(e) => {
                r.errors.push(format!(
                    "ENCLII_JWT_SIGNING_KEY_FILE: cannot read {path}: {e}"
                ));
                None
            }
        },
        (None, None) => None,
    };
    let previous_keys = match r.get("ENCLII_JWT_PREVIOUS_KEYS_FILE") {
        None => String::new(),
        Some(path) => std::fs::read_to_string(path).unwrap_or_else(|e| {
            r.errors.push(format!(
                "ENCLII_JWT_PREVIOUS_KEYS_FILE: cannot read {path}: {e}"
            ));
            String::new()
        }),
    };
    let signing_key = signing_key.and_then(|(name, pem)| {
        let pem = SecretString::from(pem);
        match switchyard_auth::KeySet::from_pem(&pem, &previous_keys) {
            Ok(_) => Some(pem),
            Err(e) => {
                r.errors.push(format!("{name}: {e}"));
                None
            }
        }
    });
    let minutes: i64 = r.parse(
        "ENCLII_ACCESS_TOKEN_EXPIRE_MINUTES",
        15,
        "a number of minutes",
    );
    let days: i64 = r.parse("ENCLII_REFRESH_TOKEN_EXPIRE_DAYS", 7, "a number of days");
    if !(1..=1440).contains(&minutes) {
        r.errors
            .push("ENCLII_ACCESS_TOKEN_EXPIRE_MINUTES: must be between 1 and 1440".into());
    }
    if !(1..=90).contains(&days) {
        r.errors
            .push("ENCLII_REFRESH_TOKEN_EXPIRE_DAYS: must be between 1 and 90".into());
    }
    let default_role = match r.get("ENCLII_DEFAULT_ROLE") {
        None => Role::Developer,
        Some(raw) => raw.parse().unwrap_or_else(|e| {
            r.errors.push(format!("ENCLII_DEFAULT_ROLE: {e}"));
            Role::Developer
        }),
    };
    let admin_emails = r
        .get("ENCLII_ADMIN_EMAILS")
        .unwrap_or_default()
        .split(',')
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    AuthConfig {
        signing_key,
        previous_keys,
        access_ttl: time::Duration::minutes(minutes),
        refresh_ttl: time::Duration::days(days),
        default_role,
        admin_emails,
        bootstrap_token: r
            .get("ENCLII_BOOTSTRAP_TOKEN")
            .map(|t| SecretString::from(t.to_owned())),
        external: external(r),
        oidc,
    }
}

fn external(r: &mut Reader<'_>) -> Option<switchyard_auth::ExternalConfig> {
    let url = r.get("ENCLII_EXTERNAL_JWKS_URL")?.to_owned();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        r.errors.push(format!(
            "ENCLII_EXTERNAL_JWKS_URL: expected an http(s) URL, got {url:?}"
        ));
    }
    let ttl: u64 = r.parse("ENCLII_EXTERNAL_JWKS_CACHE_TTL", 300, "a number of seconds");
    Some(switchyard_auth::ExternalConfig {
        jwks_url: url,
        issuer: r.get("ENCLII_EXTERNAL_ISSUER").map(str::to_owned),
        audience: r.get("ENCLII_EXTERNAL_AUDIENCE").map(str::to_owned),
        cache_ttl: Duration::from_secs(ttl),
        refetch_floor: Duration::from_secs(10),
    })
}
