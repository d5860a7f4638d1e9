//! Sign-in routes are limited per client IP (5/min for register+login, 10/min for refresh and
//! logout) with `X-RateLimit-*` headers and a 429 in the error shape; `X-Forwarded-For` counts
//! only from trusted proxies.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchyard_api::HttpConfig;
use switchyard_testkit::TestApp;

async fn login(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": "nobody@example.com", "password": "wrong password"}));
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_sixth_sign_in_attempt_in_a_minute_is_429() {
    let app = TestApp::spawn().await;
    for remaining in (0..5).rev() {
        let response = login(&app, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["x-ratelimit-limit"], "5");
        assert_eq!(
            response.headers()["x-ratelimit-remaining"],
            remaining.to_string().as_str()
        );
        assert!(response.headers().contains_key("x-ratelimit-reset"));
    }
    let limited = login(&app, None).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    let reset: i64 = limited.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        reset > now && reset <= now + 61,
        "reset {reset} is when the window ends"
    );
    assert_eq!(
        limited.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Registration shares the bucket; other routes are not limited per IP.
    let register = app
        .client
        .post(app.url("/v1/auth/register"))
        .json(&json!({"email": "late@example.com", "password": "long enough"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limit() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        let response = login(&app, Some(&format!("198.51.100.{i}"))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let spoofed = login(&app, Some("198.51.100.99")).await;
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_allowance() {
    let app = TestApp::builder()
        .http(HttpConfig {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..HttpConfig::default()
        })
        .spawn()
        .await;
    for _ in 0..5 {
        assert_eq!(
            login(&app, Some("203.0.113.1")).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&app, Some("203.0.113.1")).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let other = login(&app, Some("203.0.113.2")).await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(other.headers()["x-ratelimit-remaining"], "4");
}
