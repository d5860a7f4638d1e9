//! Configuration: the only place that reads `ENCLII_*` environment variables. Every value is
//! parsed into a typed struct at start, and every problem names the variable that caused it.

use std::{collections::BTreeMap, fmt, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use switchyard_api::HttpConfig;
use switchyard_db::DbConfig;
use switchyard_queue::RedisConfig;

use reader::Reader;

mod auth;
mod billing;
mod builds;
mod deploys;
mod domains;
mod oidc;
mod origins;
mod reader;
mod secrets;
mod worker;

pub use auth::AuthConfig;
pub use billing::BillingConfig;
pub(crate) use billing::report as billing_report;
pub use builds::BuildConfig;
pub use deploys::DeployConfig;
pub(crate) use deploys::report as deploy_report;
pub use domains::DomainConfig;
pub(crate) use domains::report as domains_report;
pub(crate) use oidc::report as oidc_report;
pub use secrets::EnvVarKeyConfig;
pub use worker::WorkerConfig;
pub(crate) use worker::report as worker_report;

/// Every variable this binary reads; `config check` reports other `ENCLII_*` names as unknown.
pub const KNOWN_VARS: &[&str] = &[
    "ENCLII_ENVIRONMENT",
    "ENCLII_ENV",
    "ENCLII_PORT",
    "ENCLII_BIND_ADDRESS",
    "ENCLII_DATABASE_URL",
    "ENCLII_DB_URL",
    "ENCLII_DB_POOL_SIZE",
    "ENCLII_REDIS_URL",
    "ENCLII_REDIS_HOST",
    "ENCLII_REDIS_PORT",
    "ENCLII_REDIS_PASSWORD",
    "ENCLII_REDIS_KEY_PREFIX",
    "ENCLII_ALLOWED_ORIGINS",
    "ENCLII_WEBSOCKET_ALLOWED_ORIGINS",
    "ENCLII_MAX_REQUEST_SIZE_BYTES",
    "ENCLII_REQUEST_TIMEOUT_SECS",
    "ENCLII_SHUTDOWN_TIMEOUT_SECS",
    "ENCLII_HSTS_ENABLED",
    "ENCLII_TRUSTED_PROXIES",
    "ENCLII_HEALTH_INTERVAL_MS",
    "ENCLII_MIGRATION_LOCK_TIMEOUT_SECS",
    "ENCLII_LOG_LEVEL",
    "ENCLII_LOG_FORMAT",
    "ENCLII_AUTH_MODE",
    "ENCLII_JWT_SIGNING_KEY",
    "ENCLII_JWT_SIGNING_KEY_FILE",
    "ENCLII_JWT_PREVIOUS_KEYS_FILE",
    "ENCLII_ACCESS_TOKEN_EXPIRE_MINUTES",
    "ENCLII_REFRESH_TOKEN_EXPIRE_DAYS",
    "ENCLII_DEFAULT_ROLE",
    "ENCLII_ADMIN_EMAILS",
    "ENCLII_BOOTSTRAP_TOKEN",
    "ENCLII_EXTERNAL_JWKS_URL",
    "ENCLII_EXTERNAL_ISSUER",
    "ENCLII_EXTERNAL_AUDIENCE",
    "ENCLII_EXTERNAL_JWKS_CACHE_TTL",
    "ENCLII_OIDC_ISSUER",
    "ENCLII_OIDC_CLIENT_ID",
    "ENCLII_OIDC_CLIENT_SECRET",
    "ENCLII_OIDC_CLIENT_SECRET_FILE",
    "ENCLII_OIDC_REDIRECT_URL",
    "ENCLII_POST_LOGIN_REDIRECT_URL",
    "ENCLII_POST_LOGIN_REDIRECT_MODE",
    "ENCLII_UI_ORIGIN",
    "ENCLII_REGISTRY",
    "ENCLII_SELF_URL",
    "ENCLII_ROUNDHOUSE_URL",
    "ENCLII_ROUNDHOUSE_API_KEY",
    "ENCLII_ROUNDHOUSE_API_KEY_FILE",
    "ENCLII_GITHUB_WEBHOOK_SECRET",
    "ENCLII_GITHUB_WEBHOOK_SECRET_FILE",
    "ENCLII_BUILD_TIMEOUT",
    "ENCLII_ENVVAR_ENCRYPTION_KEY",
    "ENCLII_ENVVAR_ENCRYPTION_KEY_PREVIOUS",
    "ENCLII_WORKER_CONCURRENCY",
    "ENCLII_WORKER_CLAIM_IDLE_SECS",
    "ENCLII_WORKER_MAX_ATTEMPTS",
    "ENCLII_WORKER_BACKOFF_BASE_MS",
    "ENCLII_WORKER_BACKOFF_MAX_SECS",
    "ENCLII_WORKER_RELAY_POLL_MS",
    "ENCLII_WORKER_RELAY_BATCH",
    "ENCLII_WORKER_STREAM_MAX_LEN",
    "ENCLII_WORKER_PORT",
    "ENCLII_KUBE_CONFIG",
    "ENCLII_ROLLOUT_TIMEOUT",
    "ENCLII_AUTO_ROLLBACK",
    "ENCLII_INGRESS_CLASS",
    "ENCLII_CERT_ISSUER",
    "ENCLII_REGISTRY_PULL_SECRET",
    "ENCLII_PLATFORM_DOMAIN",
    "ENCLII_DNS_RESOLVER",
    "ENCLII_BILLING_DEFAULT_PLAN",
    "ENCLII_WAYBILL_URL",
    "ENCLII_WAYBILL_API_KEY",
    "ENCLII_WAYBILL_API_KEY_FILE",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Staging,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    /// An `EnvFilter` directive, e.g. `info` or `info,sqlx=warn`.
    pub level: String,
    pub format: LogFormat,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: spans are exported over OTLP/HTTP when set.
    pub otlp_endpoint: Option<String>,
}

/// Everything the binary needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    /// `ENCLII_BIND_ADDRESS`; `None` means 0.0.0.0 for `serve` and 127.0.0.1 for `dev`.
    pub bind_address: Option<std::net::IpAddr>,
    pub http: HttpConfig,
    /// `None` when no URL is set: `serve` refuses, `dev` starts its own PostgreSQL.
    pub database: Option<DbConfig>,
    /// `None` when neither a URL nor a host is set: the cache is reported `disabled`.
    pub redis: Option<RedisConfig>,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub builds: builds::BuildConfig,
    /// `ENCLII_ENVVAR_ENCRYPTION_KEY[_PREVIOUS]`.
    pub envvar_keys: EnvVarKeyConfig,
    pub health_interval: Duration,
    pub migration_lock_wait: Duration,
    /// `switchyard worker` (and the worker inside `dev`).
    pub worker: WorkerConfig,
    /// The default plan and Waybill forwarding.
    pub billing: billing::BillingConfig,
    /// Where deployments go.
    pub deploys: DeployConfig,
    /// `ENCLII_PLATFORM_DOMAIN`, `ENCLII_DNS_RESOLVER`.
    pub domains: DomainConfig,
}

