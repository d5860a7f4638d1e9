//! Build status by commit: one service's pipeline (`/v1/services/:id/builds/:build_id/status`)
//! and every readable service's (`/v1/builds/:sha/status`), with the original's stages and
//! overall status, and nothing of another tenant.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::{
    builds::{callback, now, service},
    support::{call, expect, get_ok, register},
};

pub(crate) async fn build(app: &TestApp, bearer: &str, service: &str, sha: &str) -> String {
    let release = expect(
        app,
        Method::POST,
        &format!("/v1/services/{service}/build"),
        bearer,
        Some(json!({"git_sha": sha})),
        StatusCode::CREATED,
    )
    .await;
    release["id"].as_str().unwrap().to_owned()
}

fn stages(status: &Value) -> Vec<(String, String)> {
    status["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_commit_is_followed_from_build_to_deployment() {
    let app = TestApp::spawn().await;
    let (bearer, id) = service(&app).await;
    let path = |build: &str| format!("/v1/services/{id}/builds/{build}/status");

    // Not built yet: the original's "pending", which the UI polls for.
    let pending = get_ok(&app, &path("abcdef1234567890"), &bearer).await;
    assert_eq!(pending["overall_status"], "pending");
    assert_eq!(pending["commit_sha"], "abcdef1234567890");
    assert!(pending.get("roundhouse").is_none());
    assert!(stages(&pending).is_empty());

    let release = build(&app, &bearer, &id, "abcdef1234567890").await;
    // An abbreviated, upper-case SHA finds it.
    let building = get_ok(&app, &path("ABCDEF1"), &bearer).await;
    assert_eq!(building["overall_status"], "building");
    assert_eq!(building["commit_sha"], "abcdef1234567890");
    assert_eq!(building["service_name"], "api");
    assert_eq!(building["roundhouse"]["release"]["id"], release.as_str());
    assert_eq!(
        stages(&building),
        [("Container Build".to_owned(), "building".to_owned())]
    );

    let body = json!({"job_id": "job-s", "release_id": release, "success": true,
        "image_signature": "sig", "sbom": "{}", "logs_url": "https://rh.example/logs/job-s"})
    .to_string();
    let (status, done) = callback(&app, body.as_bytes(), now(), None).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    // Auto-deploy created a pending deployment: the pipeline is deploying. A release id names
    // the same build.
    let deploying = get_ok(&app, &path(&release), &bearer).await;
    assert_eq!(deploying["overall_status"], "deploying");
    assert_eq!(
        stages(&deploying),
        [
            ("Container Build".to_owned(), "ready".to_owned()),
            ("Deployment".to_owned(), "pending".to_owned())
        ]
    );
    assert_eq!(deploying["roundhouse"]["has_sbom"], true);
    assert_eq!(deploying["roundhouse"]["has_signature"], true);
    assert_eq!(
        deploying["stages"][0]["url"],
        "https://rh.example/logs/job-s"
    );
    assert_eq!(
        deploying["deployment"]["deployment"]["id"],
        done["deployment_id"]
    );
    assert_eq!(deploying["deployment"]["deployment"]["phase"], "pending");

    // A failed build fails the whole, with its message.
    let broken = build(&app, &bearer, &id, "0badc0de00").await;
    let body = json!({"job_id": "job-f", "release_id": broken, "success": false,
        "error_message": "npm ci exited 1"})
    .to_string();
    let (status, _) = callback(&app, body.as_bytes(), now(), None).await;
    assert_eq!(status, StatusCode::OK);
    let failed = get_ok(&app, &path("0badc0de00"), &bearer).await;
    assert_eq!(failed["overall_status"], "failed");
    assert_eq!(failed["roundhouse"]["error_message"], "npm ci exited 1");
    assert_eq!(failed["stages"][0]["error_message"], "npm ci exited 1");

    for bad in ["xyz", "abc", "not-a-sha-or-uuid"] {
        let (status, _) = call(&app, Method::GET, &path(bad), Some(&bearer), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // A release id that is not this service's is no build of it.
    let (status, _) = call(
        &app,
        Method::GET,
        &path(&uuid::Uuid::new_v4().to_string()),
        Some(&bearer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_commit_view_shows_only_what_the_caller_can_read() {
    let app = TestApp::spawn().await;
    let (owner, id) = service(&app).await;
    build(&app, &owner, &id, "1234567abcdef").await;

    // Another tenant builds the same commit in their own project.
    let other = register(&app, "other@example.com").await;
    expect(
        &app,
        Method::POST,
        "/v1/projects",
        &other,
        Some(json!({"name": "Blog", "slug": "blog"})),
        StatusCode::CREATED,
    )
    .await;
    let blog = expect(
        &app,
        Method::POST,
        "/v1/projects/blog/services",
        &other,
        Some(json!({"name": "web", "git_repo": "https://github.com/acme/shop"})),
        StatusCode::CREATED,
    )
    .await;
    let blog_id = blog["id"].as_str().unwrap();
    build(&app, &other, blog_id, "1234567abcdef").await;

    let names = |v: &Value| -> Vec<String> {
        v["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["service_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let mine = get_ok(&app, "/v1/builds/1234567/status", &owner).await;
    assert_eq!(names(&mine), ["api"]);
    assert_eq!(mine["services"][0]["overall_status"], "building");
    let theirs = get_ok(&app, "/v1/builds/1234567ABCDEF/status", &other).await;
    assert_eq!(names(&theirs), ["web"]);

    // Nothing matches: `services` is null, as in the original.
    let stranger = register(&app, "stranger@example.com").await;
    let none = get_ok(&app, "/v1/builds/1234567/status", &stranger).await;
    assert_eq!(none, json!({"commit_sha": "1234567", "services": null}));
    // And the other tenant's service is hidden behind the per-service route too.
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/v1/services/{blog_id}/builds/1234567/status"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &app,
        Method::GET,
        "/v1/builds/12/status",
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&app, Method::GET, "/v1/builds/1234567/status", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
