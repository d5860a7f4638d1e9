//! The consumer of one topic: reads new entries with its consumer group, takes over entries that
//! crashed consumers left idle for longer than `claim_idle` (`XAUTOCLAIM`), runs the job with at
//! most `concurrency` deliveries in flight, acknowledges successes, schedules retries with
//! exponential backoff and full jitter, and after `max_attempts` (or a permanent error) tells the
//! job (`Job::dead_letter`) and moves the entry to the dead-letter stream with its reason.
//!
//! Every delivery runs as a task owned by the consumer: aborting the consumer's task (as a crash
//! would) aborts them too, and their entries stay pending until reclaimed.

use std::{sync::Arc, time::Duration};

use prometheus_client::metrics::counter::Counter;
use switchyard_domain::Error;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    task::JoinSet,
    time::Instant,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::{
    Backoff, Handled, Job, JobError, Message, Redis,
    stream::{RawEntry, StreamKeys},
};

/// How a consumer behaves; the same for every topic of a worker.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerSettings {
    /// Deliveries of one topic in flight at once.
    pub concurrency: usize,
    /// Entries unacknowledged for longer than this are taken over from their consumer.
    pub claim_idle: Duration,
    /// Attempts (including deliveries interrupted by a crash) before giving up.
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// How long one read waits for new entries.
    pub block: Duration,
    /// Approximate length the streams are trimmed to.
    pub stream_max_len: usize,
}

/// Who a consumer is and how it behaves.
#[derive(Debug)]
struct Setup {
    /// The consumer group (one per topic stream; every worker replica joins it).
    group: String,
    /// This consumer's name in the group, unique per process.
    consumer: String,
    tuning: ConsumerSettings,
}

/// Counters of one topic, registered by the worker's metrics.
#[derive(Debug, Clone, Default)]
pub struct ConsumerMetrics {
    /// Deliveries started (first tries, retries and redeliveries after a crash).
    pub attempts: Counter,
    pub succeeded: Counter,
    /// Failed attempts scheduled for another try.
    pub retried: Counter,
    /// Unfinished work scheduled to be looked at again ([`Handled::Later`]).
    pub requeued: Counter,
    pub dead_letters: Counter,
}

/// One topic's consumer. Build it with [`Consumer::new`], then `run` it in a task.
pub struct Consumer {
    redis: Redis,
    /// Its own connection: a blocking read would stall every other command on a shared one.
    reader: Redis,
    job: Arc<dyn Job>,
    keys: StreamKeys,
    settings: Arc<Setup>,
    metrics: ConsumerMetrics,
}

/// What one delivery needs, cloned into its task.
#[derive(Clone)]
struct Ctx {
    redis: Redis,
    job: Arc<dyn Job>,
    keys: StreamKeys,
    settings: Arc<Setup>,
    metrics: ConsumerMetrics,
}

impl Consumer {
    /// The consumer `consumer` (unique per process) of `job`'s topic in the consumer group
    /// `group`.
    pub fn new(
        redis: &Redis,
        job: Arc<dyn Job>,
        (group, consumer): (&str, &str),
        settings: ConsumerSettings,
        metrics: ConsumerMetrics,
    ) -> Result<Self, Error> {
        let reader = redis.dedicated(settings.block + Duration::from_secs(2))?;
        Ok(Self {
            keys: redis.stream_keys(job.topic()),
            redis: redis.clone(),
            reader,
            job,
            settings: Arc::new(Setup {
                group: group.to_owned(),
                consumer: consumer.to_owned(),
                tuning: settings,
            }),
            metrics,
        })
    }

