//! Deploying over HTTP: `POST /v1/services/:id/deploy` validates everything before writing
//! anything, the worker reconciles the deployment (render mode here: YAML files and `running`
//! with reason `RenderOnly`), a newer deployment supersedes the one before, status reads what
//! the CLI waits for, and rollback is a new deployment of the release that ran before.

use std::{path::Path, sync::Arc};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_core::DeploymentDispatch;
use switchyard_testkit::TestApp;
use switchyard_worker::{
    Worker,
    jobs::{
        cleanup::{ProjectCleanup, ServiceCleanup},
        deployments::{DeployTarget, DeploymentsJob, ReconcileSettings},
    },
};
use tokio_util::sync::CancellationToken;

use crate::{
    build_status::build,
    builds::{callback, now, service},
    jobs_support::{eventually, quick_settings, redis},
    support::{call, expect, get_ok, grant, register},
};

pub(crate) async fn start_worker(app: &TestApp, target: DeployTarget) -> CancellationToken {
    start_worker_with(app, target, ReconcileSettings::default()).await
}

/// A worker running the deployments job (and the cleanup jobs) against `target`, with the
/// app's env var key.
pub(crate) async fn start_worker_with(
    app: &TestApp,
    target: DeployTarget,
    settings: ReconcileSettings,
) -> CancellationToken {
    let worker = worker_for(app, target, settings).await;
    let shutdown = CancellationToken::new();
    tokio::spawn(worker.run(shutdown.clone()));
    shutdown
}

/// The worker [`start_worker_with`] starts, for a test to add to.
pub(crate) async fn worker_for(
    app: &TestApp,
    target: DeployTarget,
    settings: ReconcileSettings,
) -> Worker {
    let redis = redis(switchyard_testkit::services().await.redis_url.clone());
    worker_on(app, redis, target, settings, quick_settings())
}

/// A worker like [`worker_for`]'s on `redis` (replicas share one) with `worker` settings.
pub(crate) fn worker_on(
    app: &TestApp,
    redis: switchyard_queue::Redis,
    target: DeployTarget,
    settings: ReconcileSettings,
    worker: switchyard_worker::WorkerSettings,
) -> Worker {
    let job = DeploymentsJob::new(
        DeploymentDispatch::new(
            app.db.pool.clone(),
            Some(Arc::new(switchyard_testkit::envvar_keys(
                switchyard_testkit::TEST_ENVVAR_KEY,
                None,
            ))),
        ),
        target.clone(),
        settings,
    );
    Worker::new(app.db.pool.clone(), redis, worker)
        .with_job(Arc::new(job))
        .with_job(Arc::new(ServiceCleanup::new(target.clone())))
        .with_job(Arc::new(ProjectCleanup::new(target)))
}

/// A ready release of `service` built from `sha` (through a signed callback).
pub(crate) async fn ready_release(app: &TestApp, bearer: &str, service: &str, sha: &str) -> String {
    shipped(app, bearer, service, sha).await.0
}

/// Builds `sha` and reports it built (image `ghcr.io/acme/api:<sha>`); auto-deploy creates a
/// deployment in `auto_deploy_env`. Returns (release id, deployment id).
pub(crate) async fn shipped(
    app: &TestApp,
    bearer: &str,
    service: &str,
    sha: &str,
) -> (String, String) {
    let release = build(app, bearer, service, sha).await;
    let body = json!({"job_id": format!("job-{sha}"), "release_id": release, "success": true,
        "image_uri": format!("ghcr.io/acme/api:{sha}")})
    .to_string();
    let (status, done) = callback(app, body.as_bytes(), now(), None).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    (release, done["deployment_id"].as_str().unwrap().to_owned())
}

