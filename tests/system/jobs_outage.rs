//! Redis going away mid-run: use-cases keep writing the outbox, the relay keeps the rows
//! unpublished (counting its failed attempts), and everything is handled once Redis is back.

use std::time::Duration;

use switchyard::local::{self, Lifetime};
use switchyard_testkit::TestDb;
use switchyard_worker::Worker;
use tokio_util::sync::CancellationToken;

use crate::jobs_support::{
    Recorder, Script, all_handled, eventually, insert_events, metric, outbox_rows, quick_settings,
    redis,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_waits_in_the_outbox_while_redis_is_down_and_resumes_after() {
    let dir = tempfile::tempdir().unwrap();
    let port = local::free_port().unwrap();
    let server = local::redis::start(dir.path().join("redis"), port, Lifetime::Owned)
        .await
        .unwrap();
    let redis = redis(server.url());
    let db = TestDb::migrated().await;
    let job = Recorder::new(Script::Succeed);
    let worker =
        Worker::new(db.pool.clone(), redis.clone(), quick_settings()).with_job(job.clone());
    let metrics = worker.metrics();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(worker.run(shutdown.clone()));

    let before = insert_events(&db.pool, 10).await;
    eventually("the first 10 handled", || all_handled(&db.pool)).await;

    server.stop().await;
    let during = insert_events(&db.pool, 10).await;
    eventually("the relay tried and failed", || async {
        outbox_rows(&db.pool).await.iter().any(|r| r.attempts > 0)
    })
    .await;
    let rows = outbox_rows(&db.pool).await;
    for row in rows.iter().filter(|r| during.contains(&r.id)) {
        assert!(!row.published, "published while Redis was down: {row:?}");
    }
    eventually("the backlog gauge shows the waiting events", || async {
        metric(&metrics.render(), "outbox_backlog") == 10.0
    })
    .await;

    let server = local::redis::start(dir.path().join("redis"), port, Lifetime::Owned)
        .await
        .unwrap();
    eventually("all 20 handled after Redis returned", || {
        all_handled(&db.pool)
    })
    .await;
    let counts = job.counts();
    for id in before.iter().chain(&during) {
        assert!(
            counts.get(id).is_some_and(|&n| n >= 1),
            "{id} never handled"
        );
    }
    assert_eq!(counts.len(), 20);
    eventually("the backlog gauge drains", || async {
        metric(&metrics.render(), "outbox_backlog") == 0.0
    })
    .await;
    let rows = outbox_rows(&db.pool).await;
    assert!(rows.iter().all(|r| r.published && r.handled));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn the_worker_is_ready_only_while_it_reaches_postgres_and_redis() {
    let dir = tempfile::tempdir().unwrap();
    let port = local::free_port().unwrap();
    let server = local::redis::start(dir.path().join("redis"), port, Lifetime::Owned)
        .await
        .unwrap();
    let db = TestDb::migrated().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health/ready", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let probes = tokio::spawn(switchyard_api::serve_probes(
        listener,
        std::sync::Arc::new(String::new),
        switchyard::worker::readiness(db.pool.clone(), redis(server.url())),
        shutdown.clone().cancelled_owned(),
    ));
    let ready = || async {
        let response = reqwest::get(&url).await.unwrap();
        let status = response.status();
        (status, response.json::<serde_json::Value>().await.unwrap())
    };
    let (status, body) = ready().await;
    assert_eq!(
        (status.as_u16(), body["status"].as_str()),
        (200, Some("ready"))
    );
    server.stop().await;
    let (status, body) = ready().await;
    assert_eq!(status.as_u16(), 503, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("Redis"),
        "{body}"
    );
    shutdown.cancel();
    probes.await.unwrap().unwrap();
}
