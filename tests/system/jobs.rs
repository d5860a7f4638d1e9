//! The durable job machinery end to end: outbox rows written in a transaction are published by
//! the relay and handled by a consumer; workers aborted at random points lose nothing; retries,
//! dead letters, reclaiming a crashed consumer's entries, dedupe by outbox id, trace context.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use serde_json::json;
use switchyard_queue::Job;
use switchyard_testkit::{TestDb, services};
use switchyard_worker::{CONSUMER_GROUP, Worker, WorkerSettings};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::jobs_support::{
    Recorder, Script, TOPIC, all_handled, crash_settings, eventually, insert_events, metric,
    outbox_rows, quick_settings, redis,
};

struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), switchyard_domain::Error>>,
    metrics: Arc<switchyard_worker::WorkerMetrics>,
}

fn start(
    db: &TestDb,
    redis: &switchyard_queue::Redis,
    job: Arc<dyn Job>,
    settings: WorkerSettings,
) -> Running {
    let worker = Worker::new(db.pool.clone(), redis.clone(), settings).with_job(job);
    let metrics = worker.metrics();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(worker.run(shutdown.clone()));
    Running {
        shutdown,
        task,
        metrics,
    }
}

impl Running {
    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }

    /// Kills the worker as a crash would: its relay and consumer tasks stop wherever they are.
    async fn abort(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

#[tokio::test]
async fn events_are_handled_once_and_marked() {
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    let job = Recorder::new(Script::Succeed);
    let ids = insert_events(&db.pool, 5).await;
    let worker = start(&db, &redis, job.clone(), quick_settings());
    eventually("5 events handled", || all_handled(&db.pool)).await;
    let counts = job.counts();
    assert_eq!(counts.keys().copied().collect::<Vec<_>>(), ids);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    // Concurrent consumers finish in any order: look up the first event's delivery by id.
    let first = job
        .deliveries
        .lock()
        .unwrap()
        .iter()
        .find(|m| m.outbox_id == ids[0])
        .unwrap()
        .clone();
    assert_eq!(first.topic, TOPIC);
    assert_eq!(first.payload, json!({"type": "test.event", "n": 0}));
    assert_eq!(first.attempt, 1);
    assert!(outbox_rows(&db.pool).await.iter().all(|r| r.published));
    // A job's success is counted just after its outbox row is stamped: wait for the counter.
    eventually("5 successes counted", || async {
        metric(&worker.metrics.render(), "job_succeeded_total") == 5.0
    })
    .await;
    let metrics = worker.metrics.render();
    assert_eq!(metric(&metrics, "outbox_published_total"), 5.0, "{metrics}");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_event_is_lost_when_workers_are_killed_at_random_points() {
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    let job = Recorder::slow(Duration::from_millis(15));
    let ids: BTreeSet<_> = insert_events(&db.pool, 50).await.into_iter().collect();
    // Crashes count as attempts; do not let them dead-letter anything here.
    let mut settings = crash_settings();
    settings.consumer.max_attempts = 1_000;
    let mut rng = fastrand::Rng::with_seed(0x5eed_0b0c);
    // Two replicas, each relaying and consuming; one of them is killed at a random moment and
    // restarted, 40 times or until everything is done.
    let mut replicas = [
        start(&db, &redis, job.clone(), settings.clone()),
        start(&db, &redis, job.clone(), settings.clone()),
    ];
    let mut kills = 0;
    while kills < 40 && !all_handled(&db.pool).await {
        tokio::time::sleep(Duration::from_millis(rng.u64(0..120))).await;
        let victim = rng.usize(0..replicas.len());
        let fresh = start(&db, &redis, job.clone(), settings.clone());
        std::mem::replace(&mut replicas[victim], fresh)
            .abort()
            .await;
        kills += 1;
    }
    eventually("every event handled", || all_handled(&db.pool)).await;
    for replica in replicas {
        replica.stop().await;
    }
    let counts = job.counts();
    let seen: BTreeSet<_> = counts.keys().copied().collect();
    assert_eq!(seen, ids, "every event handled, none invented");
    assert!(counts.values().all(|&n| n >= 1));
    assert!(job.dead.lock().unwrap().is_empty());
    assert!(kills > 0, "the run was over before any kill");
    let rows = outbox_rows(&db.pool).await;
    assert!(
        rows.iter()
            .all(|r| r.published && r.handled && r.dead_reason.is_none())
    );
}

#[tokio::test]
async fn transient_failures_are_retried_with_the_attempt_counted() {
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    let job = Recorder::new(Script::SucceedOnAttempt(3));
    let ids = insert_events(&db.pool, 2).await;
    let worker = start(&db, &redis, job.clone(), quick_settings());
    eventually("both events handled", || all_handled(&db.pool)).await;
    for id in &ids {
        assert_eq!(job.attempts_of(*id), [1, 2, 3]);
    }
    let metrics = worker.metrics.render();
    assert_eq!(metric(&metrics, "job_attempts_total"), 6.0, "{metrics}");
    assert_eq!(metric(&metrics, "job_retries_total"), 4.0, "{metrics}");
    assert_eq!(metric(&metrics, "job_dead_letters_total"), 0.0, "{metrics}");
    worker.stop().await;
}

#[tokio::test]
async fn exhausted_retries_end_in_the_dead_letter_stream_with_the_reason() {
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    let job = Recorder::new(Script::AlwaysRetry);
    let mut settings = quick_settings();
    settings.consumer.max_attempts = 3;
    let [id] = insert_events(&db.pool, 1).await[..] else {
        unreachable!()
    };
    let worker = start(&db, &redis, job.clone(), settings);
    eventually("the event is dead", || async {
        outbox_rows(&db.pool).await[0].dead_reason.is_some()
    })
    .await;
    let keys = redis.stream_keys(TOPIC);
    eventually("the dead letter is in its stream", || async {
        !redis.dead_letters(&keys, 10).await.unwrap().is_empty()
    })
    .await;
    assert_eq!(job.attempts_of(id), [1, 2, 3], "exactly max_attempts tries");
    let reason = "peer answered 503 (gave up after 3 attempts)";
    assert_eq!(*job.dead.lock().unwrap(), [(id, reason.to_owned())]);
    assert_eq!(
        outbox_rows(&db.pool).await[0].dead_reason.as_deref(),
        Some(reason)
    );
    let dead = redis.dead_letters(&keys, 10).await.unwrap();
    let field = |name: &str| {
        dead[0]
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("id"), Some(id.to_string()));
    assert_eq!(field("reason").as_deref(), Some(reason));
    assert_eq!(field("attempt").as_deref(), Some("3"));
    eventually("nothing left pending", || async {
        redis.backlog(&keys, CONSUMER_GROUP).await.unwrap() == Default::default()
    })
    .await;
    let metrics = worker.metrics.render();
    assert_eq!(metric(&metrics, "job_dead_letters_total"), 1.0, "{metrics}");
    assert_eq!(metric(&metrics, "job_attempts_total"), 3.0, "{metrics}");
    worker.stop().await;
}

#[tokio::test]
async fn permanent_errors_are_dead_lettered_without_retrying() {
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    let job = Recorder::new(Script::Permanent);
    let [id] = insert_events(&db.pool, 1).await[..] else {
        unreachable!()
    };
    let worker = start(&db, &redis, job.clone(), quick_settings());
    eventually("the event is dead", || async {
        outbox_rows(&db.pool).await[0].dead_reason.is_some()
    })
    .await;
    assert_eq!(job.attempts_of(id), [1]);
    assert_eq!(
        *job.dead.lock().unwrap(),
        [(id, "payload names no release".to_owned())]
    );
    worker.stop().await;
}

#[tokio::test]
async fn a_crashed_consumers_entries_are_reclaimed_and_counted_as_attempts() {
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    let job = Recorder::new(Script::Hang);
    insert_events(&db.pool, 3).await;
    let stuck = start(&db, &redis, job.clone(), crash_settings());
    let keys = redis.stream_keys(TOPIC);
    eventually("3 deliveries in flight", || async {
        redis.backlog(&keys, CONSUMER_GROUP).await.unwrap().pending == 3
    })
    .await;
    stuck.abort().await;
    job.set_script(Script::Succeed);
    let worker = start(&db, &redis, job.clone(), crash_settings());
    eventually("every event handled", || all_handled(&db.pool)).await;
    let counts = job.counts();
    assert_eq!(counts.len(), 3);
    for id in counts.keys() {
        // The interrupted delivery was attempt 1 (a slow machine may reclaim once more).
        assert!(job.attempts_of(*id)[0] >= 2, "{:?}", job.attempts_of(*id));
    }
    worker.stop().await;
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "simulates a relay that crashed before marking"
)]
async fn republished_events_are_skipped_by_outbox_id() {
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    let job = Recorder::new(Script::Succeed);
    let ids = insert_events(&db.pool, 2).await;
    let worker = start(&db, &redis, job.clone(), quick_settings());
    eventually("both handled", || all_handled(&db.pool)).await;
    // As if the relay had crashed after XADD but before its commit: the rows are published again.
    sqlx::query("update outbox set published_at = null")
        .execute(&db.pool)
        .await
        .unwrap();
    eventually("both skipped as duplicates", || async {
        metric(&worker.metrics.render(), "job_duplicates_skipped_total") == 2.0
    })
    .await;
    assert_eq!(job.counts().values().copied().collect::<Vec<_>>(), [1, 1]);
    assert_eq!(job.counts().keys().copied().collect::<Vec<_>>(), ids);
    worker.stop().await;
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "sets the trace context a traced request would"
)]
async fn the_trace_context_travels_from_the_outbox_row_to_the_job() {
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    let job = Recorder::new(Script::Succeed);
    insert_events(&db.pool, 1).await;
    let context = json!({"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"});
    sqlx::query("update outbox set trace_context = $1")
        .bind(&context)
        .execute(&db.pool)
        .await
        .unwrap();
    let worker = start(&db, &redis, job.clone(), quick_settings());
    eventually("handled", || all_handled(&db.pool)).await;
    assert_eq!(job.deliveries.lock().unwrap()[0].trace_context, context);
    worker.stop().await;
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "ages outbox rows instead of waiting a week"
)]
async fn the_janitor_deletes_only_rows_settled_before_the_retention() {
    let db = TestDb::migrated().await;
    let ids = insert_events(&db.pool, 4).await;
    // 0: handled 8 days ago; 1: dead-lettered 8 days ago; 2: handled just now;
    // 3: created 8 days ago and never handled (still owed work).
    for (id, set) in [
        (
            ids[0],
            "published_at = now(), handled_at = now() - interval '8 days'",
        ),
        (
            ids[1],
            "published_at = now(), dead_at = now() - interval '8 days', dead_reason = 'x'",
        ),
        (ids[2], "published_at = now(), handled_at = now()"),
        (ids[3], "created_at = now() - interval '8 days'"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "update outbox set {set} where id = $1"
        )))
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let janitor = switchyard_worker::Janitor {
        pool: db.pool.clone(),
        builds: switchyard_core::BuildDispatch::new(db.pool.clone(), "http://unused".to_owned()),
        deployments: switchyard_core::DeploymentDispatch::new(db.pool.clone(), None),
        deployment_idle: switchyard_worker::DEPLOYMENT_IDLE,
        build_timeout: Duration::from_secs(1800),
        outbox_retention: switchyard_worker::OUTBOX_RETENTION,
        interval: Duration::from_secs(60),
    };
    assert_eq!(janitor.prune_outbox().await.unwrap(), 2);
    let left: BTreeSet<_> = outbox_rows(&db.pool).await.iter().map(|r| r.id).collect();
    assert_eq!(left, BTreeSet::from([ids[2], ids[3]]));
    assert_eq!(janitor.prune_outbox().await.unwrap(), 0, "idempotent");
}

#[tokio::test]
async fn unfinished_work_is_looked_at_again_without_spending_attempts() {
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    // More looks than the attempts allowed: waiting must not exhaust them.
    let job = Recorder::new(Script::DoneOnLook(8));
    let ids = insert_events(&db.pool, 1).await;
    let worker = start(&db, &redis, job.clone(), quick_settings());
    eventually("the event handled after its looks", || {
        all_handled(&db.pool)
    })
    .await;
    assert_eq!(
        job.attempts_of(ids[0]),
        vec![1; 8],
        "every look is attempt 1"
    );
    assert!(job.dead.lock().unwrap().is_empty());
    eventually("7 requeues counted", || async {
        metric(&worker.metrics.render(), "job_requeues_total") == 7.0
    })
    .await;
    worker.stop().await;
}
