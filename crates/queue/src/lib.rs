//! Redis: the connection every Redis user shares, the health probe, live login sessions
//! (`sessions`), pending browser sign-ins (`login_state`); streams, consumer groups and the
//! outbox relay arrive with the durable-jobs issue. The only crate that talks to Redis.

mod login_state;
mod rate;
mod sessions;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use switchyard_domain::Error;

pub use rate::RateCount;
pub use sessions::Rotation;

/// Connection settings, built by the server's config loader.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub url: SecretString,
    /// Prefix for every key this process writes, so tests and tenants of one server stay apart.
    pub key_prefix: String,
}

/// Checks that `url` is a usable `redis://` URL without connecting. The error never repeats the
/// URL, which may hold a password.
pub fn parse_url(url: &SecretString) -> Result<(), String> {
    redis::Client::open(url.expose_secret())
        .map(drop)
        .map_err(|_| "not a valid redis:// URL".to_owned())
}

/// A shared, self-reconnecting Redis connection. Cheap to clone.
#[derive(Clone)]
pub struct Redis {
    manager: ConnectionManager,
    key_prefix: String,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Creates the connection without connecting: the first command connects, and a Redis that
    /// is down at start is retried in the background instead of failing the process.
    pub fn connect_lazy(config: &RedisConfig) -> Result<Self, Error> {
        let invalid = |_| Error::invalid("redis_url", "not a valid redis:// URL");
        let client = redis::Client::open(config.url.expose_secret()).map_err(invalid)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|e| Error::internal("creating the redis connection", e))?;
        Ok(Self {
            manager,
            key_prefix: config.key_prefix.clone(),
        })
    }

    fn manager(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// The full key for `name` under this process's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.key_prefix)
    }

    /// One `PING`, bounded by `timeout`; returns the round-trip time.
    pub async fn ping(&self, timeout: Duration) -> Result<Duration, Error> {
        let started = std::time::Instant::now();
        let mut conn = self.manager();
        let ping = redis::cmd("PING");
        let probe = ping.query_async::<String>(&mut conn);
        match tokio::time::timeout(timeout, probe).await {
            Ok(Ok(_)) => Ok(started.elapsed()),
            Ok(Err(e)) => Err(Error::unavailable("redis unreachable", e)),
            Err(_) => Err(Error::no_answer("redis", timeout)),
        }
    }
}
