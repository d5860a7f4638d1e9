//! The worker's Prometheus registry, per topic: the outbox backlog (unpublished rows) and lag (age
//! of the oldest unpublished row), what waits in the stream (pending, undelivered, retries),
//! relay publishes, job attempts, successes, retries, skipped duplicates and dead letters. The
//! backlog gauges are refreshed in the background, never per scrape.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, atomic::AtomicU64},
    time::Duration,
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};
use switchyard_db::{PgPool, repo::outbox};
use switchyard_domain::Error;
use switchyard_queue::{ConsumerMetrics, Redis};
use tokio_util::sync::CancellationToken;

use crate::CONSUMER_GROUP;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabels {
    topic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    topic: String,
    /// `pending` (delivered, unacknowledged), `undelivered`, `retry` (waiting for a next try).
    state: &'static str,
}

fn topic(topic: &str) -> TopicLabels {
    TopicLabels {
        topic: topic.to_owned(),
    }
}

pub struct WorkerMetrics {
    registry: Registry,
    outbox_backlog: Family<TopicLabels, Gauge>,
    outbox_lag: Family<TopicLabels, Gauge<f64, AtomicU64>>,
    stream_backlog: Family<StageLabels, Gauge>,
    published: Family<TopicLabels, Counter>,
    publish_failures: Family<TopicLabels, Counter>,
    attempts: Family<TopicLabels, Counter>,
    succeeded: Family<TopicLabels, Counter>,
    retried: Family<TopicLabels, Counter>,
    requeued: Family<TopicLabels, Counter>,
    skipped: Family<TopicLabels, Counter>,
    dead_letters: Family<TopicLabels, Counter>,
    /// Topics whose outbox gauges were set, so they return to 0 when drained.
    outbox_topics: Mutex<BTreeSet<String>>,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl WorkerMetrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("switchyard");
        let mut family = |name: &str, help: &str| {
            let family = Family::<TopicLabels, Counter>::default();
            registry.register(name, help, family.clone());
            family
        };
        let published = family(
            "outbox_published",
            "Outbox events published to their stream",
        );
        let publish_failures = family(
            "outbox_publish_failures",
            "Failed attempts to publish an outbox event (the event stays in the outbox)",
        );
        let attempts = family(
            "job_attempts",
            "Job deliveries started, including retries and redeliveries after a crash",
        );
        let succeeded = family("job_succeeded", "Jobs that finished");
        let retried = family("job_retries", "Failed job attempts scheduled to run again");
        let requeued = family(
            "job_requeues",
            "Unfinished jobs scheduled to look again later (a rollout in progress)",
        );
        let skipped = family(
            "job_duplicates_skipped",
            "Deliveries skipped because their outbox event was already handled",
        );
        let dead_letters = family(
            "job_dead_letters",
            "Jobs given up and moved to the topic's dead-letter stream",
        );
        let outbox_backlog = Family::<TopicLabels, Gauge>::default();
        registry.register(
            "outbox_backlog",
            "Outbox events not yet published",
            outbox_backlog.clone(),
        );
        let outbox_lag = Family::<TopicLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "outbox_lag_seconds",
            "Age of the oldest unpublished outbox event",
            outbox_lag.clone(),
        );
        let stream_backlog = Family::<StageLabels, Gauge>::default();
        registry.register(
            "job_backlog",
            "Published job entries not yet done, by state (pending, undelivered, retry)",
            stream_backlog.clone(),
        );
        Self {
            registry,
            outbox_backlog,
            outbox_lag,
            stream_backlog,
            published,
            publish_failures,
            attempts,
            succeeded,
            retried,
            requeued,
            skipped,
            dead_letters,
            outbox_topics: Mutex::new(BTreeSet::new()),
        }
    }

    /// The counters a topic's consumer increments.
    pub fn consumer(&self, name: &str) -> ConsumerMetrics {
        let labels = topic(name);
        ConsumerMetrics {
            attempts: self.attempts.get_or_create(&labels).clone(),
            succeeded: self.succeeded.get_or_create(&labels).clone(),
            retried: self.retried.get_or_create(&labels).clone(),
            requeued: self.requeued.get_or_create(&labels).clone(),
            dead_letters: self.dead_letters.get_or_create(&labels).clone(),
        }
    }

    pub(crate) fn skipped(&self, name: &str) -> Counter {
        self.skipped.get_or_create(&topic(name)).clone()
    }

    pub(crate) fn published(&self, name: &str) {
        self.published.get_or_create(&topic(name)).inc();
    }

    pub(crate) fn publish_failed(&self, name: &str) {
        self.publish_failures.get_or_create(&topic(name)).inc();
    }

    /// Encodes everything in the OpenMetrics text format (ending in `# EOF`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    fn set_outbox(&self, backlog: &[outbox::Backlog]) {
        let mut known = self
            .outbox_topics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for name in known.iter() {
            if !backlog.iter().any(|b| &b.topic == name) {
                self.outbox_backlog.get_or_create(&topic(name)).set(0);
                self.outbox_lag.get_or_create(&topic(name)).set(0.0);
            }
        }
        for b in backlog {
            self.outbox_backlog
                .get_or_create(&topic(&b.topic))
                .set(b.unpublished);
            self.outbox_lag
                .get_or_create(&topic(&b.topic))
                .set(b.oldest_age_secs);
            known.insert(b.topic.clone());
        }
    }
}

/// Refreshes the backlog gauges every `interval`.
pub(crate) struct Refresher {
    pub(crate) pool: PgPool,
    pub(crate) redis: Redis,
    pub(crate) topics: Vec<&'static str>,
    pub(crate) interval: Duration,
    pub(crate) metrics: Arc<WorkerMetrics>,
}

impl Refresher {
    pub(crate) async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(e) = self.refresh().await {
                tracing::debug!(
                    error = &e as &dyn std::error::Error,
                    "worker metrics not refreshed"
                );
            }
            tokio::select! {
                () = tokio::time::sleep(self.interval) => {},
                () = shutdown.cancelled() => {},
            }
        }
    }

    async fn refresh(&self) -> Result<(), Error> {
        let backlog = {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(|e| Error::unavailable("database unavailable", e))?;
            outbox::backlog(&mut conn).await?
        };
        self.metrics.set_outbox(&backlog);
        for name in &self.topics {
            let keys = self.redis.stream_keys(name);
            let stream = self.redis.backlog(&keys, CONSUMER_GROUP).await?;
            for (state, value) in [
                ("pending", stream.pending),
                ("undelivered", stream.undelivered),
                ("retry", stream.retries),
            ] {
                let labels = StageLabels {
                    topic: (*name).to_owned(),
                    state,
                };
                self.metrics
                    .stream_backlog
                    .get_or_create(&labels)
                    .set(i64::try_from(value).unwrap_or(i64::MAX));
            }
        }
        Ok(())
    }
}
