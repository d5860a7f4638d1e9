//! `switchyard config check`: validates the environment and prints the effective configuration
//! with secrets redacted, plus any `ENCLII_*` variable nothing reads.

use std::{collections::BTreeMap, fmt::Write as _};

use crate::config::{Config, LogFormat, redact_url, unknown_vars};

/// The report, and whether unknown variables were found.
pub fn report(config: &Config, vars: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut line = |name: &str, value: String| {
        let _ = writeln!(out, "{name:<34} {value}");
    };
    line("ENCLII_ENVIRONMENT", config.environment.as_str().to_owned());
    line(
        "ENCLII_BIND_ADDRESS",
        config.bind_address.map_or_else(
            || "(0.0.0.0; 127.0.0.1 for dev)".to_owned(),
            |a| a.to_string(),
        ),
    );
    line("ENCLII_PORT", config.http.port.to_string());
    line(
        "ENCLII_DATABASE_URL",
        config
            .database
            .as_ref()
            .map_or_else(|| "(not set)".to_owned(), |d| redact_url(&d.url)),
    );
    line(
        "ENCLII_DB_POOL_SIZE",
        config
            .database
            .as_ref()
            .map_or_else(|| "-".to_owned(), |d| d.max_connections.to_string()),
    );
    line(
        "ENCLII_REDIS_URL",
        config.redis.as_ref().map_or_else(
            || "(not set: cache disabled)".to_owned(),
            |r| redact_url(&r.url),
        ),
    );
    line(
        "ENCLII_REDIS_KEY_PREFIX",
        config
            .redis
            .as_ref()
            .map_or_else(|| "-".to_owned(), |r| r.key_prefix.clone()),
    );
    let origins: Vec<&str> = config
        .http
        .allowed_origins
        .iter()
        .filter_map(|o| o.to_str().ok())
        .collect();
    line("ENCLII_ALLOWED_ORIGINS", origins.join(","));
    line(
        "ENCLII_WEBSOCKET_ALLOWED_ORIGINS",
        config.http.websocket_origins.as_ref().map_or_else(
            || "(not set: the CORS origins)".to_owned(),
            |list| {
                list.iter()
                    .filter_map(|o| o.to_str().ok())
                    .collect::<Vec<_>>()
                    .join(",")
            },
        ),
    );
    line(
        "ENCLII_MAX_REQUEST_SIZE_BYTES",
        config.http.body_limit_bytes.to_string(),
    );
    line(
        "ENCLII_REQUEST_TIMEOUT_SECS",
        config.http.request_timeout.as_secs().to_string(),
    );
    line(
        "ENCLII_SHUTDOWN_TIMEOUT_SECS",
        config.http.shutdown_timeout.as_secs().to_string(),
    );
    line("ENCLII_HSTS_ENABLED", config.http.hsts.to_string());
    let proxies: Vec<String> = config
        .http
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    line("ENCLII_TRUSTED_PROXIES", proxies.join(","));
    line(
        "ENCLII_JWT_SIGNING_KEY",
        if config.auth.signing_key.is_some() {
            "(set, redacted)"
        } else {
            "(not set)"
        }
        .to_owned(),
    );
    line(
        "ENCLII_ACCESS_TOKEN_EXPIRE_MINUTES",
        config.auth.access_ttl.whole_minutes().to_string(),
    );
    line(
        "ENCLII_REFRESH_TOKEN_EXPIRE_DAYS",
        config.auth.refresh_ttl.whole_days().to_string(),
    );
    line("ENCLII_DEFAULT_ROLE", config.auth.default_role.to_string());
    line("ENCLII_ADMIN_EMAILS", config.auth.admin_emails.join(","));
    for (name, value) in crate::config::oidc_report(config) {
        line(name, value);
    }
    let (current, previous) = config.envvar_keys.describe();
    line("ENCLII_ENVVAR_ENCRYPTION_KEY", current);
    line("ENCLII_ENVVAR_ENCRYPTION_KEY_PREVIOUS", previous);
    for (name, value) in crate::config::worker_report(&config.worker)
        .into_iter()
        .chain(crate::config::deploy_report(&config.deploys))
    {
        line(name, value);
    }
    for (name, value) in crate::config::domains_report(&config.domains) {
        line(name, value);
    }
    for (name, value) in crate::config::billing_report(&config.billing) {
        line(name, value);
    }
    line(
        "ENCLII_HEALTH_INTERVAL_MS",
        config.health_interval.as_millis().to_string(),
    );
    line(
        "ENCLII_MIGRATION_LOCK_TIMEOUT_SECS",
        config.migration_lock_wait.as_secs().to_string(),
    );
    line("ENCLII_LOG_LEVEL", config.log.level.clone());
    line(
        "ENCLII_LOG_FORMAT",
        match config.log.format {
            LogFormat::Json => "json",
            LogFormat::Pretty => "pretty",
        }
        .to_owned(),
    );
    line(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        config
            .log
            .otlp_endpoint
            .clone()
            .unwrap_or_else(|| "(not set: no trace export)".to_owned()),
    );
    let unknown = unknown_vars(vars);
    for name in &unknown {
        let _ = writeln!(
            out,
            "warning: {name} is set but switchyard does not read it"
        );
    }
    (out, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_unknown_names_reported() {
        let vars: BTreeMap<String, String> = [
            (
                "ENCLII_DATABASE_URL",
                "postgres://app:s3cret@db:5432/enclii",
            ),
            ("ENCLII_REDIS_PASSWORD", "r3dis"),
            ("ENCLII_REDIS_HOST", "cache"),
            ("ENCLII_JWT_SECRET", "old"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let config = Config::from_vars(&vars).unwrap();
        let (text, unknown) = report(&config, &vars);
        assert!(
            !text.contains("s3cret") && !text.contains("r3dis"),
            "{text}"
        );
        assert!(
            text.contains("postgres://app:****@db:5432/enclii"),
            "{text}"
        );
        assert_eq!(unknown, vec!["ENCLII_JWT_SECRET".to_owned()]);
    }
}
