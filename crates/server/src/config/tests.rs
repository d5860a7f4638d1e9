//! Tests of configuration parsing: defaults, aliases, and one test per validation rule.

use super::*;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn errors(pairs: &[(&str, &str)]) -> Vec<String> {
    Config::from_vars(&vars(pairs)).unwrap_err().0
}

#[test]
fn defaults_match_the_original() {
    let config = Config::from_vars(&vars(&[])).unwrap();
    assert_eq!(config.http.port, 4200);
    assert_eq!(config.environment, Environment::Development);
    assert!(config.database.is_none());
    assert!(config.redis.is_none());
    assert_eq!(config.http.body_limit_bytes, 1024 * 1024);
    assert!(!config.http.hsts);
    assert_eq!(config.log.format, LogFormat::Pretty);
    assert!(
        config
            .http
            .allowed_origins
            .iter()
            .any(|o| o == "http://localhost:3000")
    );
}

#[test]
fn websocket_origins_default_to_the_cors_origins() {
    let config = Config::from_vars(&vars(&[(
        "ENCLII_ALLOWED_ORIGINS",
        "https://app.enclii.dev",
    )]))
    .unwrap();
    assert_eq!(config.http.websocket_origins, None);
    assert_eq!(config.http.websocket_origins(), ["https://app.enclii.dev"]);
    let config = Config::from_vars(&vars(&[
        ("ENCLII_ALLOWED_ORIGINS", "https://app.enclii.dev"),
        (
            "ENCLII_WEBSOCKET_ALLOWED_ORIGINS",
            "https://logs.enclii.dev, http://localhost:3000",
        ),
    ]))
    .unwrap();
    assert_eq!(
        config.http.websocket_origins(),
        ["https://logs.enclii.dev", "http://localhost:3000"]
    );
}

#[test]
fn db_url_alias_of_old_manifests_is_honoured() {
    let config =
        Config::from_vars(&vars(&[("ENCLII_DB_URL", "postgres://u:p@db/enclii")])).unwrap();
    assert_eq!(
        redact_url(&config.database.unwrap().url),
        "postgres://u:****@db/enclii"
    );
}

#[test]
fn database_url_wins_over_alias() {
    let config = Config::from_vars(&vars(&[
        ("ENCLII_DATABASE_URL", "postgres://a@one/x"),
        ("ENCLII_DB_URL", "postgres://b@two/y"),
    ]))
    .unwrap();
    assert_eq!(
        redact_url(&config.database.unwrap().url),
        "postgres://a@one/x"
    );
}

#[test]
fn legacy_redis_host_port_password_build_a_url() {
    let config = Config::from_vars(&vars(&[
        ("ENCLII_REDIS_HOST", "redis.internal"),
        ("ENCLII_REDIS_PORT", "6380"),
        ("ENCLII_REDIS_PASSWORD", "p@ss"),
    ]))
    .unwrap();
    let redis = config.redis.unwrap();
    assert_eq!(
        redis.url.expose_secret(),
        "redis://:p%40ss@redis.internal:6380"
    );
    assert_eq!(redact_url(&redis.url), "redis://:****@redis.internal:6380");
    assert_eq!(redis.key_prefix, "enclii:");
}

#[test]
fn env_alias_selects_production_and_hsts() {
    let config = Config::from_vars(&vars(&[("ENCLII_ENV", "production")])).unwrap();
    assert_eq!(config.environment, Environment::Production);
    assert!(config.http.hsts);
}

