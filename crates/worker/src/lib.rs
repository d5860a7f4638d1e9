//! Background work of the control plane: the outbox relay, one consumer per registered job topic
//! (each job wrapped in the outbox-id dedupe), the worker's metrics, and on the one replica that
//! leads ([`Leadership`]) the janitor, status sync and billing loops. `switchyard worker` runs a
//! [`Worker`]; `switchyard dev` runs one in-process. Must not depend on axum or sqlx.
//!
//! ```ignore
//! let worker = Worker::new(pool, redis, WorkerSettings::default())
//!     .with_job(Arc::new(BuildsJob::new(cp.clone())));
//! let metrics = worker.metrics();          // render() for a /metrics endpoint
//! worker.run(shutdown.clone()).await?;     // until `shutdown` is cancelled
//! ```

mod billing;
mod dedupe;
mod janitor;
pub mod jobs;
mod leader;
mod metrics;
mod relay;
mod status_sync;

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use switchyard_db::PgPool;
use switchyard_domain::Error;
use switchyard_queue::{Backoff, Consumer, ConsumerSettings, Job, Redis};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use billing::BillingLoop;
pub use janitor::{DEPLOYMENT_IDLE, Janitor, OUTBOX_RETENTION};
pub use leader::{LEADER_KEY, LeaderLoop, Leadership};
pub use metrics::WorkerMetrics;
pub use status_sync::{StatusSync, Synced};

/// The consumer group every worker replica joins on every topic stream.
pub const CONSUMER_GROUP: &str = "switchyard";

/// How the worker behaves. The defaults are the production settings.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How every topic's consumer behaves (its `stream_max_len` also bounds what the relay adds).
    pub consumer: ConsumerSettings,
    /// How often the relay looks for new outbox rows when it found none.
    pub relay_poll: Duration,
    /// Outbox rows the relay publishes per transaction.
    pub relay_batch: i64,
    /// How often the backlog gauges are refreshed.
    pub metrics_interval: Duration,
    /// How often a replica campaigns for leadership, and the leader confirms it still leads
    /// (the janitor, status sync and billing run on the leader only).
    pub leader_campaign: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            consumer: ConsumerSettings {
                concurrency: 4,
                claim_idle: Duration::from_secs(60),
                max_attempts: 8,
                backoff: Backoff {
                    base: Duration::from_secs(1),
                    max: Duration::from_secs(300),
                },
                block: Duration::from_secs(1),
                stream_max_len: 100_000,
            },
            relay_poll: Duration::from_millis(200),
            relay_batch: 100,
            metrics_interval: Duration::from_secs(5),
            leader_campaign: Duration::from_secs(5),
        }
    }
}

/// The relay plus the registered jobs' consumers.
pub struct Worker {
    pool: PgPool,
    redis: Redis,
    settings: WorkerSettings,
    jobs: Vec<Arc<dyn Job>>,
    janitor: Option<Janitor>,
    billing: Option<BillingLoop>,
    status_sync: Option<StatusSync>,
    metrics: Arc<WorkerMetrics>,
    leading: tokio::sync::watch::Sender<bool>,
}

