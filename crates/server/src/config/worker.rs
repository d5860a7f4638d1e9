//! `switchyard worker` settings (`ENCLII_WORKER_*`): consumer concurrency, reclaim timeout,
//! attempts and backoff, relay polling, stream trimming, and the port of its probe listener.

use std::time::Duration;

use switchyard_queue::{Backoff, ConsumerSettings};
use switchyard_worker::WorkerSettings;

use super::Reader;

/// The worker's settings and where `switchyard worker` serves `/health/live` and `/metrics`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub settings: WorkerSettings,
    /// `ENCLII_WORKER_PORT`: the worker's probe and metrics port (`dev` serves them on the API).
    pub port: u16,
}

/// A positive whole number; 0 is reported and replaced by 1.
fn at_least_one(r: &mut Reader<'_>, name: &str, default: u64, expected: &str) -> u64 {
    let value = r.parse(name, default, expected);
    if value == 0 {
        r.errors.push(format!("{name}: must be at least 1"));
    }
    value.max(1)
}

pub(super) fn worker(r: &mut Reader<'_>) -> WorkerConfig {
    let defaults = WorkerSettings::default();
    let concurrency = at_least_one(
        r,
        "ENCLII_WORKER_CONCURRENCY",
        defaults.consumer.concurrency as u64,
        "a number of jobs",
    );
    let claim_idle = at_least_one(
        r,
        "ENCLII_WORKER_CLAIM_IDLE_SECS",
        defaults.consumer.claim_idle.as_secs(),
        "a whole number of seconds",
    );
    let max_attempts = at_least_one(
        r,
        "ENCLII_WORKER_MAX_ATTEMPTS",
        u64::from(defaults.consumer.max_attempts),
        "a number of attempts",
    );
    let backoff_base = at_least_one(
        r,
        "ENCLII_WORKER_BACKOFF_BASE_MS",
        u64::try_from(defaults.consumer.backoff.base.as_millis()).unwrap_or(1000),
        "milliseconds",
    );
    let backoff_max = at_least_one(
        r,
        "ENCLII_WORKER_BACKOFF_MAX_SECS",
        defaults.consumer.backoff.max.as_secs(),
        "a whole number of seconds",
    );
    let relay_poll = at_least_one(
        r,
        "ENCLII_WORKER_RELAY_POLL_MS",
        u64::try_from(defaults.relay_poll.as_millis()).unwrap_or(200),
        "milliseconds",
    );
    let relay_batch = at_least_one(
        r,
        "ENCLII_WORKER_RELAY_BATCH",
        u64::try_from(defaults.relay_batch).unwrap_or(100),
        "a number of events",
    );
    let stream_max_len = at_least_one(
        r,
        "ENCLII_WORKER_STREAM_MAX_LEN",
        defaults.consumer.stream_max_len as u64,
        "a number of entries",
    );
    let port = r.parse("ENCLII_WORKER_PORT", 4201u16, "a port number 1-65535");
    if port == 0 {
        r.errors
            .push("ENCLII_WORKER_PORT: expected a port number 1-65535, got \"0\"".into());
    }
    WorkerConfig {
        settings: WorkerSettings {
            consumer: ConsumerSettings {
                concurrency: usize::try_from(concurrency).unwrap_or(usize::MAX),
                claim_idle: Duration::from_secs(claim_idle),
                max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
                backoff: Backoff {
                    base: Duration::from_millis(backoff_base),
                    max: Duration::from_secs(backoff_max),
                },
                stream_max_len: usize::try_from(stream_max_len).unwrap_or(usize::MAX),
                ..defaults.consumer
            },
            relay_poll: Duration::from_millis(relay_poll),
            relay_batch: i64::try_from(relay_batch).unwrap_or(i64::MAX),
            ..defaults
        },
        port,
    }
}

