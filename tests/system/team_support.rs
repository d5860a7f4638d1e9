//! What the team and invitation tests share: a `TestApp` whose registrations each come from
//! their own client address, users, authenticated calls, and the team steps most tests take.

#![expect(
    clippy::disallowed_methods,
    reason = "tests read the audit log directly"
)]

use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

/// A TestApp behind which every registration comes from its own client address (the sign-in
/// limit is 5 a minute per address).
pub(crate) async fn spawn(admin_emails: &[&str]) -> TestApp {
    let mut auth = switchyard_testkit::test_auth_config();
    auth.admin_emails = admin_emails.iter().map(|e| (*e).to_owned()).collect();
    TestApp::builder()
        .http(switchyard_api::HttpConfig {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..switchyard_api::HttpConfig::default()
        })
        .auth(auth)
        .spawn()
        .await
}

pub(crate) struct User {
    pub(crate) token: String,
    pub(crate) id: String,
}

pub(crate) async fn user(app: &TestApp, email: &str) -> User {
    static CLIENT: AtomicU32 = AtomicU32::new(1);
    let client = CLIENT.fetch_add(1, Ordering::Relaxed);
    let response = app
        .client
        .post(app.url("/v1/auth/register"))
        .header(
            "x-forwarded-for",
            format!(
                "10.{}.{}.{}",
                client >> 16,
                (client >> 8) & 255,
                client & 255
            ),
        )
        .json(&json!({"email": email, "password": "correct horse", "name": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    User {
        token: body["access_token"].as_str().unwrap().to_owned(),
        id: body["user"]["id"].as_str().unwrap().to_owned(),
    }
}

pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &User,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&who.token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub(crate) async fn create_team(app: &TestApp, owner: &User, slug: &str) -> Value {
    let (status, team) = call(
        app,
        Method::POST,
        "/v1/teams",
        owner,
        Some(json!({"name": format!("Team {slug}"), "slug": slug})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    team
}

/// Invites `email` to `slug` as `role`; returns the plaintext token.
pub(crate) async fn invite(
    app: &TestApp,
    by: &User,
    slug: &str,
    email: &str,
    role: &str,
) -> String {
    let (status, body) = call(
        app,
        Method::POST,
        &format!("/v1/teams/{slug}/invitations"),
        by,
        Some(json!({"email": email, "role": role})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

pub(crate) async fn accept(app: &TestApp, who: &User, token: &str) -> (StatusCode, Value) {
    let path = format!("/v1/invitations/{token}/accept");
    call(app, Method::POST, &path, who, None).await
}

/// Invites and accepts: `who` (registered as `email`) joins `slug` as `role`.
pub(crate) async fn join(
    app: &TestApp,
    owner: &User,
    slug: &str,
    who: &User,
    email: &str,
    role: &str,
) {
    let token = invite(app, owner, slug, email, role).await;
    let (status, body) = accept(app, who, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

pub(crate) async fn roles(app: &TestApp, who: &User, slug: &str) -> Vec<(String, String)> {
    let path = format!("/v1/teams/{slug}/members");
    let (status, body) = call(app, Method::GET, &path, who, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m["id"], m["user_id"]);
            (
                m["email"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) async fn audit_actions(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select action from audit_log order by occurred_at, id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}
