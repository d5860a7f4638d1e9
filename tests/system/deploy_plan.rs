//! Looking before leaping: `POST /v1/services/:id/deploy?dry_run=true` answers what a deploy
//! would change (against the fake cluster, or render mode's files) and writes nothing; `GET
//! /v1/services/:id/drift` finds what was changed by hand under a running deployment. Both
//! answer 503 naming `ENCLII_KUBE_CONFIG` when there is nothing to compare with.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_core::{ClusterView, DeploySettings};
use switchyard_k8s::cluster::Cluster;
use switchyard_kube_fake::FakeApiServer;
use switchyard_testkit::TestApp;
use switchyard_worker::jobs::deployments::{AutoRollback, DeployTarget, ReconcileSettings};

use crate::{
    builds::{outbox, service},
    deployments::{phase_is, ready_release, shipped, start_worker_with},
    jobs_support::eventually,
    reconcile::complete,
    support::{call, expect, get_ok},
};

const NS: &str = "enclii-shop-production";
const SECRET: &str = "s3cr3t-value-never-shown";

async fn app_seeing(fake: &FakeApiServer) -> TestApp {
    let reader = Cluster::for_url(fake.url()).unwrap().reader();
    TestApp::builder()
        .deploys(DeploySettings {
            view: ClusterView::Cluster(reader),
            render: Default::default(),
        })
        .spawn()
        .await
}

fn quick() -> ReconcileSettings {
    ReconcileSettings {
        poll: Duration::from_millis(50),
        auto_rollback: AutoRollback::Never,
        ..ReconcileSettings::default()
    }
}

async fn secret_var(app: &TestApp, owner: &str, service: &str) {
    expect(
        app,
        Method::POST,
        &format!("/v1/services/{service}/env-vars"),
        owner,
        Some(json!({"key": "DATABASE_PASSWORD", "value": SECRET, "is_secret": true})),
        StatusCode::CREATED,
    )
    .await;
}

async fn dry_run(app: &TestApp, owner: &str, service: &str, release: &str, env: &str) -> Value {
    expect(
        app,
        Method::POST,
        &format!("/v1/services/{service}/deploy?dry_run=true"),
        owner,
        Some(json!({"release_id": release, "environment_name": env})),
        StatusCode::OK,
    )
    .await
}

