//! API tokens: created once, usable as a bearer, listed without the secret, private to their
//! owner, narrowed by scopes, refused once revoked, at most ten live.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::support::register;

async fn create(app: &TestApp, bearer: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/user/tokens"))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_is_shown_once_and_works_as_a_bearer() {
    let app = TestApp::spawn().await;
    let bearer = register(&app, "cli@example.com").await;
    let response = create(
        &app,
        &bearer,
        json!({"name": "laptop", "expires_in_days": 30}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("enclii_") && token.len() == 71, "{token}");
    assert_eq!(created["prefix"], &token[..16]);
    assert!(created["expire_at"].is_string() && created["expire_at"] == created["expires_at"]);

    let me = call(&app, reqwest::Method::GET, "/v1/auth/me", &token).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], "cli@example.com");

    let list: Value = call(&app, reqwest::Method::GET, "/v1/user/tokens", &bearer)
        .await
        .json()
        .await
        .unwrap();
    let tokens = list["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["name"], "laptop");
    assert_eq!(tokens[0]["revoked"], false);
    assert!(
        !list.to_string().contains(&token),
        "the secret is never listed"
    );
    let id = tokens[0]["id"].as_str().unwrap();
    let view = call(
        &app,
        reqwest::Method::GET,
        &format!("/v1/user/tokens/{id}"),
        &bearer,
    )
    .await;
    assert_eq!(view.status(), StatusCode::OK);
}

#[tokio::test]
async fn tokens_are_private_to_their_owner() {
    let app = TestApp::spawn().await;
    let alice = register(&app, "alice@example.com").await;
    let mallory = register(&app, "mallory@example.com").await;
    let created: Value = create(&app, &alice, json!({"name": "ci"}))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/user/tokens/{}", created["id"].as_str().unwrap());
    assert_eq!(
        call(&app, reqwest::Method::GET, &path, &mallory)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &mallory)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let list: Value = call(&app, reqwest::Method::GET, "/v1/user/tokens", &mallory)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["tokens"], json!([]));
    // Still Alice's and still working.
    let token = created["token"].as_str().unwrap();
    assert_eq!(
        call(&app, reqwest::Method::GET, "/v1/auth/me", token)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let bearer = register(&app, "rev@example.com").await;
    let created: Value = create(&app, &bearer, json!({"name": "old"}))
        .await
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap();
    let path = format!("/v1/user/tokens/{}", created["id"].as_str().unwrap());
    let revoked = call(&app, reqwest::Method::DELETE, &path, &bearer).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let body: Value = revoked.json().await.unwrap();
    assert_eq!(body["message"], "Token revoked");
    assert_eq!(
        call(&app, reqwest::Method::GET, "/v1/auth/me", token)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &bearer)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let live: Value = call(&app, reqwest::Method::GET, "/v1/user/tokens", &bearer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["tokens"], json!([]));
    let all: Value = call(
        &app,
        reqwest::Method::GET,
        "/v1/user/tokens?include_revoked=true",
        &bearer,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(all["tokens"][0]["revoked"], true);
}

#[tokio::test]
async fn scopes_can_only_narrow() {
    let app = TestApp::spawn().await;
    let bearer = register(&app, "dev@example.com").await;
    let escalate = create(&app, &bearer, json!({"name": "root", "scopes": ["admin"]})).await;
    assert_eq!(escalate.status(), StatusCode::FORBIDDEN);
    let unknown = create(&app, &bearer, json!({"name": "x", "scopes": ["superuser"]})).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let narrow = create(
        &app,
        &bearer,
        json!({"name": "read-only", "scopes": ["viewer"]}),
    )
    .await;
    assert_eq!(narrow.status(), StatusCode::CREATED);
    let narrow: Value = narrow.json().await.unwrap();
    // A viewer-scoped token cannot mint a developer token: scopes are checked against the
    // token's own (narrowed) role.
    let via_viewer = create(
        &app,
        narrow["token"].as_str().unwrap(),
        json!({"name": "up", "scopes": ["developer"]}),
    )
    .await;
    assert_eq!(via_viewer.status(), StatusCode::FORBIDDEN);
    let list: Value = call(&app, reqwest::Method::GET, "/v1/user/tokens", &bearer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["tokens"].as_array().unwrap().len(),
        1,
        "refused requests created nothing"
    );
}

#[tokio::test]
async fn at_most_ten_live_tokens_and_names_are_validated() {
    let app = TestApp::spawn().await;
    let bearer = register(&app, "many@example.com").await;
    for bad in [
        json!({"name": ""}),
        json!({"name": "n".repeat(101)}),
        json!({"name": "x", "expires_in_days": 0}),
    ] {
        assert_eq!(
            create(&app, &bearer, bad).await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    for i in 0..10 {
        assert_eq!(
            create(&app, &bearer, json!({"name": format!("t{i}")}))
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let eleventh = create(&app, &bearer, json!({"name": "t10"})).await;
    assert_eq!(eleventh.status(), StatusCode::BAD_REQUEST);
    let problem: Value = eleventh.json().await.unwrap();
    assert!(
        problem["error"]
            .as_str()
            .unwrap()
            .contains("10 active tokens"),
        "{problem}"
    );
}
