//! Build → enqueue at a local Roundhouse (a real HTTP server) with the original payload and
//! bearer → signed callback → release `ready` → auto-deploy row. Roundhouse failing for a while is
//! retried; Roundhouse refusing, or not configured, fails the release with the cause.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use switchyard_core::BuildDispatch;
use switchyard_testkit::{TEST_ROUNDHOUSE_KEY, TestApp};
use switchyard_worker::{
    Worker,
    jobs::builds::{BuildsJob, Roundhouse},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::{
    jobs_support::{eventually, quick_settings, redis},
    support::{expect, get_ok},
};

/// What the fake Roundhouse received: (authorization header, JSON body).
pub(crate) type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// A Roundhouse on loopback answering `/internal/enqueue` with the scripted statuses (then 202).
/// Like the real one it dedupes: a release it already accepted gets the same job id again.
pub(crate) async fn fake_roundhouse(script: Vec<u16>) -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received: Received = Arc::default();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let jobs: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let log = received.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (log, script, jobs) = (log.clone(), script.clone(), jobs.clone());
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let mut buf = [0u8; 8192];
                let (head, body) = loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    raw.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&raw).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break (head.to_owned(), body.to_owned());
                        }
                    }
                };
                let auth = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .starts_with("authorization:")
                            .then(|| l[14..].trim().to_owned())
                    })
                    .unwrap_or_default();
                // A little work per request, so that a killed worker can die mid-call.
                tokio::time::sleep(std::time::Duration::from_millis(15)).await;
                let status = script.lock().unwrap().pop_front().unwrap_or(202);
                let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let release = body["release_id"].as_str().unwrap_or_default().to_owned();
                log.lock().unwrap().push((auth, body));
                let job_id = {
                    let mut jobs = jobs.lock().unwrap();
                    let next = format!("rh-{}", jobs.len() + 1);
                    if status < 300 {
                        jobs.entry(release).or_insert(next).clone()
                    } else {
                        next
                    }
                };
                let reply = json!({"job_id": job_id, "position": 1}).to_string();
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, received)
}

async fn start_worker(app: &TestApp, roundhouse: Option<&str>) -> CancellationToken {
    let dispatch = BuildDispatch::new(app.db.pool.clone(), format!("http://{}", app.addr));
    let roundhouse = roundhouse.map(|url| Roundhouse {
        url: url.to_owned(),
        key: Some(SecretString::from(TEST_ROUNDHOUSE_KEY.to_owned())),
    });
    let job = BuildsJob::new(dispatch, roundhouse).unwrap();
    let redis = redis(switchyard_testkit::services().await.redis_url.clone());
    let worker = Worker::new(app.db.pool.clone(), redis, quick_settings()).with_job(Arc::new(job));
    let shutdown = CancellationToken::new();
    tokio::spawn(worker.run(shutdown.clone()));
    shutdown
}

async fn build(app: &TestApp) -> (String, String, String) {
    let dockerfile = json!({"build_config": {"type": "dockerfile", "dockerfile": "Dockerfile"}});
    let (bearer, id) = crate::builds::service_with(app, "rh@example.com", dockerfile).await;
    let release = expect(
        app,
        Method::POST,
        &format!("/v1/services/{id}/build"),
        &bearer,
        Some(json!({"git_sha": "abcdef1234567890"})),
        StatusCode::CREATED,
    )
    .await;
    (bearer, id, release["id"].as_str().unwrap().to_owned())
}

async fn release_of(app: &TestApp, bearer: &str, service: &str) -> Value {
    get_ok(app, &format!("/v1/services/{service}/releases"), bearer).await["releases"][0].clone()
}

