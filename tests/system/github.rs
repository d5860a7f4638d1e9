//! GitHub's webhook: signatures, one build per delivery (redeliveries answer what the first did),
//! branch and path rules, the delivery log, and Roundhouse's lookup by repository.

use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use switchyard_testkit::{TEST_GITHUB_SECRET, TEST_ROUNDHOUSE_KEY, TestApp};

use crate::support::{call, expect, get_ok, register};

fn signature(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(TEST_GITHUB_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn deliver(
    app: &TestApp,
    event: &str,
    id: &str,
    body: &Value,
    sig: Option<&str>,
) -> (StatusCode, Value) {
    let bytes = body.to_string().into_bytes();
    let sig = sig.map_or_else(|| signature(&bytes), str::to_owned);
    let response = app
        .client
        .post(app.url("/v1/webhooks/github"))
        .header("x-github-event", event)
        .header("x-github-delivery", id)
        .header("x-hub-signature-256", sig)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn push(branch: &str, files: &[&str]) -> Value {
    json!({"ref": format!("refs/heads/{branch}"), "after": "0123456789abcdef0123456789abcdef01234567",
        "deleted": false,
        "repository": {"full_name": "acme/mono", "clone_url": "https://github.com/acme/mono.git",
                       "html_url": "https://github.com/acme/mono", "ssh_url": "git@github.com:acme/mono.git"},
        "commits": [{"added": [], "modified": files, "removed": []}]})
}

async fn releases(app: &TestApp, bearer: &str, service: &str) -> usize {
    let list = get_ok(app, &format!("/v1/services/{service}/releases"), bearer).await;
    list["releases"].as_array().unwrap().len()
}

#[tokio::test]
async fn pushes_build_matching_services_once_per_delivery() {
    let app = TestApp::spawn().await;
    let bearer = register(&app, "gh@example.com").await;
    expect(
        &app,
        Method::POST,
        "/v1/projects",
        &bearer,
        Some(json!({"name": "Mono", "slug": "mono"})),
        StatusCode::CREATED,
    )
    .await;
    let mut ids = Vec::new();
    for (name, path) in [("web", "apps/web"), ("api", "apps/api")] {
        let service = expect(
            &app,
            Method::POST,
            "/v1/projects/mono/services",
            &bearer,
            Some(
                json!({"name": name, "git_repo": "git@github.com:acme/mono.git", "app_path": path,
                        "watch_paths": ["libs/shared"]}),
            ),
            StatusCode::CREATED,
        )
        .await;
        ids.push(service["id"].as_str().unwrap().to_owned());
    }
    let (web, api) = (&ids[0], &ids[1]);

    let (status, pong) = deliver(&app, "ping", "d-0", &json!({"zen": "hi"}), None).await;
    assert_eq!(
        (status, pong["action"].as_str()),
        (StatusCode::OK, Some("pong"))
    );

    let body = push("main", &["apps/web/page.tsx"]);
    let (status, first) = deliver(&app, "push", "d-1", &body, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["action"], "built");
    assert_eq!(
        (
            releases(&app, &bearer, web).await,
            releases(&app, &bearer, api).await
        ),
        (1, 0)
    );
    for _ in 0..3 {
        let (status, again) = deliver(&app, "push", "d-1", &body, None).await;
        assert_eq!(
            (status, again["duplicate"].as_bool()),
            (StatusCode::OK, Some(true))
        );
        assert_eq!(again["release_ids"], first["release_ids"]);
    }
    assert_eq!(
        releases(&app, &bearer, web).await,
        1,
        "redeliveries build nothing"
    );

    let (_, shared) = deliver(
        &app,
        "push",
        "d-2",
        &push("main", &["libs/shared/x.ts"]),
        None,
    )
    .await;
    assert_eq!(
        shared["release_ids"].as_array().unwrap().len(),
        2,
        "watch paths"
    );
    let (_, other) = deliver(&app, "push", "d-3", &push("develop", &["apps/web/a"]), None).await;
    assert_eq!(other["action"], "no_match", "auto_deploy_branch rules");
    let mut deleted = push("main", &["apps/web/a"]);
    deleted["deleted"] = json!(true);
    let (_, ignored) = deliver(&app, "push", "d-4", &deleted, None).await;
    assert_eq!(ignored["action"], "ignored");

    let (status, _) = deliver(&app, "push", "d-5", &body, Some("sha256=0000")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = deliver(&app, "push", "d-6", &body, Some("")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        releases(&app, &bearer, web).await,
        2,
        "forged deliveries build nothing"
    );

    let log = get_ok(&app, "/v1/projects/mono/webhook-deliveries", &bearer).await;
    let seen: Vec<&str> = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["delivery_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        seen,
        ["d-2", "d-1"],
        "deliveries that built something of this project"
    );
    // One at a time: the cursor walks the same list.
    let first = get_ok(
        &app,
        "/v1/projects/mono/webhook-deliveries?limit=1",
        &bearer,
    )
    .await;
    assert_eq!(first["deliveries"][0]["delivery_id"], "d-2");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get_ok(
        &app,
        &format!("/v1/projects/mono/webhook-deliveries?limit=1&cursor={cursor}"),
        &bearer,
    )
    .await;
    assert_eq!(second["deliveries"][0]["delivery_id"], "d-1");
    assert!(second.get("next_cursor").is_none(), "{second}");

    // Roundhouse looks services up by repository, with its key only.
    let path = "/v1/services?git_repo=git@github.com:acme/mono";
    let (status, _) = call(&app, Method::GET, path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, found) = call(&app, Method::GET, path, Some(TEST_ROUNDHOUSE_KEY), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["services"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_webhook_fails_closed_without_a_secret() {
    let app = TestApp::builder()
        .builds(switchyard_core::BuildSettings::default())
        .spawn()
        .await;
    let (status, problem) = deliver(&app, "ping", "d", &json!({}), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        problem["error"]
            .as_str()
            .unwrap()
            .contains("ENCLII_GITHUB_WEBHOOK_SECRET")
    );
}