impl Config {
    /// The custom domain settings, with the cert-manager issuer the renderer uses.
    pub fn domain_settings(&self) -> switchyard_core::DomainSettings {
        self.domains
            .settings(self.deploys.settings.render.cert_issuer.clone())
    }
}

/// Every problem found, each naming its variable.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The process environment, read once.
pub fn process_env() -> BTreeMap<String, String> {
    #[expect(
        clippy::disallowed_methods,
        reason = "this is the one place that reads the environment"
    )]
    std::env::vars().collect()
}

/// `ENCLII_*` names that nothing reads (typos, or variables of the Go original such as
/// `ENCLII_JWT_SECRET`).
pub fn unknown_vars(vars: &BTreeMap<String, String>) -> Vec<String> {
    vars.keys()
        .filter(|k| k.starts_with("ENCLII_") && !KNOWN_VARS.contains(&k.as_str()))
        .cloned()
        .collect()
}

impl Config {
    /// Reads and validates the configuration from `vars` (the process environment in
    /// production, a map in tests).
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<Self, ConfigErrors> {
        let mut r = Reader {
            vars,
            errors: Vec::new(),
        };
        let environment = environment(&mut r);
        let port = r.parse("ENCLII_PORT", 4200u16, "a port number 1-65535");
        if port == 0 {
            r.errors
                .push("ENCLII_PORT: expected a port number 1-65535, got \"0\"".into());
        }
        let bind_address = r.get("ENCLII_BIND_ADDRESS").is_some().then(|| {
            r.parse(
                "ENCLII_BIND_ADDRESS",
                std::net::IpAddr::from([0, 0, 0, 0]),
                "an IP address",
            )
        });
        let http = HttpConfig {
            port,
            allowed_origins: origins::cors(&mut r),
            websocket_origins: origins::websocket(&mut r),
            body_limit_bytes: r.parse(
                "ENCLII_MAX_REQUEST_SIZE_BYTES",
                1024 * 1024,
                "a number of bytes",
            ),
            request_timeout: r.secs("ENCLII_REQUEST_TIMEOUT_SECS", 30),
            shutdown_timeout: r.secs("ENCLII_SHUTDOWN_TIMEOUT_SECS", 20),
            hsts: r.parse(
                "ENCLII_HSTS_ENABLED",
                environment == Environment::Production,
                "true or false",
            ),
            trusted_proxies: trusted_proxies(&mut r),
            browser_login: oidc::browser_login(&mut r),
        };
        let database = database(&mut r);
        let redis = redis(&mut r);
        let log = LogConfig {
            level: r.get("ENCLII_LOG_LEVEL").unwrap_or("info").to_owned(),
            format: match r.get("ENCLII_LOG_FORMAT") {
                None | Some("pretty" | "text") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    r.errors.push(format!(
                        "ENCLII_LOG_FORMAT: expected json or pretty, got {other:?}"
                    ));
                    LogFormat::Pretty
                }
            },
            otlp_endpoint: r.get("OTEL_EXPORTER_OTLP_ENDPOINT").map(str::to_owned),
        };
        if tracing_subscriber::EnvFilter::try_new(&log.level).is_err() {
            r.errors.push(format!(
                "ENCLII_LOG_LEVEL: expected a level (error, warn, info, debug, trace) or filter, got {:?}",
                log.level
            ));
        }
        let health_interval =
            Duration::from_millis(r.parse("ENCLII_HEALTH_INTERVAL_MS", 1000u64, "milliseconds"));
        if health_interval.is_zero() {
            r.errors
                .push("ENCLII_HEALTH_INTERVAL_MS: must be more than 0".into());
        }
        let migration_lock_wait = r.secs("ENCLII_MIGRATION_LOCK_TIMEOUT_SECS", 60);
        let auth = auth::auth(&mut r);
        let builds = builds::builds(&mut r, port);
        let envvar_keys = secrets::envvar_keys(&mut r);
        let worker = worker::worker(&mut r);
        let deploys = deploys::deploys(&mut r);
        let domains = domains::domains(&mut r);
        let billing = billing::billing(&mut r);
        if !r.errors.is_empty() {
            return Err(ConfigErrors(r.errors));
        }
        Ok(Self {
            environment,
            bind_address,
            http,
            database,
            redis,
            log,
            auth,
            builds,
            envvar_keys,
            health_interval,
            migration_lock_wait,
            worker,
            deploys,
            domains,
            billing,
        })
    }
}

