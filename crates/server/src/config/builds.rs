//! Build settings: the image registry, our own URL for Roundhouse's callbacks, Roundhouse's URL
//! and the shared key that authenticates both directions.

use secrecy::SecretString;
use switchyard_core::BuildSettings;

use super::Reader;

#[derive(Debug, Clone)]
pub struct BuildConfig {
    /// `ENCLII_REGISTRY` (default `ghcr.io/madfam-org`, the original's).
    pub registry: String,
    /// `ENCLII_SELF_URL` (default `http://localhost:<port>`): the base of `callback_url`.
    pub self_url: String,
    /// `ENCLII_ROUNDHOUSE_URL`: where the worker enqueues builds; unset: builds fail naming it.
    pub roundhouse_url: Option<String>,
    /// `ENCLII_ROUNDHOUSE_API_KEY[_FILE]`: bearer to Roundhouse and the callbacks' HMAC key.
    pub roundhouse_key: Option<SecretString>,
    /// `ENCLII_GITHUB_WEBHOOK_SECRET[_FILE]`: verifies `POST /v1/webhooks/github`.
    pub github_webhook_secret: Option<SecretString>,
    /// `ENCLII_BUILD_TIMEOUT` (default 30 min): a release still `building` after this fails.
    pub build_timeout: std::time::Duration,
}

impl BuildConfig {
    /// What the control plane needs of it.
    pub fn settings(&self) -> BuildSettings {
        BuildSettings {
            registry: self.registry.clone(),
            callback_key: self.roundhouse_key.clone(),
            self_url: self.self_url.clone(),
            github_webhook_secret: self.github_webhook_secret.clone(),
        }
    }
}

fn http_url(r: &mut Reader<'_>, name: &str) -> Option<String> {
    let url = r.get(name)?.trim_end_matches('/').to_owned();
    if url.starts_with("http://") || url.starts_with("https://") {
        Some(url)
    } else {
        r.errors
            .push(format!("{name}: expected an http(s) URL, got {url:?}"));
        None
    }
}

pub(super) fn builds(r: &mut Reader<'_>, port: u16) -> BuildConfig {
    let registry = r
        .get("ENCLII_REGISTRY")
        .unwrap_or("ghcr.io/madfam-org")
        .trim_end_matches('/')
        .to_owned();
    if registry.contains(char::is_whitespace) || registry.contains("://") {
        r.errors.push(format!(
            "ENCLII_REGISTRY: expected a registry prefix like ghcr.io/acme, got {registry:?}"
        ));
    }
    BuildConfig {
        registry,
        self_url: http_url(r, "ENCLII_SELF_URL")
            .unwrap_or_else(|| format!("http://localhost:{port}")),
        roundhouse_url: http_url(r, "ENCLII_ROUNDHOUSE_URL"),
        roundhouse_key: r.secret("ENCLII_ROUNDHOUSE_API_KEY"),
        github_webhook_secret: r.secret("ENCLII_GITHUB_WEBHOOK_SECRET"),
        build_timeout: build_timeout(r),
    }
}

/// `ENCLII_BUILD_TIMEOUT`: 1 minute to 24 hours, default 30 minutes.
fn build_timeout(r: &mut Reader<'_>) -> std::time::Duration {
    r.duration(
        "ENCLII_BUILD_TIMEOUT",
        std::time::Duration::from_secs(30 * 60),
        (60, 86_400),
        "1 minute to 24 hours (e.g. 1800, 30m, 2h)",
    )
}