    fn ctx(&self) -> Ctx {
        Ctx {
            redis: self.redis.clone(),
            job: self.job.clone(),
            keys: self.keys.clone(),
            settings: self.settings.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// Consumes until `shutdown`, then lets the deliveries in flight finish. Redis errors are
    /// logged and retried with a growing pause; nothing is lost while Redis is away.
    pub async fn run(self, shutdown: CancellationToken) {
        let topic = self.job.topic();
        let permits = Arc::new(Semaphore::new(self.settings.tuning.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut state = LoopState {
            group_ready: false,
            next_claim: Instant::now(),
        };
        let mut failures: u32 = 0;
        tracing::info!(job.topic = topic, "consuming topic {topic}");
        while !shutdown.is_cancelled() {
            while tasks.try_join_next().is_some() {}
            match self.step(&mut state, &permits, &mut tasks, &shutdown).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    state.group_ready = false;
                    failures = failures.saturating_add(1);
                    if failures == 1 {
                        tracing::warn!(
                            job.topic = topic,
                            error = &e as &dyn std::error::Error,
                            "consumer of {topic} cannot reach redis; retrying"
                        );
                    }
                    let pause = Duration::from_millis(100)
                        .saturating_mul(1 << failures.min(6))
                        .min(Duration::from_secs(5));
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {},
                        () = shutdown.cancelled() => {},
                    }
                }
            }
        }
        while tasks.join_next().await.is_some() {}
        tracing::info!(job.topic = topic, "consumer of {topic} stopped");
    }

    async fn step(
        &self,
        state: &mut LoopState,
        permits: &Arc<Semaphore>,
        tasks: &mut JoinSet<()>,
        shutdown: &CancellationToken,
    ) -> Result<(), Error> {
        if !state.group_ready {
            self.redis
                .ensure_group(&self.keys, &self.settings.group)
                .await?;
            state.group_ready = true;
        }
        self.redis
            .promote_due(&self.keys, 100, self.settings.tuning.stream_max_len)
            .await?;
        let first = tokio::select! {
            permit = permits.clone().acquire_owned() => permit
                .map_err(|e| Error::internal("waiting for a delivery slot", e))?,
            () = shutdown.cancelled() => return Ok(()),
        };
        let mut held = vec![first];
        while let Ok(permit) = permits.clone().try_acquire_owned() {
            held.push(permit);
        }
        let settings = &self.settings;
        let mut reclaimed = Vec::new();
        if Instant::now() >= state.next_claim {
            reclaimed = self
                .redis
                .claim_idle(
                    &self.keys,
                    &settings.group,
                    &settings.consumer,
                    settings.tuning.claim_idle,
                    held.len(),
                )
                .await?;
            let interval = (settings.tuning.claim_idle / 2)
                .clamp(Duration::from_millis(50), Duration::from_secs(15));
            state.next_claim = Instant::now() + interval;
        }
        let (entries, redelivered) = if reclaimed.is_empty() {
            let read = self.reader.read_new(
                &self.keys,
                &settings.group,
                &settings.consumer,
                held.len(),
                settings.tuning.block,
            );
            let entries = tokio::select! {
                entries = read => entries?,
                () = shutdown.cancelled() => return Ok(()),
            };
            (entries, false)
        } else {
            (reclaimed, true)
        };
        for (entry, permit) in entries.into_iter().zip(held) {
            let ctx = self.ctx();
            tasks.spawn(async move { ctx.deliver(entry, redelivered, permit).await });
        }
        Ok(())
    }
}

struct LoopState {
    group_ready: bool,
    next_claim: Instant,
}

impl Ctx {
    /// Runs one delivery to its end: ack, retry later, or bury. Any Redis error leaves the entry
    /// pending, to be reclaimed.
    async fn deliver(self, entry: RawEntry, redelivered: bool, _permit: OwnedSemaphorePermit) {
        let group = self.settings.group.as_str();
        let mut message = match Message::from_entry(&entry) {
            Ok(message) => message,
            Err(reason) => return self.bury_malformed(&entry, &reason).await,
        };
        if redelivered {
            // Each interrupted delivery counts as an attempt, so a job that crashes the worker
            // every time still ends in the dead-letter stream.
            match self.redis.deliveries(&self.keys, group, &entry.id).await {
                Ok(n) => message.attempt = message.attempt.saturating_add(n.saturating_sub(1)),
                Err(e) => return log_left_pending(&message, &e),
            }
        }
        self.metrics.attempts.inc();
        let span = crate::trace::job_span(&message);
        self.attempt(&entry.id, message).instrument(span).await;
    }

