//! Local sign-in, sessions (refresh rotation, reuse detection, logout), the JWKS and API tokens,
//! against real PostgreSQL and Redis.

use std::os::unix::fs::PermissionsExt;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchyard::local::{self, Lifetime};
use switchyard_testkit::TestApp;

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// `POST /v1/auth/refresh` with `token` as the refresh token.
async fn refresh(app: &TestApp, token: Value) -> reqwest::Response {
    post(
        app,
        "/v1/auth/refresh",
        None,
        json!({ "refresh_token": token }),
    )
    .await
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Registers `email` and returns the login response.
async fn register(app: &TestApp, email: &str) -> Value {
    let response = post(
        app,
        "/v1/auth/register",
        None,
        json!({"email": email, "password": "correct horse", "name": "Ada"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn error_of(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn register_login_and_me() {
    let app = TestApp::spawn().await;
    let login = register(&app, "ada@example.com").await;
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["user"]["email"], "ada@example.com");
    assert_eq!(
        login["user"]["role"], "developer",
        "new users can start a project"
    );
    assert!(login["refresh_token"].is_string() && login["expires_at"].is_string());

    let me: Value = get(&app, "/v1/auth/me", login["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["id"], login["user"]["id"]);

    let again = post(
        &app,
        "/v1/auth/login",
        None,
        json!({"email": "ADA@example.com", "password": "correct horse"}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["user"]["id"], login["user"]["id"]);
    assert!(again["user"]["last_login_at"].is_string());
}

/// Many sign-in requests: each comes from its own client behind a trusted proxy, so the per-IP
/// limit (5/min) does not interfere.
#[tokio::test]
async fn registration_rules_are_enforced() {
    let app = TestApp::builder()
        .http(switchyard_api::HttpConfig {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..switchyard_api::HttpConfig::default()
        })
        .spawn()
        .await;
    let mut client = 0;
    let mut send = |path: &'static str, body: Value| {
        client += 1;
        app.client
            .post(app.url(path))
            .header("x-forwarded-for", format!("192.0.2.{client}"))
            .json(&body)
            .send()
    };
    let first = send(
        "/v1/auth/register",
        json!({"email": "dup@example.com", "password": "correct horse"}),
    )
    .await
    .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let dup = send(
        "/v1/auth/register",
        json!({"email": "Dup@Example.com", "password": "another one"}),
    )
    .await
    .unwrap();
    assert!(
        error_of(dup, StatusCode::CONFLICT)
            .await
            .contains("already exists")
    );
    for (body, field) in [
        (
            json!({"email": "not-an-email", "password": "long enough"}),
            "email",
        ),
        (json!({"email": "a@b.co", "password": "short"}), "password"),
        (
            json!({"email": "a@b.co", "password": "x".repeat(73)}),
            "password",
        ),
        (
            json!({"email": "a@b.co", "password": "long enough", "name": "n".repeat(101)}),
            "name",
        ),
    ] {
        let response = send("/v1/auth/register", body).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let missing = send("/v1/auth/register", json!({"email": "a@b.co"}))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was created by the refused requests.
    let login = send(
        "/v1/auth/login",
        json!({"email": "a@b.co", "password": "long enough"}),
    )
    .await
    .unwrap();
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_credentials_get_the_original_401() {
    let app = TestApp::spawn().await;
    register(&app, "bob@example.com").await;
    for body in [
        json!({"email": "bob@example.com", "password": "wrong horse"}),
        json!({"email": "nobody@example.com", "password": "correct horse"}),
    ] {
        let response = post(&app, "/v1/auth/login", None, body).await;
        assert_eq!(
            error_of(response, StatusCode::UNAUTHORIZED).await,
            "Invalid email or password"
        );
    }
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401() {
    let app = TestApp::spawn().await;
    let response = app.get("/v1/auth/me").await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        error_of(response, StatusCode::UNAUTHORIZED).await,
        "Authorization required (header or token query param)"
    );
    let response = get(&app, "/v1/auth/me", "garbage").await;
    assert_eq!(
        error_of(response, StatusCode::UNAUTHORIZED).await,
        "Invalid or expired token"
    );
    let fake_api_token = format!("enclii_{}", "0".repeat(64));
    let response = get(&app, "/v1/auth/me", &fake_api_token).await;
    assert_eq!(
        error_of(response, StatusCode::UNAUTHORIZED).await,
        "Invalid or expired API token"
    );
    // A valid token in the query string is ignored outside WebSocket upgrades.
    let login = register(&app, "q@example.com").await;
    let url = app.url(&format!(
        "/v1/auth/me?token={}",
        login["access_token"].as_str().unwrap()
    ));
    assert_eq!(
        app.client.get(url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_refresh_token_ends_the_session() {
    let app = TestApp::spawn().await;
    let login = register(&app, "rot@example.com").await;
    let first_refresh = login["refresh_token"].as_str().unwrap().to_owned();

    let response = refresh(&app, json!(first_refresh)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let rotated: Value = response.json().await.unwrap();
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    let second_access = rotated["access_token"].as_str().unwrap().to_owned();
    assert_ne!(
        second_refresh, first_refresh,
        "a new refresh token every time"
    );
    assert_eq!(
        get(&app, "/v1/auth/me", &second_access).await.status(),
        StatusCode::OK
    );

    // Replaying the first refresh token: refused, and the whole session ends.
    let replay = refresh(&app, json!(first_refresh)).await;
    assert_eq!(
        error_of(replay, StatusCode::UNAUTHORIZED).await,
        "Invalid or expired refresh token"
    );
    let after = refresh(&app, json!(second_refresh)).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(&app, "/v1/auth/me", &second_access).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // An access token is not a refresh token.
    let other = register(&app, "rot2@example.com").await;
    let wrong = refresh(&app, json!(other["access_token"])).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let login = register(&app, "out@example.com").await;
    let access = login["access_token"].as_str().unwrap();
    let response = post(&app, "/v1/auth/logout", Some(access), json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Logged out successfully");
    assert_eq!(
        get(&app, "/v1/auth/me", access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refreshed = refresh(&app, json!(login["refresh_token"])).await;
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn jwks_publishes_the_signing_key() {
    let app = TestApp::spawn().await;
    let jwks: Value = app.get("/v1/auth/jwks").await.json().await.unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["alg"].as_str(),
            key["use"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    let login = register(&app, "kid@example.com").await;
    let header = login["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(header["alg"], "RS256");
}

#[tokio::test]
async fn sign_in_without_redis_is_refused_naming_the_setting() {
    let app = TestApp::builder().redis_url(None).spawn().await;
    let response = post(
        &app,
        "/v1/auth/register",
        None,
        json!({"email": "r@example.com", "password": "long enough"}),
    )
    .await;
    assert!(
        error_of(response, StatusCode::SERVICE_UNAVAILABLE)
            .await
            .contains("ENCLII_REDIS_URL")
    );
}

/// Redis goes down after sign-in: refresh fails closed (503), a valid access token still works.
#[tokio::test]
async fn refresh_fails_closed_when_sessions_cannot_be_checked() {
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let redis = local::redis::start(
        root.path().join("redis"),
        local::free_port().unwrap(),
        Lifetime::Owned,
    )
    .await
    .unwrap();
    let app = TestApp::builder()
        .redis_url(Some(redis.url()))
        .spawn()
        .await;
    let login = register(&app, "down@example.com").await;
    redis.stop().await;
    let refreshed = refresh(&app, json!(login["refresh_token"])).await;
    assert_eq!(refreshed.status(), StatusCode::SERVICE_UNAVAILABLE);
    let me = get(&app, "/v1/auth/me", login["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn admin_emails_register_as_admins_and_the_default_role_applies_to_others() {
    let mut auth = switchyard_testkit::test_auth_config();
    auth.admin_emails = vec!["boss@example.com".to_owned()];
    auth.default_role = switchyard_domain::Role::Viewer;
    let app = TestApp::builder().auth(auth).spawn().await;
    let boss = register(&app, "Boss@Example.com").await;
    assert_eq!(boss["user"]["role"], "admin");
    let other = register(&app, "someone@example.com").await;
    assert_eq!(other["user"]["role"], "viewer");
}