/// The worker's settings for `config check`.
pub(crate) fn report(config: &WorkerConfig) -> Vec<(&'static str, String)> {
    let (s, c) = (&config.settings, &config.settings.consumer);
    vec![
        ("ENCLII_WORKER_CONCURRENCY", c.concurrency.to_string()),
        (
            "ENCLII_WORKER_CLAIM_IDLE_SECS",
            c.claim_idle.as_secs().to_string(),
        ),
        ("ENCLII_WORKER_MAX_ATTEMPTS", c.max_attempts.to_string()),
        (
            "ENCLII_WORKER_BACKOFF_BASE_MS",
            c.backoff.base.as_millis().to_string(),
        ),
        (
            "ENCLII_WORKER_BACKOFF_MAX_SECS",
            c.backoff.max.as_secs().to_string(),
        ),
        (
            "ENCLII_WORKER_RELAY_POLL_MS",
            s.relay_poll.as_millis().to_string(),
        ),
        ("ENCLII_WORKER_RELAY_BATCH", s.relay_batch.to_string()),
        ("ENCLII_WORKER_STREAM_MAX_LEN", c.stream_max_len.to_string()),
        ("ENCLII_WORKER_PORT", config.port.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::Config;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The worker settings as `config check` prints them.
    fn reported(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let config = Config::from_vars(&vars(pairs)).unwrap();
        super::report(&config.worker)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults() {
        let defaults = [
            ("ENCLII_WORKER_CONCURRENCY", "4"),
            ("ENCLII_WORKER_CLAIM_IDLE_SECS", "60"),
            ("ENCLII_WORKER_MAX_ATTEMPTS", "8"),
            ("ENCLII_WORKER_BACKOFF_BASE_MS", "1000"),
            ("ENCLII_WORKER_BACKOFF_MAX_SECS", "300"),
            ("ENCLII_WORKER_RELAY_POLL_MS", "200"),
            ("ENCLII_WORKER_RELAY_BATCH", "100"),
            ("ENCLII_WORKER_STREAM_MAX_LEN", "100000"),
            ("ENCLII_WORKER_PORT", "4201"),
        ];
        assert_eq!(reported(&[]), owned(&defaults));
    }

    #[test]
    fn every_variable_is_read_and_reported() {
        let set = [
            ("ENCLII_WORKER_CONCURRENCY", "16"),
            ("ENCLII_WORKER_CLAIM_IDLE_SECS", "5"),
            ("ENCLII_WORKER_MAX_ATTEMPTS", "3"),
            ("ENCLII_WORKER_BACKOFF_BASE_MS", "250"),
            ("ENCLII_WORKER_BACKOFF_MAX_SECS", "30"),
            ("ENCLII_WORKER_RELAY_POLL_MS", "50"),
            ("ENCLII_WORKER_RELAY_BATCH", "10"),
            ("ENCLII_WORKER_STREAM_MAX_LEN", "1000"),
            ("ENCLII_WORKER_PORT", "9000"),
        ];
        assert_eq!(reported(&set), owned(&set));
        let worker = Config::from_vars(&vars(&set)).unwrap().worker;
        assert_eq!(worker.settings.consumer.claim_idle.as_secs(), 5);
        assert_eq!(worker.settings.consumer.backoff.base.as_millis(), 250);
        assert_eq!(worker.settings.relay_poll.as_millis(), 50);
    }

    #[test]
    fn config_check_lists_every_worker_variable() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        let names: Vec<&str> = super::report(&config.worker)
            .iter()
            .map(|(n, _)| *n)
            .collect();
        let known: Vec<&str> = super::super::KNOWN_VARS
            .iter()
            .copied()
            .filter(|v| v.starts_with("ENCLII_WORKER_"))
            .collect();
        assert_eq!(names, known);
    }

    #[test]
    fn zero_and_garbage_name_their_variable() {
        let errors = Config::from_vars(&vars(&[
            ("ENCLII_WORKER_CONCURRENCY", "0"),
            ("ENCLII_WORKER_MAX_ATTEMPTS", "many"),
            ("ENCLII_WORKER_PORT", "0"),
        ]))
        .unwrap_err()
        .0;
        assert!(
            errors
                .iter()
                .any(|e| e == "ENCLII_WORKER_CONCURRENCY: must be at least 1")
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("ENCLII_WORKER_MAX_ATTEMPTS: expected"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("ENCLII_WORKER_PORT: expected"))
        );
    }
}