#[test]
fn each_invalid_value_is_reported_with_its_variable() {
    let cases = [
        ("ENCLII_PORT", "abc"),
        ("ENCLII_PORT", "0"),
        ("ENCLII_PORT", "70000"),
        ("ENCLII_BIND_ADDRESS", "localhost"),
        ("ENCLII_ENVIRONMENT", "prodution"),
        ("ENCLII_DATABASE_URL", "mysql://x"),
        ("ENCLII_REDIS_URL", "http://x"),
        ("ENCLII_ALLOWED_ORIGINS", "app.enclii.dev"),
        ("ENCLII_ALLOWED_ORIGINS", "https://app.enclii.dev/"),
        ("ENCLII_WEBSOCKET_ALLOWED_ORIGINS", "wss://app.enclii.dev"),
        ("ENCLII_MAX_REQUEST_SIZE_BYTES", "1MB"),
        ("ENCLII_REQUEST_TIMEOUT_SECS", "-1"),
        ("ENCLII_HSTS_ENABLED", "yes"),
        ("ENCLII_LOG_FORMAT", "xml"),
        ("ENCLII_LOG_LEVEL", "loud=="),
        ("ENCLII_HEALTH_INTERVAL_MS", "0"),
        ("ENCLII_DB_POOL_SIZE", "many"),
        ("ENCLII_TRUSTED_PROXIES", "10.0.0.0/40"),
        ("ENCLII_AUTH_MODE", "saml"),
        ("ENCLII_JWT_SIGNING_KEY", "not a pem"),
        ("ENCLII_JWT_SIGNING_KEY_FILE", "/nonexistent/key.pem"),
        ("ENCLII_JWT_PREVIOUS_KEYS_FILE", "/nonexistent/keys.pem"),
        ("ENCLII_ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
        ("ENCLII_REFRESH_TOKEN_EXPIRE_DAYS", "365"),
        ("ENCLII_DEFAULT_ROLE", "owner"),
    ];
    for (name, value) in cases {
        let mut pairs = vec![(name, value)];
        if name == "ENCLII_DB_POOL_SIZE" {
            pairs.push(("ENCLII_DATABASE_URL", "postgres://x@y/z"));
        }
        let errors = errors(&pairs);
        assert_eq!(errors.len(), 1, "{name}={value}: {errors:?}");
        assert!(errors[0].starts_with(name), "{name}={value}: {errors:?}");
    }
}

#[test]
fn errors_never_echo_a_database_password() {
    let errors = errors(&[("ENCLII_DATABASE_URL", "postgres://u:hunter2@db:notaport/x")]);
    assert!(!errors.concat().contains("hunter2"), "{errors:?}");
}

#[test]
fn all_problems_are_reported_at_once() {
    let errors = errors(&[("ENCLII_PORT", "x"), ("ENCLII_LOG_FORMAT", "xml")]);
    assert_eq!(errors.len(), 2);
}

#[test]
fn unknown_enclii_variables_are_listed() {
    let unknown = unknown_vars(&vars(&[
        ("ENCLII_JWT_SECRET", "x"),
        ("ENCLII_PORT", "4200"),
        ("HOME", "/root"),
    ]));
    assert_eq!(unknown, vec!["ENCLII_JWT_SECRET".to_owned()]);
}

#[test]
fn redact_keeps_urls_without_password() {
    let url = SecretString::from("redis://127.0.0.1:6379/0".to_owned());
    assert_eq!(redact_url(&url), "redis://127.0.0.1:6379/0");
}

#[test]
fn build_settings_are_read_and_checked() {
    let config = Config::from_vars(&vars(&[])).unwrap();
    assert_eq!(config.builds.build_timeout, Duration::from_secs(1800));
    assert_eq!(config.builds.registry, "ghcr.io/madfam-org");
    assert_eq!(config.builds.self_url, "http://localhost:4200");
    for (raw, secs) in [("1800", 1800), ("45m", 2700), ("2h", 7200), ("90s", 90)] {
        let config = Config::from_vars(&vars(&[("ENCLII_BUILD_TIMEOUT", raw)])).unwrap();
        assert_eq!(
            config.builds.build_timeout,
            Duration::from_secs(secs),
            "{raw}"
        );
    }
    for bad in ["soon", "10", "25h", "-5m"] {
        let e = errors(&[("ENCLII_BUILD_TIMEOUT", bad)]);
        assert!(
            e.iter().any(|e| e.starts_with("ENCLII_BUILD_TIMEOUT")),
            "{bad}: {e:?}"
        );
    }
    for (name, bad) in [
        ("ENCLII_ROUNDHOUSE_URL", "roundhouse:80"),
        ("ENCLII_SELF_URL", "ftp://x"),
        ("ENCLII_REGISTRY", "https://ghcr.io"),
    ] {
        let e = errors(&[(name, bad)]);
        assert!(e.iter().any(|e| e.starts_with(name)), "{name}: {e:?}");
    }
}

#[test]
fn domain_settings_are_parsed_and_named_when_wrong() {
    let config = Config::from_vars(&vars(&[])).unwrap();
    assert!(config.domains.platform_domain.is_none());
    assert!(config.domains.dns_resolver.is_none());
    let config = Config::from_vars(&vars(&[
        ("ENCLII_PLATFORM_DOMAIN", "Enclii.DEV"),
        ("ENCLII_DNS_RESOLVER", "10.43.0.10"),
    ]))
    .unwrap();
    assert_eq!(
        config.domains.platform_domain.unwrap().as_str(),
        "enclii.dev"
    );
    assert_eq!(
        config.domains.dns_resolver.unwrap().to_string(),
        "10.43.0.10:53"
    );
    let config = Config::from_vars(&vars(&[("ENCLII_DNS_RESOLVER", "[::1]:5353")])).unwrap();
    assert_eq!(config.domains.dns_resolver.unwrap().port(), 5353);
    let errors = errors(&[
        ("ENCLII_PLATFORM_DOMAIN", "*.enclii.dev"),
        ("ENCLII_DNS_RESOLVER", "dns.google"),
    ]);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("ENCLII_PLATFORM_DOMAIN:")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("ENCLII_DNS_RESOLVER:")),
        "{errors:?}"
    );
}
