//! Helpers of the job tests: a recording job whose behaviour a test scripts, outbox fixtures, a
//! test Redis per test (its own key prefix), and worker settings that make reclaims and retries
//! quick.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use secrecy::SecretString;
use serde_json::json;
use switchyard_db::{PgPool, repo::outbox};
use switchyard_domain::Error;
use switchyard_queue::{
    Backoff, ConsumerSettings, Handled, Job, JobError, Message, Redis, RedisConfig,
};
use switchyard_worker::WorkerSettings;
use uuid::Uuid;

/// The topic of every test job (each test has its own Redis prefix and database).
pub(crate) const TOPIC: &str = "test_jobs";

/// What the recording job does with attempt `n` (1-based) of a message.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Script {
    Succeed,
    /// Fails with `Retry` until attempt `n`, then succeeds.
    SucceedOnAttempt(u32),
    AlwaysRetry,
    Permanent,
    /// Never returns (a job stuck when its worker crashed).
    Hang,
    /// Answers "look again in 20 ms" until the `n`th delivery of a message, then is done.
    DoneOnLook(usize),
}

/// A job that records every delivery it sees and every dead letter it is told about.
pub(crate) struct Recorder {
    pub(crate) script: Mutex<Script>,
    pub(crate) deliveries: Mutex<Vec<Message>>,
    pub(crate) dead: Mutex<Vec<(Uuid, String)>>,
    /// Up to this long spent after recording a delivery (widens the window in which a crash
    /// leaves a finished effect unacknowledged).
    pub(crate) pause: Duration,
}

impl Recorder {
    pub(crate) fn new(script: Script) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(script),
            deliveries: Mutex::new(Vec::new()),
            dead: Mutex::new(Vec::new()),
            pause: Duration::ZERO,
        })
    }

    /// A succeeding recorder that takes up to `pause` after each delivery.
    pub(crate) fn slow(pause: Duration) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(Script::Succeed),
            deliveries: Mutex::new(Vec::new()),
            dead: Mutex::new(Vec::new()),
            pause,
        })
    }

    pub(crate) fn set_script(&self, script: Script) {
        *self.script.lock().unwrap() = script;
    }

    /// How many deliveries each outbox id got.
    pub(crate) fn counts(&self) -> BTreeMap<Uuid, usize> {
        let mut counts = BTreeMap::new();
        for m in self.deliveries.lock().unwrap().iter() {
            *counts.entry(m.outbox_id).or_insert(0) += 1;
        }
        counts
    }

    pub(crate) fn attempts_of(&self, id: Uuid) -> Vec<u32> {
        self.deliveries
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.outbox_id == id)
            .map(|m| m.attempt)
            .collect()
    }
}

#[async_trait::async_trait]
impl Job for Recorder {
    fn topic(&self) -> &'static str {
        TOPIC
    }

    async fn run(&self, message: &Message) -> Result<Handled, JobError> {
        let script = *self.script.lock().unwrap();
        if let Script::Hang = script {
            std::future::pending::<()>().await;
        }
        self.deliveries.lock().unwrap().push(message.clone());
        if !self.pause.is_zero() {
            let millis = u64::try_from(self.pause.as_millis()).unwrap();
            tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=millis))).await;
        }
        let looks = self.counts().get(&message.outbox_id).copied().unwrap_or(0);
        match script {
            Script::DoneOnLook(n) if looks < n => Ok(Handled::Later(Duration::from_millis(20))),
            Script::Succeed | Script::Hang | Script::DoneOnLook(_) => Ok(Handled::Done),
            Script::SucceedOnAttempt(n) if message.attempt >= n => Ok(Handled::Done),
            Script::SucceedOnAttempt(_) | Script::AlwaysRetry => {
                Err(JobError::Retry("peer answered 503".to_owned()))
            }
            Script::Permanent => Err(JobError::Permanent("payload names no release".to_owned())),
        }
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), Error> {
        self.dead
            .lock()
            .unwrap()
            .push((message.outbox_id, reason.to_owned()));
        Ok(())
    }
}

/// Settings that retry within milliseconds. Entries are reclaimed only after 30 s: a loaded test
/// machine must not see a slow delivery taken over (tests of crashes use [`crash_settings`]).
pub(crate) fn quick_settings() -> WorkerSettings {
    WorkerSettings {
        consumer: ConsumerSettings {
            concurrency: 4,
            claim_idle: Duration::from_secs(30),
            max_attempts: 5,
            backoff: Backoff {
                base: Duration::from_millis(20),
                max: Duration::from_millis(200),
            },
            block: Duration::from_millis(100),
            stream_max_len: 10_000,
        },
        relay_poll: Duration::from_millis(20),
        relay_batch: 10,
        metrics_interval: Duration::from_millis(100),
        leader_campaign: Duration::from_millis(100),
    }
}

/// [`quick_settings`] that reclaim a crashed consumer's entries after a second.
pub(crate) fn crash_settings() -> WorkerSettings {
    let mut settings = quick_settings();
    settings.consumer.claim_idle = Duration::from_secs(1);
    settings
}

/// A Redis client for `url` with a key prefix of its own.
pub(crate) fn redis(url: SecretString) -> Redis {
    Redis::connect_lazy(&RedisConfig {
        url,
        key_prefix: format!("t_{}:", Uuid::new_v4().simple()),
    })
    .unwrap()
}

/// Writes `n` outbox events of `TOPIC` (one transaction each, as use-cases do).
pub(crate) async fn insert_events(pool: &PgPool, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let mut tx = pool.begin().await.unwrap();
        let payload = json!({"type": "test.event", "n": i});
        let id = outbox::insert(
            &mut tx,
            &outbox::NewEvent {
                topic: TOPIC,
                aggregate_id: &i.to_string(),
                payload: &payload,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        ids.push(id);
    }
    ids
}

/// Polls `check` until it holds; fails after a generous bound (a hang, not a slow run).
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One column of every outbox row, by id.
#[expect(clippy::disallowed_methods, reason = "test reads the outbox directly")]
pub(crate) async fn outbox_rows(pool: &PgPool) -> Vec<OutboxState> {
    sqlx::query_as(
        "select id, published_at is not null, handled_at is not null, dead_reason, attempts
         from outbox order by created_at, id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(
        |(id, published, handled, dead_reason, attempts): (
            Uuid,
            bool,
            bool,
            Option<String>,
            i32,
        )| {
            OutboxState {
                id,
                published,
                handled,
                dead_reason,
                attempts,
            }
        },
    )
    .collect()
}

#[derive(Debug, Clone)]
pub(crate) struct OutboxState {
    pub(crate) id: Uuid,
    pub(crate) published: bool,
    pub(crate) handled: bool,
    pub(crate) dead_reason: Option<String>,
    pub(crate) attempts: i32,
}

/// Every row handled.
pub(crate) async fn all_handled(pool: &PgPool) -> bool {
    outbox_rows(pool).await.iter().all(|r| r.handled)
}

/// The value of `switchyard_<name>{topic="test_jobs"}` in a metrics text, 0 when absent.
pub(crate) fn metric(text: &str, name: &str) -> f64 {
    let prefix = format!("switchyard_{name}{{topic=\"{TOPIC}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0.0, |v| v.parse().unwrap())
}
