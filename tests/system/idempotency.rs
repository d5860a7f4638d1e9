//! `Idempotency-Key` over HTTP: replays, reuse with another request, callers kept apart, refusals
//! that free the key, secrets that are never kept, keys in progress and expired, and requests the
//! header does not concern.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::support::{expect, get_ok, register};

/// One answer: status, the replay marker, the content type and the raw body.
struct Answer {
    status: StatusCode,
    replayed: Option<String>,
    content_type: Option<String>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap()
    }
}

async fn post(
    app: &TestApp,
    path: &str,
    bearer: Option<&str>,
    key: Option<&str>,
    body: &Value,
) -> Answer {
    let mut request = app.client.request(Method::POST, app.url(path)).json(body);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    Answer {
        status: response.status(),
        replayed: header("idempotent-replayed"),
        content_type: header("content-type"),
        text: response.text().await.unwrap(),
    }
}

fn project(slug: &str) -> Value {
    json!({"name": format!("Project {slug}"), "slug": slug})
}

/// `POST /v1/projects` for `slug` under `key`.
async fn create(app: &TestApp, bearer: &str, key: &str, slug: &str) -> Answer {
    post(app, "/v1/projects", Some(bearer), Some(key), &project(slug)).await
}

async fn project_slugs(app: &TestApp, bearer: &str) -> Vec<String> {
    let listed = get_ok(app, "/v1/projects", bearer).await;
    listed["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// The kept rows: (key, status, whether a body is kept).
#[expect(
    clippy::disallowed_methods,
    reason = "test inspection SQL, checked by running it"
)]
async fn rows(app: &TestApp) -> Vec<(String, String, bool)> {
    let mut conn = app.db.connect().await;
    sqlx::query_as(
        "select key, status, response_body is not null from idempotency_keys order by key",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

#[expect(
    clippy::disallowed_methods,
    reason = "test fixture SQL, checked by running it"
)]
async fn execute(app: &TestApp, sql: &'static str) {
    let mut conn = app.db.connect().await;
    sqlx::query(sql).execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn a_retry_gets_the_first_response_and_creates_once() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "replay@example.com").await;
    let first = create(&app, &ada, "key-1", "shop").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.replayed, None);
    let again = create(&app, &ada, "key-1", "shop").await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.replayed.as_deref(), Some("true"));
    assert_eq!(again.text, first.text, "the same body, byte for byte");
    assert_eq!(again.content_type, first.content_type);
    assert_eq!(project_slugs(&app, &ada).await, ["shop"]);
    assert_eq!(
        rows(&app).await,
        [("key-1".to_owned(), "done".to_owned(), true)]
    );
}

#[tokio::test]
async fn the_key_with_a_different_request_is_422_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "reuse@example.com").await;
    let first = create(&app, &ada, "key-1", "shop").await;
    assert_eq!(first.status, StatusCode::CREATED);
    for (path, body) in [
        ("/v1/projects", project("blog")),
        ("/v1/teams", json!({"name": "Ops", "slug": "ops"})),
    ] {
        let reused = post(&app, path, Some(&ada), Some("key-1"), &body).await;
        assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let problem = reused.json();
        assert_eq!(problem["code"], "idempotency_key_reused");
        assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
        assert!(
            problem["error"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{problem}"
        );
    }
    assert_eq!(project_slugs(&app, &ada).await, ["shop"]);
    let teams = get_ok(&app, "/v1/teams", &ada).await;
    assert_eq!(teams["teams"], json!([]), "{teams}");
}

#[tokio::test]
async fn callers_have_their_own_keys() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "ada-keys@example.com").await;
    let bob = register(&app, "bob-keys@example.com").await;
    let for_ada = create(&app, &ada, "shared", "ada-app").await;
    let for_bob = create(&app, &bob, "shared", "bob-app").await;
    for answer in [&for_ada, &for_bob] {
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        assert_eq!(answer.replayed, None);
    }
    assert_eq!(project_slugs(&app, &ada).await, ["ada-app"]);
    assert_eq!(project_slugs(&app, &bob).await, ["bob-app"]);
}

/// A refusal changed nothing, so it is not kept: the corrected request may use the same key.
#[tokio::test]
async fn a_refused_request_frees_its_key() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "refused@example.com").await;
    let refused = create(&app, &ada, "key-1", "Not A Slug").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(rows(&app).await, []);
    let fixed = create(&app, &ada, "key-1", "shop").await;
    assert_eq!(fixed.status, StatusCode::CREATED, "{}", fixed.text);
    assert_eq!(fixed.replayed, None);
    let again = create(&app, &ada, "key-1", "shop").await;
    assert_eq!(again.replayed.as_deref(), Some("true"));
    // A conflict is not kept either: it depends on state that may change.
    let taken = create(&app, &ada, "key-2", "shop").await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    assert_eq!(
        rows(&app).await,
        [("key-1".to_owned(), "done".to_owned(), true)]
    );
}