    async fn attempt(&self, id: &str, message: Message) {
        let settings = &self.settings;
        let (topic, attempt) = (message.topic.as_str(), message.attempt);
        if attempt > settings.tuning.max_attempts {
            let reason = format!("gave up after {} attempts", settings.tuning.max_attempts);
            return self.give_up(id, &message, &reason).await;
        }
        let outcome = match self.job.run(&message).await {
            Ok(Handled::Done) => self
                .redis
                .ack(&self.keys, &settings.group, id)
                .await
                .map(|()| self.metrics.succeeded.inc()),
            // Same attempt: waiting for progress is not a failure.
            Ok(Handled::Later(delay)) => self
                .redis
                .retry_later(&self.keys, &settings.group, id, &message, attempt, delay)
                .await
                .map(|()| self.metrics.requeued.inc()),
            Err(JobError::Retry(reason)) if attempt < settings.tuning.max_attempts => {
                let delay = settings
                    .tuning
                    .backoff
                    .delay(attempt, &mut fastrand::Rng::new());
                tracing::warn!(
                    job.topic = topic,
                    outbox.id = %message.outbox_id,
                    retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "job {topic} attempt {attempt} failed: {reason}; retrying"
                );
                self.redis
                    .retry_later(
                        &self.keys,
                        &settings.group,
                        id,
                        &message,
                        attempt + 1,
                        delay,
                    )
                    .await
                    .map(|()| self.metrics.retried.inc())
            }
            Err(JobError::Retry(reason)) => {
                let reason = format!("{reason} (gave up after {attempt} attempts)");
                return self.give_up(id, &message, &reason).await;
            }
            Err(JobError::Permanent(reason)) => return self.give_up(id, &message, &reason).await,
        };
        if let Err(e) = outcome {
            log_left_pending(&message, &e);
        }
    }

    /// Lets the job surface the failure, then moves the entry to the dead-letter stream.
    async fn give_up(&self, id: &str, message: &Message, reason: &str) {
        if let Err(e) = self.job.dead_letter(message, reason).await {
            return log_left_pending(message, &e);
        }
        self.bury(id, message, reason).await;
    }

    /// An entry that is not one of ours (no valid id or payload) goes straight to the dead
    /// letters; no job sees it.
    async fn bury_malformed(&self, entry: &RawEntry, reason: &str) {
        let message = Message {
            outbox_id: uuid::Uuid::nil(),
            topic: self.job.topic().to_owned(),
            payload: serde_json::Value::Null,
            attempt: 1,
            trace_context: serde_json::json!({}),
        };
        self.bury(&entry.id, &message, reason).await;
    }

    async fn bury(&self, id: &str, message: &Message, reason: &str) {
        let settings = &self.settings;
        let buried = self
            .redis
            .bury(
                &self.keys,
                &settings.group,
                id,
                message,
                reason,
                settings.tuning.stream_max_len,
            )
            .await;
        match buried {
            Ok(()) => {
                self.metrics.dead_letters.inc();
                tracing::error!(
                    job.topic = %message.topic,
                    outbox.id = %message.outbox_id,
                    job.attempt = message.attempt,
                    "job {} dead-lettered: {reason}",
                    message.topic
                );
            }
            Err(e) => log_left_pending(message, &e),
        }
    }
}

fn log_left_pending(message: &Message, error: &Error) {
    tracing::warn!(
        job.topic = %message.topic,
        outbox.id = %message.outbox_id,
        error = error as &dyn std::error::Error,
        "delivery of {} left pending; it will be reclaimed",
        message.outbox_id
    );
}