fn environment(r: &mut Reader<'_>) -> Environment {
    let (name, value) = match (r.get("ENCLII_ENVIRONMENT"), r.get("ENCLII_ENV")) {
        (Some(v), _) => ("ENCLII_ENVIRONMENT", v),
        (None, Some(v)) => ("ENCLII_ENV", v),
        (None, None) => return Environment::Development,
    };
    match value.to_ascii_lowercase().as_str() {
        "development" | "dev" => Environment::Development,
        "staging" => Environment::Staging,
        "production" | "prod" => Environment::Production,
        _ => {
            r.errors.push(format!(
                "{name}: expected development, staging or production, got {value:?}"
            ));
            Environment::Development
        }
    }
}

fn trusted_proxies(r: &mut Reader<'_>) -> Vec<switchyard_api::IpNet> {
    let raw = r
        .get("ENCLII_TRUSTED_PROXIES")
        .unwrap_or_default()
        .to_owned();
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            p.parse()
                .map_err(|e| r.errors.push(format!("ENCLII_TRUSTED_PROXIES: {e}")))
                .ok()
        })
        .collect()
}

fn database(r: &mut Reader<'_>) -> Option<DbConfig> {
    let (name, url) = match (r.get("ENCLII_DATABASE_URL"), r.get("ENCLII_DB_URL")) {
        (Some(url), _) => ("ENCLII_DATABASE_URL", url),
        (None, Some(url)) => ("ENCLII_DB_URL", url),
        (None, None) => return None,
    };
    let url = SecretString::from(url.to_owned());
    if let Err(e) = switchyard_db::parse_url(&url) {
        r.errors.push(format!("{name}: {e}"));
        return None;
    }
    let mut config = DbConfig::new(url);
    config.max_connections = r.parse("ENCLII_DB_POOL_SIZE", 10u32, "a number of connections");
    Some(config)
}

fn redis(r: &mut Reader<'_>) -> Option<RedisConfig> {
    let key_prefix = r
        .get("ENCLII_REDIS_KEY_PREFIX")
        .unwrap_or("enclii:")
        .to_owned();
    let (name, url) = if let Some(url) = r.get("ENCLII_REDIS_URL") {
        ("ENCLII_REDIS_URL", url.to_owned())
    } else {
        let host = r.get("ENCLII_REDIS_HOST")?.to_owned();
        let port: u16 = r.parse("ENCLII_REDIS_PORT", 6379, "a port number");
        let auth = r
            .get("ENCLII_REDIS_PASSWORD")
            .map(|p| format!(":{}@", percent_encode(p)))
            .unwrap_or_default();
        ("ENCLII_REDIS_HOST", format!("redis://{auth}{host}:{port}"))
    };
    let url = SecretString::from(url);
    if let Err(e) = switchyard_queue::parse_url(&url) {
        r.errors.push(format!("{name}: {e}"));
        return None;
    }
    Some(RedisConfig { url, key_prefix })
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A URL with its password replaced by `****`, for printing.
pub fn redact_url(url: &SecretString) -> String {
    let url = url.expose_secret();
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return "****".to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        None => url.to_owned(),
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            let masked = if userinfo.contains(':') {
                format!("{user}:****")
            } else {
                user.to_owned()
            };
            format!("{}{masked}{}", &url[..scheme_end], &rest[at..])
        }
    }
}

#[cfg(test)]
mod tests;
