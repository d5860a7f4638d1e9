//! `switchyard worker` and the worker inside `switchyard dev`, as processes: committed outbox rows
//! are published to their stream, probes and metrics answer, SIGTERM stops them cleanly, and a
//! missing Redis is refused with the variable to set.

use std::{process::Stdio, time::Duration};

use secrecy::ExposeSecret;
use switchyard_testkit::TestDb;

use super::{run, switchyard, terminate, text, wait_for_health};

/// An outbox row as `project_delete` writes it; returns its id.
async fn insert_event(db: &TestDb) -> String {
    sqlx::query_scalar(
        "insert into outbox (id, topic, aggregate_id, payload)
         values (gen_random_uuid(), 'projects', 'p1', '{\"type\": \"project.deleted\"}')
         returning id::text",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

async fn published(db: &TestDb, id: &str) -> bool {
    sqlx::query_scalar("select published_at is not null from outbox where id::text = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// Polls `url` until its body contains `needle`; returns the body.
async fn wait_for_body(url: &str, needle: &str) -> String {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(url).send().await
            && let Ok(body) = response.text().await
            && body.contains(needle)
        {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never showed {needle}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_until_published(db: &TestDb, id: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !published(db, id).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "outbox row {id} never published"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The harness's Redis URL.
async fn shared_redis() -> String {
    switchyard_testkit::services()
        .await
        .redis_url
        .expose_secret()
        .to_owned()
}

/// `switchyard <args>` in the background, its output discarded.
fn spawn_quiet(args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    switchyard(args, env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

const PUBLISHED: &str = "switchyard_outbox_published_total{topic=\"projects\"} 1";

#[tokio::test]
async fn worker_publishes_the_outbox_and_serves_probes_and_metrics() {
    let db = TestDb::migrated().await;
    let url = db.url.expose_secret().to_owned();
    let redis = shared_redis().await;
    let prefix = format!("t_{}:", std::process::id());
    let port = switchyard::local::free_port().unwrap().to_string();
    let id = insert_event(&db).await;
    let child = spawn_quiet(
        &["worker"],
        &[
            ("ENCLII_DATABASE_URL", url.as_str()),
            ("ENCLII_REDIS_URL", redis.as_str()),
            ("ENCLII_REDIS_KEY_PREFIX", prefix.as_str()),
            ("ENCLII_WORKER_PORT", port.as_str()),
            ("ENCLII_WORKER_RELAY_POLL_MS", "20"),
        ],
    );
    wait_until_published(&db, &id).await;
    let live = wait_for_body(&format!("http://127.0.0.1:{port}/health/live"), "ok").await;
    assert_eq!(live, r#"{"status":"ok"}"#);
    let metrics = wait_for_body(&format!("http://127.0.0.1:{port}/metrics"), PUBLISHED).await;
    assert!(metrics.ends_with("# EOF\n"), "{metrics}");
    assert!(terminate(child).await.success());
}

#[tokio::test]
async fn worker_without_redis_names_the_variable() {
    let db = TestDb::migrated().await;
    let url = db.url.expose_secret().to_owned();
    let out = run(&["worker"], &[("ENCLII_DATABASE_URL", url.as_str())]).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ENCLII_REDIS_URL"), "{stderr}");
}

#[tokio::test]
async fn dev_runs_the_worker_in_process_and_serves_its_metrics() {
    let db = TestDb::migrated().await;
    let url = db.url.expose_secret().to_owned();
    let redis = shared_redis().await;
    let prefix = format!("t_dev_{}:", std::process::id());
    let port = switchyard::local::free_port().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let id = insert_event(&db).await;
    let child = spawn_quiet(
        &["dev", "--data-dir", data.path().to_str().unwrap()],
        &[
            ("ENCLII_DATABASE_URL", url.as_str()),
            ("ENCLII_REDIS_URL", redis.as_str()),
            ("ENCLII_REDIS_KEY_PREFIX", prefix.as_str()),
            ("ENCLII_PORT", port.as_str()),
        ],
    );
    wait_for_health(&port).await;
    wait_until_published(&db, &id).await;
    let metrics = wait_for_body(&format!("http://127.0.0.1:{port}/metrics"), PUBLISHED).await;
    assert!(metrics.contains("switchyard_http_requests"), "{metrics}");
    assert_eq!(metrics.matches("# EOF").count(), 1, "{metrics}");
    assert!(terminate(child).await.success());
}
