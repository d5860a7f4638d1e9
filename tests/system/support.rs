//! Helpers shared by the system tests: sign up a user, mint an API token, make a call.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

/// Registers `email` and returns its session access token.
pub(crate) async fn register(app: &TestApp, email: &str) -> String {
    let response = app
        .client
        .post(app.url("/v1/auth/register"))
        .json(&json!({"email": email, "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Makes a request with an optional bearer and JSON body; returns the status and the JSON body
/// (`Null` when there is none).
pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `call` that must answer `expected`; returns the body.
pub(crate) async fn expect(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
    expected: StatusCode,
) -> Value {
    let (status, body) = call(app, method.clone(), path, Some(bearer), body.as_ref()).await;
    assert_eq!(status, expected, "{method} {path}: {body}");
    body
}

/// Gives `user_email` a direct grant on project `slug` (there is no grant route yet; team
/// membership is the other way in).
#[expect(
    clippy::disallowed_methods,
    reason = "test fixture SQL, checked by running it"
)]
pub(crate) async fn grant(app: &TestApp, user_email: &str, slug: &str, role: &str) {
    let mut conn = app.db.connect().await;
    sqlx::query(
        "insert into project_access (id, user_id, project_id, role)
         select gen_random_uuid(), u.id, p.id, $3 from users u, projects p
         where u.email = $1 and p.slug = $2",
    )
    .bind(user_email)
    .bind(slug)
    .bind(role)
    .execute(&mut conn)
    .await
    .unwrap();
}

/// A GET that must answer 200; returns the body.
pub(crate) async fn get_ok(app: &TestApp, path: &str, bearer: &str) -> Value {
    expect(app, Method::GET, path, bearer, None, StatusCode::OK).await
}

/// Registers `email` and creates the project `shop` as that user; returns the session token.
pub(crate) async fn shop_owner(app: &TestApp, email: &str) -> String {
    let bearer = register(app, email).await;
    expect(
        app,
        Method::POST,
        "/v1/projects",
        &bearer,
        Some(json!({"name": "Shop", "slug": "shop"})),
        StatusCode::CREATED,
    )
    .await;
    bearer
}
