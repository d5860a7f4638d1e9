//! The log WebSockets over real sockets: a token in `?token=` or the header; `Origin` refused
//! (403) unless allowed, absent (the CLI) accepted; 401 without a valid token; another tenant's
//! deployment or service 404 before any upgrade; the environment only by name within the
//! service's own project; messages in the original `LogStreamMessage` shape; and a `?token=`
//! never reaches the log.

use std::{
    io,
    sync::{Arc, Mutex, PoisonError},
};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tracing::Level;

use crate::{
    logs_support::{NS, brief, logs_app, message, pod, ws},
    support::{call, expect, register},
};

fn triple(kind: &str, pod: &str, text: &str) -> (String, String, String) {
    (kind.to_owned(), pod.to_owned(), text.to_owned())
}

#[tokio::test]
async fn a_service_stream_with_a_query_token_follows_its_pods_until_they_end() {
    let t = logs_app().await;
    pod(&t.fake, NS, "api-a", &t.deployment, "a1\na2\n");
    let path = format!(
        "/v1/services/{}/logs/stream?env=production&lines=1&token={}",
        t.service, t.owner
    );
    let mut socket = ws(&t.app, &path, &[]).await.unwrap();
    let connected = message(&mut socket).await.unwrap();
    assert_eq!(connected["type"], "connected");
    assert!(connected["timestamp"].as_str().unwrap().ends_with('Z'));
    let first = message(&mut socket).await.unwrap();
    assert_eq!(brief(&first), triple("log", "api-a", "a2"));
    assert_eq!(first["container"], "api");
    t.fake.append_logs(NS, "api-a", "written later\n");
    let later = message(&mut socket).await.unwrap();
    assert_eq!(brief(&later), triple("log", "api-a", "written later"));
    assert!(t.fake.delete("Pod", NS, "api-a"));
    let last = message(&mut socket).await.unwrap();
    assert_eq!(last["type"], "disconnected");
    assert_eq!(message(&mut socket).await, None, "the server closes");
}

#[tokio::test]
async fn a_deployment_stream_with_the_header_carries_timestamps_and_pod_errors() {
    let t = logs_app().await;
    pod(&t.fake, NS, "api-a", &t.deployment, "hello\n");
    t.fake.add_pod(
        NS,
        "api-b",
        json!({"app": "api", "enclii.dev/service": "api", "enclii.dev/deployment": t.deployment}),
        json!({"containerStatuses": [{"name": "api",
            "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}),
    );
    let path = format!(
        "/v1/deployments/{}/logs/stream?timestamps=true",
        t.deployment
    );
    let header = format!("Bearer {}", t.owner);
    let mut socket = ws(&t.app, &path, &[("authorization", &header)])
        .await
        .unwrap();
    assert_eq!(message(&mut socket).await.unwrap()["type"], "connected");
    let mut two = [
        message(&mut socket).await.unwrap(),
        message(&mut socket).await.unwrap(),
    ];
    two.sort_by_key(|m| m["pod"].as_str().unwrap_or_default().to_owned());
    assert_eq!(brief(&two[0]), triple("log", "api-a", "hello"));
    assert_eq!(two[0]["timestamp"], switchyard_kube_fake::LOG_TIMESTAMP);
    assert_eq!(two[1]["type"], "error");
    assert_eq!(two[1]["pod"], "api-b");
    assert!(
        two[1]["message"]
            .as_str()
            .unwrap()
            .contains("ImagePullBackOff")
    );
}

#[tokio::test]
async fn origins_are_checked_only_when_sent() {
    let t = logs_app().await;
    let path = format!(
        "/v1/deployments/{}/logs/stream?token={}",
        t.deployment, t.owner
    );
    let (status, body) = ws(&t.app, &path, &[("origin", "https://evil.example")])
        .await
        .err()
        .unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("ENCLII_WEBSOCKET_ALLOWED_ORIGINS")
    );
    // The CORS origins are allowed by default; the CLI sends no Origin at all.
    for headers in [&[("origin", "http://localhost:3000")][..], &[]] {
        let mut socket = ws(&t.app, &path, headers).await.unwrap();
        let first = message(&mut socket).await.unwrap();
        assert_eq!(first["type"], "connected");
        let info = message(&mut socket).await.unwrap();
        assert_eq!(info["type"], "info", "no pods run: {info}");
        assert_eq!(message(&mut socket).await.unwrap()["type"], "disconnected");
    }
}

#[tokio::test]
async fn tokens_tenants_environments_and_plain_requests_are_refused_before_upgrading() {
    let t = logs_app().await;
    let other = register(&t.app, "other@example.com").await;
    expect(
        &t.app,
        Method::POST,
        "/v1/projects",
        &other,
        Some(json!({"name": "Mine", "slug": "mine"})),
        StatusCode::CREATED,
    )
    .await;
    let deployment = format!("/v1/deployments/{}/logs/stream", t.deployment);
    let service = format!("/v1/services/{}/logs/stream", t.service);
    for path in [&deployment, &service] {
        let (status, _) = ws(&t.app, path, &[]).await.err().unwrap();
        assert_eq!(status, 401, "{path}: no token");
        let bad = format!("{path}?token=not-a-token");
        assert_eq!(ws(&t.app, &bad, &[]).await.err().unwrap().0, 401, "{bad}");
        let others = format!("{path}?token={other}");
        assert_eq!(
            ws(&t.app, &others, &[]).await.err().unwrap().0,
            404,
            "{others}"
        );
        let (status, body) = call(&t.app, Method::GET, path, Some(&t.owner), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "not an upgrade: {body}");
    }
    // The environment is looked up by name in the service's own project, never built from it.
    for env in ["staging", "production/../mine", "mine-production"] {
        let path = format!("{service}?env={env}&token={}", t.owner);
        let (status, body) = ws(&t.app, &path, &[]).await.err().unwrap();
        assert_eq!(status, 404, "{env}: {body}");
    }
}

/// Everything the app logs while a test runs, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_query_token_is_never_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test's runtime runs the app's tasks on this thread, so they log here.
    let _guard = tracing::subscriber::set_default(subscriber);
    let t = logs_app().await;
    let path = format!("/v1/deployments/{}/logs/stream", t.deployment);
    let mut socket = ws(&t.app, &format!("{path}?token={}", t.owner), &[])
        .await
        .unwrap();
    assert_eq!(message(&mut socket).await.unwrap()["type"], "connected");
    drop(socket);
    let refused = "enclii_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";
    let (status, _) = ws(&t.app, &format!("{path}?token={refused}"), &[])
        .await
        .err()
        .unwrap();
    assert_eq!(status, 401);
    let (status, _) = ws(
        &t.app,
        &format!("{path}?token={}", t.owner),
        &[("origin", "https://evil.example")],
    )
    .await
    .err()
    .unwrap();
    assert_eq!(status, 403);
    let logged = captured.text();
    assert!(
        logged.contains("/v1/deployments/{id}/logs/stream"),
        "the requests were logged (by route): {logged}"
    );
    assert!(!logged.contains(&t.owner), "a session token was logged");
    assert!(!logged.contains(refused), "a refused token was logged");
}
