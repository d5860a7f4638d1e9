//! The dashboard: the original body, figures and lists of the caller's projects only.

use reqwest::{Method, StatusCode};
use serde_json::json;
use switchyard_testkit::{TEST_ROUNDHOUSE_KEY, TestApp};

use crate::support::{expect, get_ok, register, shop_owner};

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "stands in for the reconciler, which marks deployments running"
)]
async fn the_dashboard_shows_only_the_callers_projects() {
    let app = TestApp::spawn().await;
    let ada = shop_owner(&app, "dash@example.com").await;
    let bob = register(&app, "other-dash@example.com").await;
    expect(
        &app,
        Method::POST,
        "/v1/projects",
        &bob,
        Some(json!({"name": "Blog", "slug": "blog"})),
        StatusCode::CREATED,
    )
    .await;
    expect(
        &app,
        Method::POST,
        "/v1/projects/blog/services",
        &bob,
        Some(json!({"name": "www", "git_repo": "https://github.com/bob/blog"})),
        StatusCode::CREATED,
    )
    .await;
    let service = expect(
        &app,
        Method::POST,
        "/v1/projects/shop/services",
        &ada,
        Some(json!({"name": "api", "git_repo": "https://github.com/acme/shop", "replicas": 2})),
        StatusCode::CREATED,
    )
    .await;
    let empty = get_ok(&app, "/v1/dashboard/stats", &ada).await;
    assert_eq!(
        empty["stats"],
        json!({"healthy_services": 0, "deployments_today": 0,
        "active_projects": 1, "avg_deploy_time": "N/A"})
    );
    assert_eq!(empty["activities"], json!([]));
    assert_eq!(empty["services"][0]["status"], "unknown");

    let id = service["id"].as_str().unwrap();
    let release = expect(
        &app,
        Method::POST,
        &format!("/v1/services/{id}/build"),
        &ada,
        Some(json!({"git_sha": "abcdef1"})),
        StatusCode::CREATED,
    )
    .await;
    let callback = app
        .client
        .post(app.url("/v1/callbacks/build-complete"))
        .bearer_auth(TEST_ROUNDHOUSE_KEY)
        .json(&json!({"job_id": "j", "release_id": release["id"], "success": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), StatusCode::OK);

    let deploying = get_ok(&app, "/v1/dashboard/stats", &ada).await;
    assert_eq!(deploying["stats"]["deployments_today"], 1);
    let activity = &deploying["activities"][0];
    assert_eq!(
        (activity["type"].as_str(), activity["status"].as_str()),
        (Some("deployment"), Some("pending"))
    );
    assert_eq!(activity["message"], "Deployed api to Shop");
    assert_eq!(activity["metadata"]["version"], release["version"]);
    let services = deploying["services"].as_array().unwrap();
    assert_eq!(
        services.len(),
        1,
        "bob's service is not listed: {services:?}"
    );
    assert_eq!(services[0]["status"], "deploying");
    assert_eq!(
        (
            services[0]["environment"].as_str(),
            services[0]["replicas"].as_str()
        ),
        (Some("production"), Some("0/2"))
    );

    let mut conn = app.db.connect().await;
    sqlx::query("update deployments set phase = 'running', health = 'healthy', updated_at = created_at + interval '95 seconds'")
        .execute(&mut conn).await.unwrap();
    let running = get_ok(&app, "/v1/dashboard/stats", &ada).await;
    assert_eq!(running["stats"]["healthy_services"], 1);
    assert_eq!(running["stats"]["avg_deploy_time"], "1m 35s");
    assert_eq!(running["services"][0]["replicas"], "2/2");
    assert_eq!(running["activities"][0]["status"], "success");

    let bobs = get_ok(&app, "/v1/dashboard/stats", &bob).await;
    assert_eq!(
        bobs["stats"],
        json!({"healthy_services": 0, "deployments_today": 0,
        "active_projects": 1, "avg_deploy_time": "N/A"}),
        "ada's deployment is not bob's"
    );
    assert_eq!(bobs["activities"], json!([]));
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "stands in for the reconciler, which marks deployments running"
)]
async fn a_project_with_running_deployments_is_deleted_only_with_force() {
    let app = TestApp::spawn().await;
    let ada = shop_owner(&app, "force@example.com").await;
    let service = expect(
        &app,
        Method::POST,
        "/v1/projects/shop/services",
        &ada,
        Some(json!({"name": "api", "git_repo": "https://github.com/acme/shop"})),
        StatusCode::CREATED,
    )
    .await;
    let id = service["id"].as_str().unwrap();
    let release = expect(
        &app,
        Method::POST,
        &format!("/v1/services/{id}/build"),
        &ada,
        Some(json!({"git_sha": "abcdef1"})),
        StatusCode::CREATED,
    )
    .await;
    app.client
        .post(app.url("/v1/callbacks/build-complete"))
        .bearer_auth(TEST_ROUNDHOUSE_KEY)
        .json(&json!({"job_id": "j", "release_id": release["id"], "success": true}))
        .send()
        .await
        .unwrap();
    let mut conn = app.db.connect().await;
    sqlx::query("update deployments set phase = 'running'")
        .execute(&mut conn)
        .await
        .unwrap();
    let (status, problem) =
        crate::support::call(&app, Method::DELETE, "/v1/projects/shop", Some(&ada), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(problem["error"].as_str().unwrap().contains("force=true"));
    get_ok(&app, "/v1/projects/shop", &ada).await;
    expect(
        &app,
        Method::DELETE,
        "/v1/projects/shop?force=true",
        &ada,
        None,
        StatusCode::OK,
    )
    .await;
}
