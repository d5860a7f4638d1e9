//! The HTTP skeleton: error bodies, request ids, CORS, security headers, body limit, metrics.

use reqwest::{StatusCode, header};
use serde_json::Value;
use switchyard_api::HttpConfig;
use switchyard_testkit::TestApp;

/// Asserts the error body of DESIGN.md §6 and returns it.
async fn problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(!message.is_empty());
    assert_eq!(body["message"], message);
    assert_eq!(body["detail"], message);
    assert!(body["title"].is_string());
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["errors"].is_array());
    body
}

#[tokio::test]
async fn unknown_route_is_a_404_problem_with_request_id() {
    let app = TestApp::spawn().await;
    let body = problem(app.get("/nope").await, 404, "not_found").await;
    assert_eq!(body["error"], "route GET /nope not found");
}

#[tokio::test]
async fn wrong_method_is_a_405_problem_that_keeps_allow() {
    let app = TestApp::spawn().await;
    let response = app.client.delete(app.url("/health")).send().await.unwrap();
    let allow = response.headers()[header::ALLOW]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allow.contains("GET"), "{allow}");
    problem(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn oversized_body_is_a_413_problem() {
    let app = TestApp::builder()
        .http(HttpConfig {
            body_limit_bytes: 1024,
            ..HttpConfig::default()
        })
        .spawn()
        .await;
    let response = app
        .client
        .post(app.url("/health/live"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    problem(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn request_id_is_echoed_when_well_formed_and_replaced_otherwise() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "cli-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "cli-1234");
    let response = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "bad id with spaces");
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
}

#[tokio::test]
async fn cors_allows_patch_for_configured_origins_only() {
    let app = TestApp::spawn().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/health"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PATCH")
            .send()
    };
    let allowed = preflight("http://localhost:3000").await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:3000"
    );
    let methods = allowed.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap();
    assert!(methods.contains("PATCH"), "{methods}");
    let other = preflight("https://evil.example").await.unwrap();
    assert!(
        other
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
}

#[tokio::test]
async fn security_headers_are_set() {
    let app = TestApp::spawn().await;
    let response = app.get("/health/live").await;
    assert_eq!(
        response.headers()[header::X_CONTENT_TYPE_OPTIONS],
        "nosniff"
    );
    assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
    assert!(
        response
            .headers()
            .get(header::STRICT_TRANSPORT_SECURITY)
            .is_none()
    );
    let hsts = TestApp::builder()
        .http(HttpConfig {
            hsts: true,
            ..HttpConfig::default()
        })
        .spawn()
        .await;
    let response = hsts.get("/health/live").await;
    assert!(
        response.headers()[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
}

#[tokio::test]
async fn metrics_count_requests_by_matched_route() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/no/such/route").await.status(),
        StatusCode::NOT_FOUND
    );
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.starts_with(needle))
            .map(str::to_owned)
    };
    assert_eq!(
        line(r#"switchyard_http_requests_total{method="GET",route="/health/live",status="200"}"#)
            .as_deref(),
        Some(r#"switchyard_http_requests_total{method="GET",route="/health/live",status="200"} 2"#),
        "{text}"
    );
    assert!(
        line(r#"switchyard_http_requests_total{method="GET",route="unmatched",status="404"} 1"#)
            .is_some(),
        "{text}"
    );
    assert!(
        line(
            r#"switchyard_http_request_duration_seconds_count{method="GET",route="/health/live"} 2"#
        )
        .is_some(),
        "{text}"
    );
    assert!(
        line(r#"switchyard_schema_status{state="up_to_date"} 1"#).is_some(),
        "{text}"
    );
    assert!(
        line(r#"switchyard_db_pool_max_connections 10"#).is_some(),
        "{text}"
    );
    assert!(
        line(r#"switchyard_component_up{component="database"} 1"#).is_some(),
        "{text}"
    );
}