#[tokio::test]
async fn a_build_reaches_roundhouse_once_and_its_callback_deploys() {
    let app = TestApp::spawn().await;
    let (url, received) = fake_roundhouse(vec![503, 503]).await;
    let worker = start_worker(&app, Some(&url)).await;
    let (bearer, service, release) = build(&app).await;
    eventually("the release gets Roundhouse's job id", || async {
        release_of(&app, &bearer, &service).await["job_id"].is_string()
    })
    .await;
    let calls = received.lock().unwrap().clone();
    assert_eq!(calls.len(), 3, "two 503s retried, then accepted: {calls:?}");
    let (auth, body) = calls.last().unwrap();
    assert_eq!(auth, &format!("Bearer {TEST_ROUNDHOUSE_KEY}"));
    assert_eq!(
        body,
        &json!({
            "release_id": release, "service_id": service, "service_name": "api",
            "project_id": body["project_id"], "git_repo": "https://github.com/acme/shop",
            "git_sha": "abcdef1234567890", "git_branch": "main",
            "build_config": {"type": "dockerfile", "dockerfile": "Dockerfile", "context": ".", "build_args": {}},
            "callback_url": format!("http://{}/v1/callbacks/build-complete", app.addr), "priority": 1,
        })
    );
    let job_id = release_of(&app, &bearer, &service).await["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(job_id, "rh-1", "the first job Roundhouse accepted");

    // Roundhouse calls back (as today's Roundhouse does, with the key as a bearer).
    let result = json!({"job_id": job_id, "release_id": release, "success": true,
                        "image_uri": "ghcr.io/acme/api@sha256:f00"});
    let response = app
        .client
        .post(body["callback_url"].as_str().unwrap())
        .bearer_auth(TEST_ROUNDHOUSE_KEY)
        .json(&result)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let done: Value = response.json().await.unwrap();
    assert!(done["deployment_id"].is_string(), "{done}");
    let ready = release_of(&app, &bearer, &service).await;
    assert_eq!(
        (ready["status"].as_str(), ready["image_uri"].as_str()),
        (Some("ready"), Some("ghcr.io/acme/api@sha256:f00"))
    );
    worker.cancel();
}

#[tokio::test]
async fn a_refusing_or_missing_roundhouse_fails_the_release_with_the_cause() {
    let app = TestApp::spawn().await;
    let (url, _) = fake_roundhouse(vec![400]).await;
    let worker = start_worker(&app, Some(&url)).await;
    let (bearer, service, _) = build(&app).await;
    eventually("the release fails", || async {
        release_of(&app, &bearer, &service).await["status"] == "failed"
    })
    .await;
    let failed = release_of(&app, &bearer, &service).await;
    assert_eq!(failed["reason"], "EnqueueFailed");
    assert!(
        failed["error_message"]
            .as_str()
            .unwrap()
            .contains("refused the build (400"),
        "{failed}"
    );
    worker.cancel();

    let app = TestApp::spawn().await;
    let worker = start_worker(&app, None).await;
    let (bearer, service, _) = build(&app).await;
    eventually("the release fails", || async {
        release_of(&app, &bearer, &service).await["status"] == "failed"
    })
    .await;
    let failed = release_of(&app, &bearer, &service).await;
    assert!(
        failed["error_message"]
            .as_str()
            .unwrap()
            .contains("ENCLII_ROUNDHOUSE_URL"),
        "{failed}"
    );
    worker.cancel();
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "ages a release instead of waiting 30 minutes"
)]
async fn the_janitor_fails_builds_that_never_finish() {
    let app = TestApp::spawn().await;
    let (bearer, service, release) = build(&app).await;
    let mut conn = app.db.connect().await;
    sqlx::query(
        "update releases set created_at = now() - interval '31 minutes' where id = $1::uuid",
    )
    .bind(&release)
    .execute(&mut conn)
    .await
    .unwrap();
    let dispatch = BuildDispatch::new(app.db.pool.clone(), format!("http://{}", app.addr));
    let swept = dispatch
        .time_out_builds(std::time::Duration::from_secs(30 * 60))
        .await
        .unwrap();
    assert_eq!(swept, 1);
    let failed = release_of(&app, &bearer, &service).await;
    assert_eq!(
        (failed["status"].as_str(), failed["reason"].as_str()),
        (Some("failed"), Some("BuildTimedOut"))
    );
    assert!(
        failed["error_message"]
            .as_str()
            .unwrap()
            .contains("ENCLII_BUILD_TIMEOUT")
    );
    let again = dispatch
        .time_out_builds(std::time::Duration::from_secs(30 * 60))
        .await
        .unwrap();
    assert_eq!(again, 0, "a failed build is not swept twice");
    // A late callback cannot revive it.
    let late = app
        .client
        .post(app.url("/v1/callbacks/build-complete"))
        .bearer_auth(TEST_ROUNDHOUSE_KEY)
        .json(&json!({"job_id": "late", "release_id": release, "success": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::CONFLICT);
}
