//! Redis: the connection every Redis user shares, the health probe, live login sessions
//! (`sessions`), pending browser sign-ins (`login_state`), rate counters, and the durable jobs:
//! stream primitives (`stream`), the [`Job`] trait and [`Message`] (`job`), and the per-topic
//! [`Consumer`]. The only crate that talks to Redis.

mod backoff;
mod consumer;
mod job;
mod login_state;
mod rate;
mod sessions;
mod stream;
mod trace;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use switchyard_domain::Error;

pub use backoff::Backoff;
pub use consumer::{Consumer, ConsumerMetrics, ConsumerSettings};
pub use job::{Handled, Job, JobError, Message};
pub use rate::RateCount;
pub use sessions::Rotation;
pub use stream::{Outgoing, StreamBacklog, StreamKeys};
pub use trace::parse_traceparent;

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
    client: redis::Client,
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
        Self::lazy(client, Duration::from_secs(2), config.key_prefix.clone())
    }

    fn lazy(
        client: redis::Client,
        response_timeout: Duration,
        key_prefix: String,
    ) -> Result<Self, Error> {
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(response_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
            .map_err(|e| Error::internal("creating the redis connection", e))?;
        Ok(Self {
            client,
            manager,
            key_prefix,
        })
    }

    /// A second connection to the same server with the same key prefix, for commands that block
    /// (a blocking read on the shared connection would hold up every other caller), answering
    /// within `response_timeout`.
    pub fn dedicated(&self, response_timeout: Duration) -> Result<Self, Error> {
        Self::lazy(
            self.client.clone(),
            response_timeout,
            self.key_prefix.clone(),
        )
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