impl Worker {
    pub fn new(pool: PgPool, redis: Redis, settings: WorkerSettings) -> Self {
        Self {
            pool,
            redis,
            settings,
            jobs: Vec::new(),
            janitor: None,
            billing: None,
            status_sync: None,
            metrics: Arc::new(WorkerMetrics::new()),
            leading: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Registers the handler of one topic; each topic may have one job.
    #[must_use]
    pub fn with_job(mut self, job: Arc<dyn Job>) -> Self {
        self.jobs.push(job);
        self
    }

    /// Runs the status sync of running deployments (on the leader).
    #[must_use]
    pub fn with_status_sync(mut self, sync: StatusSync) -> Self {
        self.status_sync = Some(sync);
        self
    }

    /// Whether this worker leads (runs the janitor, status sync and billing), as it changes.
    pub fn leading(&self) -> tokio::sync::watch::Receiver<bool> {
        self.leading.subscribe()
    }

    /// Runs `janitor`'s sweep (on the leader).
    #[must_use]
    pub fn with_janitor(mut self, janitor: Janitor) -> Self {
        self.janitor = Some(janitor);
        self
    }

    /// Runs the billing loop (aggregation and reconciliation) on the leader.
    #[must_use]
    pub fn with_billing(mut self, billing: BillingLoop) -> Self {
        self.billing = Some(billing);
        self
    }

    /// The worker's metrics (shared; render them from any task).
    pub fn metrics(&self) -> Arc<WorkerMetrics> {
        self.metrics.clone()
    }

    /// The topics that have a job.
    pub fn topics(&self) -> Vec<&'static str> {
        self.jobs.iter().map(|j| j.topic()).collect()
    }

    /// The loops only the leader runs.
    fn leader_loops(&self) -> Vec<LeaderLoop> {
        let mut loops: Vec<LeaderLoop> = Vec::new();
        if let Some(janitor) = self.janitor.clone() {
            loops.push(Arc::new(move |token| Box::pin(janitor.clone().run(token))));
        }
        if let Some(billing) = self.billing.clone() {
            loops.push(Arc::new(move |token| Box::pin(billing.clone().run(token))));
        }
        if let Some(sync) = self.status_sync.clone() {
            loops.push(Arc::new(move |token| Box::pin(sync.clone().run(token))));
        }
        loops
    }

    /// Runs the relay, the consumers and the metrics refresher until `shutdown` is cancelled,
    /// then waits for deliveries in flight to finish. Dropping the returned future (aborting its
    /// task) stops everything at once, as a crash would; nothing is lost either way.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let mut seen = BTreeSet::new();
        if let Some(dup) = self.topics().into_iter().find(|t| !seen.insert(*t)) {
            return Err(Error::invalid(
                "jobs",
                format!("two jobs registered for topic {dup}"),
            ));
        }
        let consumer_name = format!("worker-{}", uuid::Uuid::new_v4().simple());
        let mut tasks = JoinSet::new();
        for job in &self.jobs {
            let topic_metrics = self.metrics.consumer(job.topic());
            let deduped = dedupe::Deduped::new(job.clone(), self.pool.clone(), &self.metrics);
            let consumer = Consumer::new(
                &self.redis,
                Arc::new(deduped),
                (CONSUMER_GROUP, &consumer_name),
                self.settings.consumer,
                topic_metrics,
            )?;
            tasks.spawn(consumer.run(shutdown.clone()));
        }
        let relay = relay::Relay {
            pool: self.pool.clone(),
            redis: self.redis.clone(),
            batch: self.settings.relay_batch,
            poll: self.settings.relay_poll,
            stream_max_len: self.settings.consumer.stream_max_len,
            metrics: self.metrics.clone(),
        };
        tasks.spawn(relay.run(shutdown.clone()));
        let refresher = metrics::Refresher {
            pool: self.pool.clone(),
            redis: self.redis.clone(),
            topics: self.topics(),
            interval: self.settings.metrics_interval,
            metrics: self.metrics.clone(),
        };
        tasks.spawn(refresher.run(shutdown.clone()));
        let loops = self.leader_loops();
        if !loops.is_empty() {
            let leadership = Leadership {
                pool: self.pool.clone(),
                campaign: self.settings.leader_campaign,
            };
            tasks.spawn(leadership.run(loops, self.leading.clone(), shutdown.clone()));
        }
        tracing::info!(
            topics = ?self.topics(),
            consumer = %consumer_name,
            "worker running: outbox relay and {} job consumer(s)",
            self.jobs.len()
        );
        while tasks.join_next().await.is_some() {}
        tracing::info!("worker stopped");
        Ok(())
    }
}