fn actions(plan: &Value) -> Vec<(String, String)> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                format!(
                    "{}/{}",
                    c["kind"].as_str().unwrap(),
                    c["name"].as_str().unwrap()
                ),
                c["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) async fn deployment_count(app: &TestApp, owner: &str, service: &str) -> u64 {
    get_ok(app, &format!("/v1/services/{service}/deployments"), owner).await["count"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn a_dry_run_shows_every_object_to_create_redacts_secrets_and_writes_nothing() {
    let fake = FakeApiServer::start().await;
    let app = app_seeing(&fake).await;
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
    secret_var(&app, &owner, &id).await;
    // Auto-deploy writes a deployment to production (no worker runs here).
    let release = ready_release(&app, &owner, &id, "1111111a").await;
    let before = deployment_count(&app, &owner, &id).await;
    let events = outbox(&app, "deployments").await.len();

    let plan = dry_run(&app, &owner, &id, &release, "staging").await;
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["compared_with"], "cluster");
    assert_eq!(plan["environment"], "staging");
    assert_eq!(plan["unchanged"], 0);
    let planned = actions(&plan);
    assert!(planned.iter().all(|(_, a)| a == "create"), "{planned:?}");
    for object in [
        "Namespace/enclii-shop-staging",
        "Deployment/api",
        "Secret/api-secrets",
    ] {
        assert!(
            planned.iter().any(|(o, _)| o == object),
            "{object} missing: {planned:?}"
        );
    }
    let text = plan.to_string();
    assert!(!text.contains(SECRET), "a secret value leaked: {text}");
    assert!(text.contains("[redacted]"), "{text}");

    assert!(fake.writes().is_empty(), "a dry run wrote to the cluster");
    assert_eq!(
        deployment_count(&app, &owner, &id).await,
        before,
        "a deployment was written"
    );
    assert_eq!(
        outbox(&app, "deployments").await.len(),
        events,
        "an event was written"
    );
}

#[tokio::test]
async fn after_a_rollout_a_dry_run_changes_only_the_deployment_and_drift_finds_hand_edits() {
    let fake = FakeApiServer::start().await;
    let app = app_seeing(&fake).await;
    let (owner, id) = service(&app).await;
    let worker = start_worker_with(
        &app,
        DeployTarget::Cluster(Cluster::for_url(fake.url()).unwrap()),
        quick(),
    )
    .await;
    let (release, d1) = shipped(&app, &owner, &id, "1111111a").await;
    eventually("rolling out", || phase_is(&app, &owner, &d1, "rolling_out")).await;
    complete(&fake, 1);
    eventually("running", || phase_is(&app, &owner, &d1, "running")).await;

    let drift_path = format!("/v1/services/{id}/drift?environment=production");
    let drift = get_ok(&app, &drift_path, &owner).await;
    assert_eq!(drift["in_sync"], true, "{drift}");
    assert_eq!(drift["deployment_id"], d1.as_str());

    // Redeploying the same release rewrites the Deployment only (its deployment label).
    let writes = fake.writes().len();
    let plan = dry_run(&app, &owner, &id, &release, "production").await;
    assert_eq!(
        actions(&plan),
        vec![("Deployment/api".to_owned(), "update".to_owned())],
        "{plan}"
    );
    assert!(plan["unchanged"].as_u64().unwrap() >= 3, "{plan}");
    assert_eq!(
        fake.writes().len(),
        writes,
        "a dry run wrote to the cluster"
    );

    // Someone edits the cluster by hand.
    let mut live = fake.get("Deployment", NS, "api").unwrap();
    live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("evil:latest");
    fake.put_object(live);
    let drift = get_ok(&app, &drift_path, &owner).await;
    assert_eq!(drift["in_sync"], false);
    let image = drift["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["field"] == "image")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (image["desired"].as_str(), image["live"].as_str()),
        (Some("ghcr.io/acme/api:1111111a"), Some("evil:latest")),
        "{drift}"
    );
    worker.cancel();
}

#[tokio::test]
async fn render_mode_compares_with_the_files_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::builder()
        .deploys(DeploySettings {
            view: ClusterView::Render {
                dir: dir.path().to_path_buf(),
            },
            render: Default::default(),
        })
        .spawn()
        .await;
    let (owner, id) = service(&app).await;
    let target = DeployTarget::Render {
        dir: dir.path().to_path_buf(),
    };
    let worker = start_worker_with(&app, target, quick()).await;
    let (release, d1) = shipped(&app, &owner, &id, "1111111a").await;
    eventually("rendered", || phase_is(&app, &owner, &d1, "running")).await;

    let drift_path = format!("/v1/services/{id}/drift?environment=production");
    let drift = get_ok(&app, &drift_path, &owner).await;
    assert_eq!(
        (drift["in_sync"].as_bool(), drift["compared_with"].as_str()),
        (Some(true), Some("render")),
        "{drift}"
    );
    let plan = dry_run(&app, &owner, &id, &release, "production").await;
    assert_eq!(
        actions(&plan),
        vec![("Deployment/api".to_owned(), "update".to_owned())],
        "{plan}"
    );

    let file = dir
        .path()
        .join("manifests")
        .join(NS)
        .join("service-api.yaml");
    std::fs::remove_file(&file).unwrap();
    let drift = get_ok(&app, &drift_path, &owner).await;
    let missing: Vec<&Value> = drift["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["field"] == "missing")
        .collect();
    assert_eq!(missing.len(), 1, "{drift}");
    assert_eq!(missing[0]["kind"], "Service");
    worker.cancel();
}

#[tokio::test]
async fn plans_and_drift_refuse_clearly_and_change_nothing() {
    let app = TestApp::spawn().await; // no cluster
    let (owner, id) = service(&app).await;
    let release = ready_release(&app, &owner, &id, "1111111a").await;
    let before = deployment_count(&app, &owner, &id).await;
    let deploy = format!("/v1/services/{id}/deploy?dry_run=true");
    let body = json!({"release_id": release, "environment_name": "production"});
    let (status, problem) = call(&app, Method::POST, &deploy, Some(&owner), Some(&body)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("ENCLII_KUBE_CONFIG"),
        "{problem}"
    );
    let cases = [
        (
            format!("/v1/services/{id}/deploy?dry_run=maybe"),
            body.clone(),
            StatusCode::BAD_REQUEST,
            "dry_run",
        ),
        (
            deploy.clone(),
            json!({"release_id": release, "environment_name": "nowhere"}),
            StatusCode::NOT_FOUND,
            "nowhere",
        ),
        (
            deploy.clone(),
            json!({"release_id": release, "environment_name": "production", "replicas": 51}),
            StatusCode::BAD_REQUEST,
            "replicas",
        ),
        (
            deploy.clone(),
            json!({}),
            StatusCode::BAD_REQUEST,
            "release_id",
        ),
    ];
    for (path, body, want, says) in cases {
        let (status, problem) = call(&app, Method::POST, &path, Some(&owner), Some(&body)).await;
        assert_eq!(status, want, "{path}: {problem}");
        assert!(problem.to_string().contains(says), "{path}: {problem}");
    }
    assert_eq!(deployment_count(&app, &owner, &id).await, before);

    // Drift: production's only deployment is pending (no worker runs here).
    let (status, problem) = call(
        &app,
        Method::GET,
        &format!("/v1/services/{id}/drift?environment=production"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("no running deployment"),
        "{problem}"
    );
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/v1/services/{id}/drift?environment=nowhere"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
