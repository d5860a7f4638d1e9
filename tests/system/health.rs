//! `/health`, `/health/live`, `/health/ready` against real dependencies, including PostgreSQL
//! going away and coming back.

use std::{os::unix::fs::PermissionsExt, time::Duration};

use reqwest::StatusCode;
use serde_json::Value;
use switchyard::serve::CancellationToken;
use switchyard::{
    local::{self, Lifetime, PostgresOptions},
    serve::{ServeDeps, spawn},
};
use switchyard_api::HttpConfig;
use switchyard_db::{DbConfig, MIGRATOR, MigrateOptions, admin, migrate};
use switchyard_testkit::TestApp;

#[tokio::test]
async fn health_reports_the_original_body_plus_schema() {
    let app = TestApp::spawn().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "healthy", "{body}");
    assert_eq!(body["service"], "switchyard-api");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        body["components"]["database"]["status"], "healthy",
        "{body}"
    );
    assert_eq!(body["components"]["cache"]["status"], "healthy", "{body}");
    assert_eq!(
        body["components"]["kubernetes"]["status"], "disabled",
        "{body}"
    );
    let known = MIGRATOR.iter().count();
    assert_eq!(body["schema"]["status"], "up_to_date", "{body}");
    assert_eq!(body["schema"]["applied"], known);
    assert_eq!(body["schema"]["known"], known);
}

#[tokio::test]
async fn live_and_ready_answer_the_original_bodies() {
    let app = TestApp::spawn().await;
    let live: Value = app.get("/health/live").await.json().await.unwrap();
    assert_eq!(live, serde_json::json!({"status": "ok"}));
    let response = app.get("/health/ready").await;
    assert_eq!(response.status(), StatusCode::OK);
    let ready: Value = response.json().await.unwrap();
    assert_eq!(ready, serde_json::json!({"status": "ready"}));
}

#[tokio::test]
async fn redis_down_degrades_the_cache_but_not_the_service() {
    let closed = local::free_port().unwrap();
    let app = TestApp::builder()
        .redis_url(Some(format!("redis://127.0.0.1:{closed}").into()))
        .spawn()
        .await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "healthy", "{body}");
    assert_eq!(body["components"]["cache"]["status"], "degraded", "{body}");
    let error = body["components"]["cache"]["error"].as_str().unwrap();
    assert!(error.contains("session revocation disabled"), "{error}");
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn no_redis_configured_reports_cache_disabled() {
    let app = TestApp::builder().redis_url(None).spawn().await;
    let body: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(body["components"]["cache"]["status"], "disabled", "{body}");
    assert_eq!(body["status"], "healthy");
}

/// The `kubernetes` component of `/health` once it satisfies `done`.
async fn kubernetes_until(app: &TestApp, done: impl Fn(&Value) -> bool) -> Value {
    let mut body = Value::Null;
    for _ in 0..100 {
        body = app.get("/health").await.json().await.unwrap();
        if done(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/health never got there: {body}");
}

#[tokio::test]
async fn a_cluster_that_stops_answering_degrades_health_and_render_mode_says_so() {
    let fake = switchyard_kube_fake::FakeApiServer::start().await;
    let reader = switchyard_k8s::cluster::Cluster::for_url(fake.url())
        .unwrap()
        .reader();
    let app = TestApp::builder()
        .deploys(switchyard_core::DeploySettings {
            view: switchyard_core::ClusterView::Cluster(reader),
            render: Default::default(),
        })
        .spawn()
        .await;
    let body = kubernetes_until(&app, |b| {
        b["components"]["kubernetes"]["status"] == "healthy"
    })
    .await;
    assert_eq!(body["status"], "healthy", "{body}");

    fake.fail_next(u32::MAX, 503);
    let body = kubernetes_until(&app, |b| {
        b["components"]["kubernetes"]["status"] == "unhealthy"
    })
    .await;
    assert_eq!(body["status"], "degraded", "{body}");
    let error = body["components"]["kubernetes"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("503"), "{body}");

    let dir = tempfile::tempdir().unwrap();
    let render = TestApp::builder()
        .deploys(switchyard_core::DeploySettings {
            view: switchyard_core::ClusterView::Render {
                dir: dir.path().to_path_buf(),
            },
            render: Default::default(),
        })
        .spawn()
        .await;
    let body: Value = render.get("/health").await.json().await.unwrap();
    assert_eq!(
        body["components"]["kubernetes"]["status"], "render",
        "{body}"
    );
    assert_eq!(body["status"], "healthy", "{body}");
    assert!(
        body["components"]["kubernetes"]["error"].is_null(),
        "render mode is no error: {body}"
    );
}

async fn wait_for_status(
    client: &reqwest::Client,
    url: &str,
    want: StatusCode,
) -> reqwest::Response {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status() == want
        {
            return response;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never answered {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// PostgreSQL stops: readiness and `/health` say so; it restarts: both recover, with no restart
/// of the API.
#[tokio::test]
async fn readiness_follows_postgres_down_and_back() {
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let options = PostgresOptions {
        dir: root.path().join("pg"),
        port: local::free_port().unwrap(),
        durable: false,
        lifetime: Lifetime::Owned,
    };
    let pg = local::postgres::start(&options).await.unwrap();
    let mut admin_conn = admin::wait_for(&pg.url("postgres"), Duration::from_secs(10))
        .await
        .unwrap();
    admin::create_database(&mut admin_conn, "app", None)
        .await
        .unwrap();
    let mut conn = admin::wait_for(&pg.url("app"), Duration::from_secs(10))
        .await
        .unwrap();
    migrate::up(&mut conn, &MIGRATOR, &MigrateOptions::default())
        .await
        .unwrap();
    drop((conn, admin_conn));

    let pool = switchyard_db::connect_lazy(&DbConfig::new(pg.url("app"))).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = CancellationToken::new();
    let deps = ServeDeps {
        http: HttpConfig::default(),
        pool,
        redis: None,
        migrator: &MIGRATOR,
        health_interval: Duration::from_millis(200),
        auth: switchyard_testkit::auth_settings(&switchyard_testkit::test_auth_config()),
        builds: switchyard_core::BuildSettings::default(),
        billing: switchyard_core::BillingSettings::default(),
        envvar_keys: None,
        domains: switchyard_core::DomainSettings::default(),
        deploys: switchyard_core::DeploySettings::default(),
        extra_metrics: None,
    };
    let running = spawn(listener, deps, shutdown.clone()).await.unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let ready = format!("http://{}/health/ready", running.addr);
    let health = format!("http://{}/health", running.addr);
    wait_for_status(&client, &ready, StatusCode::OK).await;

    pg.stop().await;
    let response = wait_for_status(&client, &ready, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");
    assert_eq!(body["error"], "database not ready");
    let response = wait_for_status(&client, &health, StatusCode::SERVICE_UNAVAILABLE).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unhealthy", "{body}");
    assert_eq!(
        body["components"]["database"]["status"], "unhealthy",
        "{body}"
    );

    let pg = local::postgres::start(&options).await.unwrap();
    wait_for_status(&client, &ready, StatusCode::OK).await;
    let body: Value = wait_for_status(&client, &health, StatusCode::OK)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "healthy", "{body}");
    shutdown.cancel();
    let _ = running.task.await;
    pg.stop().await;
}
