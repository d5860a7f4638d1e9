//! Services over HTTP: the original's defaults and bodies, every setting stored, bulk creation's
//! 201/207/400, merge-patch updates guarded by ETag/If-Match, deletion queued for the worker.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::support::{call, expect, get_ok, shop_owner};

async fn create(app: &TestApp, bearer: &str, body: Value) -> (StatusCode, Value) {
    call(
        app,
        Method::POST,
        "/v1/projects/shop/services",
        Some(bearer),
        Some(&body),
    )
    .await
}

#[tokio::test]
async fn a_service_gets_the_original_defaults_and_keeps_every_setting() {
    let app = TestApp::spawn().await;
    let bearer = shop_owner(&app, "svc@example.com").await;
    expect(
        &app,
        Method::POST,
        "/v1/projects/shop/environments",
        &bearer,
        Some(json!({"name": "prod"})),
        StatusCode::CREATED,
    )
    .await;
    let (status, service) = create(
        &app,
        &bearer,
        json!({"name": "api", "git_repo": "https://github.com/acme/shop",
               "build_config": {"type": "dockerfile", "port": 8080}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{service}");
    assert_eq!(
        service["port"], 8080,
        "the UI's build_config.port is the port"
    );
    assert_eq!(service["build_config"], json!({"type": "dockerfile"}));
    assert_eq!(service["auto_deploy"], true);
    assert_eq!(service["auto_deploy_branch"], "main");
    assert_eq!(service["auto_deploy_env"], "prod", "production, else prod");
    assert_eq!(service["app_path"], ".");
    assert_eq!(service["health_check"]["path"], "/health");
    assert_eq!(service["resources"]["cpu_limit"], "500m");
    assert_eq!(
        (
            service["desired_replicas"].clone(),
            service["health"].clone()
        ),
        (json!(1), json!("unknown"))
    );

    let full = json!({
        "name": "worker", "git_repo": "git@github.com:acme/shop.git", "git_branch": "develop",
        "app_path": "apps/worker", "port": 9000, "replicas": 3,
        "health_check": {"path": "/ready", "period_seconds": 20},
        "resources": {"cpu_request": "250m", "cpu_limit": "1", "memory_request": "256Mi", "memory_limit": "1Gi"},
        "autoscaling": {"min_replicas": 2, "max_replicas": 6, "target_cpu_percent": 70},
        "volumes": [{"name": "data", "mount_path": "/data", "size": "5Gi"}],
    });
    let (status, worker) = create(&app, &bearer, full.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{worker}");
    let id = worker["id"].as_str().unwrap();
    let settings = get_ok(&app, &format!("/v1/services/{id}/settings"), &bearer).await;
    let settings = &settings["settings"];
    assert_eq!(settings["project_name"], "Shop");
    for field in [
        "git_branch",
        "app_path",
        "port",
        "replicas",
        "autoscaling",
        "volumes",
    ] {
        assert_eq!(settings[field], full[field], "{field}");
    }
    assert_eq!(settings["health_check"]["period_seconds"], 20);
    assert_eq!(
        settings["health_check"]["timeout_seconds"], 5,
        "defaults fill the rest"
    );
    assert_eq!(settings["resources"], full["resources"]);

    // The CLI resolves services by name through the list.
    let list = get_ok(&app, "/v1/projects/shop/services", &bearer).await;
    let names: Vec<&str> = list["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "worker"]);
    let (status, body) = create(
        &app,
        &bearer,
        json!({"name": "api", "git_repo": "https://github.com/acme/other"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn invalid_settings_are_refused_naming_the_field_and_create_nothing() {
    let app = TestApp::spawn().await;
    let bearer = shop_owner(&app, "svc@example.com").await;
    for (body, field) in [
        (json!({"git_repo": "https://x/y"}), "name"),
        (json!({"name": "api"}), "git_repo"),
        (json!({"name": "API", "git_repo": "https://x/y"}), "name"),
        (
            json!({"name": "api", "git_repo": "file:///etc"}),
            "git_repo",
        ),
        (
            json!({"name": "api", "git_repo": "https://x/y", "app_path": "../up"}),
            "app_path",
        ),
        (
            json!({"name": "api", "git_repo": "https://x/y", "git_branch": "a b"}),
            "git_branch",
        ),
        (
            json!({"name": "api", "git_repo": "https://x/y", "port": 0}),
            "port",
        ),
        (
            json!({"name": "api", "git_repo": "https://x/y", "replicas": -1}),
            "replicas",
        ),
        (
            json!({"name": "api", "git_repo": "https://x/y", "colour": "red"}),
            "colour",
        ),
        (
            json!({"name": "api", "git_repo": "https://x/y", "resources": {"memory_limit": "lots"}}),
            "resources.memory_limit",
        ),
    ] {
        let (status, problem) = create(&app, &bearer, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let list = get_ok(&app, "/v1/projects/shop/services", &bearer).await;
    assert_eq!(list["services"], json!([]));
}

#[tokio::test]
async fn bulk_creation_answers_201_207_or_400() {
    let app = TestApp::spawn().await;
    let bearer = shop_owner(&app, "svc@example.com").await;
    let bulk = |services: Value| json!({"git_repo": "https://github.com/acme/mono", "git_branch": "trunk", "services": services});
    let path = "/v1/projects/shop/services/bulk";
    let body = bulk(
        json!([{"name": "web", "app_path": "apps/web", "port": 3000},
                           {"name": "api", "app_path": "apps/api"}]),
    );
    let (status, created) = call(&app, Method::POST, path, Some(&bearer), Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["services"][0]["git_branch"], "trunk");
    assert_eq!(created["services"][0]["port"], 3000);
    assert!(created.get("errors").is_none());

    let body = bulk(json!([{"name": "web", "app_path": "apps/web"},
                           {"name": "jobs", "app_path": "apps/jobs"}]));
    let (status, partial) = call(&app, Method::POST, path, Some(&bearer), Some(&body)).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{partial}");
    assert_eq!(partial["services"][0]["name"], "jobs");
    assert_eq!(partial["errors"][0]["name"], "web");

    let body = bulk(json!([{"name": "Bad!", "app_path": "x"}]));
    let (status, refused) = call(&app, Method::POST, path, Some(&bearer), Some(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "Failed to create any services");
    assert_eq!(refused["details"][0]["field"], "name");
    for services in [json!([]), Value::Array(vec![json!({"name": "x"}); 21])] {
        let (status, _) = call(
            &app,
            Method::POST,
            path,
            Some(&bearer),
            Some(&bulk(services)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn patches_merge_revalidate_and_respect_if_match() {
    let app = TestApp::spawn().await;
    let bearer = shop_owner(&app, "svc@example.com").await;
    let (_, service) = create(
        &app,
        &bearer,
        json!({"name": "api", "git_repo": "https://github.com/acme/shop"}),
    )
    .await;
    let path = format!("/v1/services/{}", service["id"].as_str().unwrap());
    let read = app
        .client
        .get(app.url(&path))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();

    let patch = |tag: &str, body: Value| {
        app.client
            .patch(app.url(&path))
            .bearer_auth(&bearer)
            .header("if-match", tag.to_owned())
            .json(&body)
            .send()
    };
    let response = patch(
        &etag,
        json!({"health_check": {"path": "/live"}, "replicas": 2}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let new_etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Service updated successfully");
    assert_eq!(body["service"]["health_check"]["path"], "/live");
    assert_eq!(body["service"]["health_check"]["period_seconds"], 10);
    assert_eq!(body["service"]["replicas"], 2);

    let stale = patch(&etag, json!({"replicas": 5})).await.unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let invalid = patch(&new_etag, json!({"app_path": "a/../../etc"}))
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    let current = get_ok(&app, &path, &bearer).await;
    assert_eq!(current["replicas"], 2, "refused patches changed nothing");
    assert_eq!(current["app_path"], ".");

    let activity = get_ok(&app, "/v1/activity?action=service.update", &bearer).await;
    assert_eq!(
        activity["activities"][0]["context"]["replicas"],
        json!({"from": 1, "to": 2})
    );

    expect(&app, Method::DELETE, &path, &bearer, None, StatusCode::OK).await;
    let (status, _) = call(&app, Method::GET, &path, Some(&bearer), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