/// The id of the service's newest deployment.
pub(crate) async fn latest_id(app: &TestApp, bearer: &str, service: &str) -> String {
    let latest = get_ok(
        app,
        &format!("/v1/services/{service}/deployments/latest"),
        bearer,
    )
    .await;
    latest["deployment"]["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn deployment(app: &TestApp, bearer: &str, id: &str) -> Value {
    get_ok(app, &format!("/v1/deployments/{id}"), bearer).await
}

pub(crate) async fn phase_is(app: &TestApp, bearer: &str, id: &str, phase: &str) -> bool {
    deployment(app, bearer, id).await["phase"] == phase
}

async fn count(app: &TestApp, bearer: &str, service: &str) -> usize {
    get_ok(app, &format!("/v1/services/{service}/deployments"), bearer).await["count"]
        .as_u64()
        .unwrap() as usize
}

#[tokio::test]
async fn a_deploy_is_validated_before_anything_is_written() {
    let app = TestApp::spawn().await;
    let (owner, id) = service(&app).await;
    expect(
        &app,
        Method::POST,
        "/v1/projects/shop/environments",
        &owner,
        Some(json!({"name": "staging"})),
        StatusCode::CREATED,
    )
    .await;
    let ready = ready_release(&app, &owner, &id, "aaaaaaa1").await;
    let building = expect(
        &app,
        Method::POST,
        &format!("/v1/services/{id}/build"),
        &owner,
        Some(json!({"git_sha": "bbbbbbb2"})),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = count(&app, &owner, &id).await; // auto-deploy's, to production
    let path = format!("/v1/services/{id}/deploy");
    let cases = [
        (json!({}), StatusCode::BAD_REQUEST, "release_id"),
        (
            json!({"release_id": "nope"}),
            StatusCode::BAD_REQUEST,
            "release_id",
        ),
        (
            json!({"release_id": building, "environment_name": "staging"}),
            StatusCode::BAD_REQUEST,
            "only a ready release",
        ),
        (
            json!({"release_id": uuid::Uuid::new_v4(), "environment_name": "staging"}),
            StatusCode::NOT_FOUND,
            "release",
        ),
        // The original's default environment, which this project does not have.
        (
            json!({"release_id": ready}),
            StatusCode::NOT_FOUND,
            "development",
        ),
        (
            json!({"release_id": ready, "environment_name": "staging", "replicas": 51}),
            StatusCode::BAD_REQUEST,
            "replicas",
        ),
    ];
    for (body, status, names) in cases {
        let (got, problem) = call(&app, Method::POST, &path, Some(&owner), Some(&body)).await;
        assert_eq!(got, status, "{body} → {problem}");
        assert!(problem.to_string().contains(names), "{body} → {problem}");
    }
    // A viewer may look but not deploy; a stranger does not see the service.
    let viewer = register(&app, "viewer@example.com").await;
    grant(&app, "viewer@example.com", "shop", "viewer").await;
    let stranger = register(&app, "stranger@example.com").await;
    let body = json!({"release_id": ready, "environment_name": "staging"});
    let (status, _) = call(&app, Method::POST, &path, Some(&viewer), Some(&body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, Method::POST, &path, Some(&stranger), Some(&body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        count(&app, &owner, &id).await,
        before,
        "nothing was written"
    );

    // The CLI's body (extra fields ignored); replicas <= 0 is 1, as the original.
    let created = expect(
        &app,
        Method::POST,
        &path,
        &owner,
        Some(
            json!({"release_id": ready, "environment_name": "staging", "replicas": 0,
                    "environment": "staging", "change_ticket_url": "https://tickets/1"}),
        ),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (
            created["status"].as_str(),
            created["phase"].as_str(),
            created["replicas"].as_i64()
        ),
        (Some("pending"), Some("pending"), Some(1))
    );
    assert_eq!(created["release_id"], ready.as_str());
    let activity = get_ok(&app, "/v1/activity?action=deployment.create", &owner).await;
    assert_eq!(activity["activities"][0]["resource_id"], created["id"]);
}

#[tokio::test]
async fn render_mode_runs_deployments_supersedes_and_rolls_back() {
    let app = TestApp::spawn().await;
    let (owner, id) = service(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let worker = start_worker(
        &app,
        DeployTarget::Render {
            dir: dir.path().to_path_buf(),
        },
    )
    .await;
    // The first build auto-deploys to production; the worker renders it.
    let first = ready_release(&app, &owner, &id, "1111111a").await;
    let latest = get_ok(
        &app,
        &format!("/v1/services/{id}/deployments/latest"),
        &owner,
    )
    .await;
    let d1 = latest["deployment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(latest["release"]["id"], first.as_str());
    eventually("the first deployment runs", || {
        phase_is(&app, &owner, &d1, "running")
    })
    .await;
    let running = deployment(&app, &owner, &d1).await;
    assert_eq!(
        (
            running["status"].as_str(),
            running["health"].as_str(),
            running["reason"].as_str()
        ),
        (Some("running"), Some("unknown"), Some("RenderOnly"))
    );
    let manifest = dir
        .path()
        .join("manifests/enclii-shop-production/deployment-api.yaml");
    let yaml = std::fs::read_to_string(&manifest).unwrap();
    assert!(yaml.contains("ghcr.io/acme/api:1111111a"), "{yaml}");
    assert!(yaml.contains(&d1), "the deployment id labels the objects");

    // A second build replaces it: the first is superseded once the second runs.
    let second = ready_release(&app, &owner, &id, "2222222b").await;
    let d2 = latest_id(&app, &owner, &id).await;
    assert_ne!(d1, d2);
    eventually("the second deployment runs", || {
        phase_is(&app, &owner, &d2, "running")
    })
    .await;
    let old = deployment(&app, &owner, &d1).await;
    assert_eq!(
        (
            old["phase"].as_str(),
            old["reason"].as_str(),
            old["status"].as_str()
        ),
        (Some("superseded"), Some("Superseded"), Some("running"))
    );
    let status = get_ok(&app, &format!("/v1/services/{id}/status"), &owner).await;
    assert_eq!(status["status"], "running");
    assert_eq!(status["latest_deployment"]["id"], d2.as_str());
    assert_eq!(status["replicas"], 1);
    assert!(status["version"].as_str().unwrap().ends_with("-2222222"));
    assert!(
        std::fs::read_to_string(&manifest)
            .unwrap()
            .contains("ghcr.io/acme/api:2222222b")
    );

    // Rollback: a new deployment of the release that ran before, recording where it came from.
    let rolled = expect(
        &app,
        Method::POST,
        &format!("/v1/deployments/{d2}/rollback"),
        &owner,
        None,
        StatusCode::OK,
    )
    .await;
    let d3 = rolled["rolled_back_to"]["id"].as_str().unwrap().to_owned();
    assert_eq!(rolled["rolled_back_to"]["release_id"], first.as_str());
    assert_eq!(rolled["rolled_back_to"]["rolled_back_from"], d2.as_str());
    assert_eq!(rolled["current_deployment"]["id"], d2.as_str());
    eventually("the rollback runs", || {
        phase_is(&app, &owner, &d3, "running")
    })
    .await;
    assert!(phase_is(&app, &owner, &d2, "superseded").await);
    assert!(
        std::fs::read_to_string(&manifest)
            .unwrap()
            .contains("ghcr.io/acme/api:1111111a")
    );
    assert_eq!(second.len(), first.len());

    // Rolling back to a release that is not ready is refused and writes nothing.
    let before = count(&app, &owner, &id).await;
    let building = expect(
        &app,
        Method::POST,
        &format!("/v1/services/{id}/build"),
        &owner,
        Some(json!({"git_sha": "3333333c"})),
        StatusCode::CREATED,
    )
    .await;
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/v1/deployments/{d3}/rollback"),
        Some(&owner),
        Some(&json!({"to_release": building["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, &owner, &id).await, before);
    assert!(Path::new(&manifest).exists());

    // Deleting the service removes its files; deleting the project removes its namespace's.
    expect(
        &app,
        Method::DELETE,
        &format!("/v1/services/{id}"),
        &owner,
        None,
        StatusCode::OK,
    )
    .await;
    eventually("the service's manifests are removed", || async {
        !manifest.exists()
    })
    .await;
    let namespace = dir.path().join("manifests/enclii-shop-production");
    assert!(namespace.exists(), "the environment stays");
    expect(
        &app,
        Method::DELETE,
        "/v1/projects/shop?force=true",
        &owner,
        None,
        StatusCode::OK,
    )
    .await;
    eventually("the namespace's manifests are removed", || async {
        !namespace.exists()
    })
    .await;
    worker.cancel();
}

#[tokio::test]
async fn nothing_to_roll_back_to_and_no_cluster_are_clear_errors() {
    let app = TestApp::spawn().await;
    let (owner, id) = service(&app).await;
    let worker = start_worker(&app, DeployTarget::Unconfigured).await;
    ready_release(&app, &owner, &id, "4444444d").await;
    let only = latest_id(&app, &owner, &id).await;
    let (status, problem) = call(
        &app,
        Method::POST,
        &format!("/v1/deployments/{only}/rollback"),
        Some(&owner),
        Some(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem.to_string().contains("No previous deployment"),
        "{problem}"
    );
    eventually("the deployment fails", || {
        phase_is(&app, &owner, &only, "failed")
    })
    .await;
    let failed = deployment(&app, &owner, &only).await;
    assert_eq!(failed["reason"], "ClusterNotConfigured");
    assert!(
        failed["error_message"]
            .as_str()
            .unwrap()
            .contains("ENCLII_KUBE_CONFIG")
    );
    assert_eq!(failed["status"], "failed");
    worker.cancel();
}
