//! 10,000 usage events through the outbox, the relay and the billing consumer while workers are
//! killed 50 times at random points: the ledger holds each event once and its totals equal the
//! sum of the inputs.

use std::{sync::Arc, time::Duration};

use switchyard_billing::{Ledger, UsageEvent, Workload, floor_hour};
use switchyard_db::repo::outbox;
use switchyard_domain::{DeploymentId, ProjectId, ReleaseId};
use switchyard_testkit::{TestDb, services};
use switchyard_worker::Worker;
use switchyard_worker::jobs::usage::UsageJob;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::jobs_support::{crash_settings, redis};

const PROJECTS: usize = 20;
const DEPLOYMENTS: usize = 2_000;
const BUILDS: usize = 4_000;

fn workload(replicas: u32) -> Workload {
    Workload {
        replicas,
        cpu_millicores: 500,
        memory_mb: 512,
        volumes: vec![],
    }
}

/// The events, and the exact totals they must add up to: (compute in GB-microseconds × 1e6 per
/// hour, i.e. rate_micro × microseconds, summed; build minutes in millionths).
fn inputs(now: OffsetDateTime) -> (Vec<UsageEvent>, i128, i64) {
    let base = floor_hour(now) - time::Duration::hours(30);
    let projects: Vec<ProjectId> = (0..PROJECTS).map(|_| ProjectId::new()).collect();
    let mut events = Vec::with_capacity(3 * DEPLOYMENTS + BUILDS);
    let mut compute: i128 = 0;
    for i in 0..DEPLOYMENTS {
        let p = projects[i % PROJECTS];
        let d = DeploymentId::new();
        let start = base + time::Duration::seconds(i64::try_from(i).unwrap() * 36);
        let scale = start + time::Duration::minutes(5);
        let stop = scale + time::Duration::minutes(10 * (i64::try_from(i % 7).unwrap() + 1));
        events.push(UsageEvent::deployment_started(
            p,
            d,
            "web",
            &workload(2),
            start,
        ));
        events.push(UsageEvent::deployment_scaled(
            p,
            d,
            "web",
            &workload(4),
            scale,
            "4",
        ));
        events.push(UsageEvent::deployment_stopped(
            p,
            d,
            "web",
            &workload(4),
            stop,
            "superseded",
        ));
        compute += 1_000_000 * (scale - start).whole_microseconds()
            + 2_000_000 * (stop - scale).whole_microseconds();
    }
    for i in 0..BUILDS {
        let at = base + time::Duration::seconds(i64::try_from(i).unwrap() * 20);
        events.push(UsageEvent::build_completed(
            projects[i % PROJECTS],
            ReleaseId::new(),
            "web",
            60.0,
            at,
        ));
    }
    (events, compute, i64::try_from(BUILDS).unwrap() * 1_000_000)
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test reads the ledger directly"
)]
async fn scalar(pool: &switchyard_db::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_count_once_through_fifty_worker_kills() {
    let started = std::time::Instant::now();
    let db = TestDb::migrated().await;
    let redis = redis(services().await.redis_url.clone());
    let now = OffsetDateTime::now_utc();
    let (events, compute_exact, build_minutes) = inputs(now);
    assert_eq!(events.len(), 10_000);
    let mut tx = db.pool.begin().await.unwrap();
    for e in &events {
        let payload = serde_json::to_value(e).unwrap();
        outbox::insert(
            &mut tx,
            &outbox::NewEvent {
                topic: switchyard_core::USAGE_TOPIC,
                aggregate_id: &e.resource_id.to_string(),
                payload: &payload,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let inserted = started.elapsed();

    let mut settings = crash_settings();
    settings.consumer.max_attempts = 1_000;
    settings.relay_batch = 200;
    let start = |settings: switchyard_worker::WorkerSettings| {
        let job = UsageJob::new(Ledger::new(db.pool.clone(), false));
        let worker = Worker::new(db.pool.clone(), redis.clone(), settings).with_job(Arc::new(job));
        let shutdown = CancellationToken::new();
        (shutdown.clone(), tokio::spawn(worker.run(shutdown)))
    };
    let mut replicas = [start(settings.clone()), start(settings.clone())];
    let mut rng = fastrand::Rng::with_seed(0xb111_0b0c);
    let handled = "select count(*) from outbox where handled_at is not null";
    let mut kills = 0;
    while kills < 50 {
        tokio::time::sleep(Duration::from_millis(rng.u64(20..200))).await;
        let victim = rng.usize(0..replicas.len());
        let fresh = start(settings.clone());
        let (_, task) = std::mem::replace(&mut replicas[victim], fresh);
        task.abort();
        let _ = task.await;
        kills += 1;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    while scalar(&db.pool, handled).await < 10_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "events still unhandled after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (shutdown, task) in replicas {
        shutdown.cancel();
        task.await.unwrap().unwrap();
    }
    let consumed = started.elapsed();

    assert_eq!(
        scalar(&db.pool, "select count(*) from usage_events").await,
        10_000
    );
    assert_eq!(
        scalar(&db.pool, "select count(distinct id) from usage_events").await,
        10_000
    );
    assert_eq!(
        scalar(
            &db.pool,
            "select count(*) from usage_intervals where ended_at is null"
        )
        .await,
        0,
        "every deployment was stopped"
    );
    assert_eq!(
        scalar(&db.pool, "select count(*) from usage_intervals").await,
        4_000
    );
    // rate (millionths of a GB per hour) × covered microseconds, over every stretch: exact.
    let exact: i64 = scalar(
        &db.pool,
        "select trunc(sum((rate * 1000000)::int8::numeric
                          * (extract(epoch from ended_at - started_at) * 1000000)) / 1000000)::int8
         from usage_intervals",
    )
    .await;
    assert_eq!(i128::from(exact), compute_exact / 1_000_000);

    let ledger = Ledger::new(db.pool.clone(), false);
    ledger.sweep(now).await.unwrap();
    let rows = crate::billing::hourly_rows(&db.pool).await;
    let sum = |metric: &str| -> i64 {
        rows.iter()
            .filter(|((_, m, _), _)| m == metric)
            .map(|(_, q)| q)
            .sum()
    };
    assert_eq!(
        sum("build_minutes"),
        build_minutes,
        "4,000 one-minute builds"
    );
    // Each stretch's share of an hour is rounded to a millionth once: the hourly sum is the
    // exact total within half a millionth per (stretch, hour) term.
    let expected = i64::try_from(compute_exact / 3_600_000_000).unwrap();
    let terms = 3 * 4_000;
    assert!(
        (sum("compute_gb_hours") - expected).abs() <= terms / 2,
        "{} vs {expected}",
        sum("compute_gb_hours")
    );
    println!(
        "billing chaos: 10,000 events inserted in {:.1} s, consumed through {kills} kills in {:.1} s, \
         compute {} GB-hours, {} build minutes",
        inserted.as_secs_f64(),
        consumed.as_secs_f64(),
        switchyard_billing::hourly::format_micro(sum("compute_gb_hours")),
        switchyard_billing::hourly::format_micro(sum("build_minutes")),
    );
}
