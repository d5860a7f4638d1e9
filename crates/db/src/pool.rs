//! The sqlx pool: how it is configured, opened and probed.

use std::{str::FromStr, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use switchyard_domain::Error;

/// Pool settings, built by the server's config loader.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl DbConfig {
    pub fn new(url: SecretString) -> Self {
        Self {
            url,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// Checks that `url` is a usable PostgreSQL URL without connecting. The error never repeats the
/// URL, which may hold a password.
pub fn parse_url(url: &SecretString) -> Result<PgConnectOptions, String> {
    let url = url.expose_secret();
    let invalid = || "not a valid postgres:// URL".to_owned();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(invalid());
    }
    PgConnectOptions::from_str(url).map_err(|_| invalid())
}

/// Opens a pool that connects on first use, so a process can start (and report itself unready)
/// while PostgreSQL is still down, and recovers by itself when it comes back.
pub fn connect_lazy(config: &DbConfig) -> Result<PgPool, Error> {
    let options = parse_url(&config.url).map_err(|message| Error::InvalidInput {
        field: Some("database_url".to_owned()),
        message,
    })?;
    Ok(PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        .connect_lazy_with(options.application_name("switchyard")))
}

/// One round trip to the database, bounded by `timeout`.
pub async fn ping(pool: &PgPool, timeout: Duration) -> Result<Duration, Error> {
    let started = std::time::Instant::now();
    let probe = sqlx::query_scalar!(r#"select 1 as "one!""#).fetch_one(pool);
    match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(_)) => Ok(started.elapsed()),
        Ok(Err(e)) => Err(Error::unavailable("database unreachable", e)),
        Err(_) => Err(Error::no_answer("database", timeout)),
    }
}

/// What the pool holds right now, for the metrics gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

pub fn pool_stats(pool: &PgPool) -> PoolStats {
    PoolStats {
        size: pool.size(),
        idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        max: pool.options().get_max_connections(),
    }
}
