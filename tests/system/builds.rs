//! Builds over HTTP: a trigger creates the release and its `builds` event in one transaction;
//! Roundhouse's callback is authenticated (signature or bearer), moves the release once, and
//! auto-deploys; replays, contradictions, stale timestamps and forged bodies change nothing.

use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use switchyard_auth::callback::sign;
use switchyard_testkit::{TEST_ROUNDHOUSE_KEY, TestApp};

use crate::support::{call, expect, get_ok, shop_owner};

fn key() -> SecretString {
    SecretString::from(TEST_ROUNDHOUSE_KEY.to_owned())
}

pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Posts `body` to the callback, signed at `ts` unless `signature` overrides it.
pub(crate) async fn callback(
    app: &TestApp,
    body: &[u8],
    ts: i64,
    signature: Option<&str>,
) -> (StatusCode, Value) {
    let sig = signature.map_or_else(|| sign(&key(), ts, body), str::to_owned);
    let response = app
        .client
        .post(app.url("/v1/callbacks/build-complete"))
        .header("content-type", "application/json")
        .header("x-enclii-timestamp", ts.to_string())
        .header("x-enclii-signature", sig)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A project `shop` with service `api` (auto-deploy to `production`); returns (bearer, service id).
pub(crate) async fn service(app: &TestApp) -> (String, String) {
    service_with(app, "builder@example.com", json!({})).await
}

/// A project `shop` owned by `email` with service `api` of `github.com/acme/shop` and the spec
/// fields `more`; returns (bearer, service id).
pub(crate) async fn service_with(app: &TestApp, email: &str, more: Value) -> (String, String) {
    let bearer = shop_owner(app, email).await;
    let mut spec = json!({"name": "api", "git_repo": "https://github.com/acme/shop"});
    if let (Some(spec), Value::Object(more)) = (spec.as_object_mut(), more) {
        spec.extend(more);
    }
    let service = expect(
        app,
        Method::POST,
        "/v1/projects/shop/services",
        &bearer,
        Some(spec),
        StatusCode::CREATED,
    )
    .await;
    (bearer, service["id"].as_str().unwrap().to_owned())
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test reads the outbox directly"
)]
pub(crate) async fn outbox(app: &TestApp, topic: &str) -> Vec<Value> {
    let mut conn = app.db.connect().await;
    sqlx::query_scalar("select payload from outbox where topic = $1 order by created_at")
        .bind(topic)
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_build_is_a_release_and_an_event_and_its_callback_auto_deploys() {
    let app = TestApp::spawn().await;
    let (bearer, id) = service(&app).await;
    let path = format!("/v1/services/{id}/build");
    for bad in [
        json!({"git_sha": "abc"}),
        json!({"git_sha": "zzzzzzz"}),
        json!({}),
    ] {
        let (status, _) = call(&app, Method::POST, &path, Some(&bearer), Some(&bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let release = expect(
        &app,
        Method::POST,
        &path,
        &bearer,
        Some(json!({"git_sha": "ABCDEF1234567890"})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(release["status"], "building");
    assert_eq!(release["git_branch"], "main");
    assert_eq!(release["image_uri"], "ghcr.io/madfam-org/api:abcdef1");
    let version = release["version"].as_str().unwrap();
    assert!(
        version.starts_with('v') && version.ends_with("-abcdef1") && version.len() == 24,
        "{version}"
    );
    let release_id = release["id"].as_str().unwrap();
    assert_eq!(
        outbox(&app, "builds").await,
        [json!({"type": "build.requested", "release_id": release_id})]
    );

    let body = json!({"job_id": "job-1", "release_id": release_id, "success": true,
        "image_uri": "ghcr.io/acme/api@sha256:1", "image_digest": "sha256:1",
        "sbom": "{\"spdxVersion\":\"SPDX-2.3\"}", "sbom_format": "spdx-json", "duration_secs": 42.5})
        .to_string();
    let (status, done) = callback(&app, body.as_bytes(), now(), None).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        (done["status"].as_str(), done["duplicate"].as_bool()),
        (Some("processed"), Some(false))
    );
    let deployment = done["deployment_id"].as_str().unwrap();
    assert_eq!(
        outbox(&app, "deployments").await,
        [json!({"type": "deployment.requested", "deployment_id": deployment})]
    );

    let list = get_ok(&app, &format!("/v1/services/{id}/releases"), &bearer).await;
    let listed = &list["releases"][0];
    assert_eq!(
        (listed["status"].as_str(), listed["job_id"].as_str()),
        (Some("ready"), Some("job-1"))
    );
    assert_eq!(listed["has_sbom"], true);
    assert!(listed.get("sbom").is_none(), "lists never carry SBOM text");
    let sbom = get_ok(&app, &format!("/v1/releases/{release_id}/sbom"), &bearer).await;
    assert_eq!(sbom["sbom_format"], "spdx-json");
    let envs = get_ok(&app, "/v1/projects/shop/environments", &bearer).await;
    assert_eq!(
        envs["environments"][0]["name"], "production",
        "auto-deploy created its environment"
    );

    // The same result again is a replay; the other result is a contradiction.
    let (status, again) = callback(&app, body.as_bytes(), now(), None).await;
    assert_eq!(
        (status, again["duplicate"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let failed = json!({"job_id": "job-1", "release_id": release_id, "success": false,
        "error_message": "late failure"})
    .to_string();
    let (status, _) = callback(&app, failed.as_bytes(), now(), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        outbox(&app, "deployments").await.len(),
        1,
        "no second auto-deploy"
    );
    let activity = get_ok(
        &app,
        "/v1/activity?action=deployment.auto_triggered",
        &bearer,
    )
    .await;
    assert_eq!(
        activity["activities"][0]["actor_email"],
        "auto-deploy@system.enclii.dev"
    );
}

#[tokio::test]
async fn callbacks_are_authenticated_and_fail_closed_without_a_key() {
    let app = TestApp::spawn().await;
    let (bearer, id) = service(&app).await;
    let release = expect(
        &app,
        Method::POST,
        &format!("/v1/services/{id}/build"),
        &bearer,
        Some(json!({"git_sha": "1234567"})),
        StatusCode::CREATED,
    )
    .await;
    let body = json!({"job_id": "j", "release_id": release["id"], "success": false,
        "error_message": "compile error"})
    .to_string();
    let (status, _) = callback(&app, body.as_bytes(), now() - 301, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "stale");
    let (status, _) = callback(&app, body.as_bytes(), now(), Some("sha256=00")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "forged");
    let unsigned = app
        .client
        .post(app.url("/v1/callbacks/build-complete"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let bearer_call = app
        .client
        .post(app.url("/v1/callbacks/build-complete"))
        .bearer_auth(TEST_ROUNDHOUSE_KEY)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        bearer_call.status(),
        StatusCode::OK,
        "today's Roundhouse sends the key as a bearer"
    );
    let list = get_ok(&app, &format!("/v1/services/{id}/releases"), &bearer).await;
    assert_eq!(list["releases"][0]["status"], "failed");
    assert_eq!(list["releases"][0]["reason"], "BuildFailed");
    assert_eq!(list["releases"][0]["error_message"], "compile error");

    let keyless = TestApp::builder()
        .builds(switchyard_core::BuildSettings::default())
        .spawn()
        .await;
    let (status, problem) = callback(&keyless, body.as_bytes(), now(), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        problem["error"]
            .as_str()
            .unwrap()
            .contains("ENCLII_ROUNDHOUSE_API_KEY"),
        "{problem}"
    );
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "creates 1,000 releases and counts state changes directly"
)]
async fn replays_stale_and_forged_callbacks_change_nothing_twice() {
    let app = TestApp::spawn().await;
    let (bearer, id) = service(&app).await;
    // auto-deploy off: this test counts release transitions only.
    expect(
        &app,
        Method::PATCH,
        &format!("/v1/services/{id}"),
        &bearer,
        Some(json!({"auto_deploy": false})),
        StatusCode::OK,
    )
    .await;
    let mut conn = app.db.connect().await;
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "insert into releases (id, service_id, version, image_uri, git_sha, git_branch)
         select gen_random_uuid(), $1, 'v' || n, 'img', 'abcdef1', 'main' from generate_series(1, 1000) n
         returning id")
        .bind(id.parse::<uuid::Uuid>().unwrap())
        .fetch_all(&mut conn).await.unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let bodies: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(n, release)| {
            json!({"job_id": format!("job-{n}"), "release_id": release, "success": n % 3 != 0,
               "error_message": "boom"})
            .to_string()
        })
        .collect();
    let mut deliveries: Vec<&String> = bodies.iter().chain(&bodies).chain(&bodies).collect();
    deliveries.shuffle(&mut rng);
    let (mut applied, mut duplicates) = (0, 0);
    for body in deliveries {
        let (status, done) = callback(&app, body.as_bytes(), now(), None).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        if done["duplicate"] == true {
            duplicates += 1
        } else {
            applied += 1
        }
    }
    assert_eq!((applied, duplicates), (1000, 2000));
    for body in bodies.iter().take(1000) {
        let mut bytes = body.clone().into_bytes();
        let at = rng.random_range(0..bytes.len());
        bytes[at] = bytes[at].wrapping_add(rng.random_range(1..=255));
        let signature = sign(&key(), now(), body.as_bytes());
        let (status, _) = callback(&app, &bytes, now(), Some(&signature)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "a mutated body must not pass"
        );
        let (status, _) = callback(&app, body.as_bytes(), now() - 3600, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "stale");
    }
    let building: i64 =
        sqlx::query_scalar("select count(*) from releases where status = 'building'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let ready: i64 = sqlx::query_scalar("select count(*) from releases where status = 'ready'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!((building, ready), (0, 666));
}