/// A new API token and an invitation token are shown once: their responses are never at rest.
#[tokio::test]
async fn responses_with_secrets_are_not_kept_and_not_replayed() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "secrets@example.com").await;
    let body = json!({"name": "ci"});
    let created = post(&app, "/v1/user/tokens", Some(&ada), Some("token-1"), &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let again = post(&app, "/v1/user/tokens", Some(&ada), Some("token-1"), &body).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.replayed, None);
    assert!(
        again.json()["error"].as_str().unwrap().contains("secret"),
        "{}",
        again.text
    );
    let other = post(
        &app,
        "/v1/user/tokens",
        Some(&ada),
        Some("token-1"),
        &json!({"name": "x"}),
    )
    .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    let tokens = get_ok(&app, "/v1/user/tokens", &ada).await;
    assert_eq!(tokens["tokens"].as_array().unwrap().len(), 1, "{tokens}");

    expect(
        &app,
        Method::POST,
        "/v1/teams",
        &ada,
        Some(json!({"name": "Ops", "slug": "ops"})),
        StatusCode::CREATED,
    )
    .await;
    let invite = json!({"email": "guest@example.com", "role": "member"});
    let path = "/v1/teams/ops/invitations";
    let invited = post(&app, path, Some(&ada), Some("invite-1"), &invite).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    let again = post(&app, path, Some(&ada), Some("invite-1"), &invite).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    assert_eq!(
        rows(&app).await,
        [
            ("invite-1".to_owned(), "withheld".to_owned(), false),
            ("token-1".to_owned(), "withheld".to_owned(), false),
        ]
    );
    let token = created.json()["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("enclii_"));
}

#[tokio::test]
async fn a_malformed_key_is_400_naming_the_header() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "malformed@example.com").await;
    let long = "k".repeat(256);
    for key in ["two words", long.as_str()] {
        let answer = create(&app, &ada, key, "shop").await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{key}");
        assert_eq!(answer.json()["errors"][0]["field"], "Idempotency-Key");
    }
    assert_eq!(project_slugs(&app, &ada).await, Vec::<String>::new());
}

#[tokio::test]
async fn requests_the_header_does_not_concern_run_as_before() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "plain@example.com").await;
    let first = post(&app, "/v1/projects", Some(&ada), None, &project("shop")).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = post(&app, "/v1/projects", Some(&ada), None, &project("shop")).await;
    assert_eq!(
        second.status,
        StatusCode::CONFLICT,
        "without a key it runs again"
    );
    assert_eq!(second.replayed, None);
    let anonymous = post(&app, "/v1/projects", None, Some("key-1"), &project("blog")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // Not a creating route: the key is ignored, even a malformed one.
    let login = json!({"email": "plain@example.com", "password": "correct horse"});
    let signed_in = post(&app, "/v1/auth/login", None, Some("bad key"), &login).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    assert_eq!(rows(&app).await, []);
}

#[tokio::test]
async fn a_key_in_progress_is_409_and_an_expired_key_is_free() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "pending@example.com").await;
    let first = create(&app, &ada, "key-1", "shop").await;
    assert_eq!(first.status, StatusCode::CREATED);
    // As if the first request were still running.
    execute(
        &app,
        "update idempotency_keys set status = 'pending', response_status = null, response_body = null",
    )
    .await;
    let busy = create(&app, &ada, "key-1", "shop").await;
    assert_eq!(busy.status, StatusCode::CONFLICT, "{}", busy.text);
    assert!(
        busy.json()["error"]
            .as_str()
            .unwrap()
            .contains("in progress"),
        "{}",
        busy.text
    );
    // Past its expiry a key counts as absent, even for a different request.
    execute(
        &app,
        "update idempotency_keys set expires_at = now() - interval '1 second'",
    )
    .await;
    let fresh = create(&app, &ada, "key-1", "blog").await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.text);
    assert_eq!(fresh.replayed, None);
    assert_eq!(project_slugs(&app, &ada).await, ["shop", "blog"]);
}

/// A revoked token gets a 401, not the replay of what it created.
#[tokio::test]
async fn a_revoked_token_gets_no_replay() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "revoked@example.com").await;
    let created = expect(
        &app,
        Method::POST,
        "/v1/user/tokens",
        &ada,
        Some(json!({"name": "ci"})),
        StatusCode::CREATED,
    )
    .await;
    let token = created["token"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    let first = create(&app, token, "key-1", "shop").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    expect(
        &app,
        Method::DELETE,
        &format!("/v1/user/tokens/{id}"),
        &ada,
        None,
        StatusCode::OK,
    )
    .await;
    let replay = create(&app, token, "key-1", "shop").await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.text);
}
