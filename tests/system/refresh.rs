//! Changes that reach running pods without a new deployment: a variable or a verified domain
//! changed under an applied deployment has the worker apply that deployment's objects again
//! (the config checksum rolls the pods; the Ingress gains or loses the host), and only the
//! newest deployment of the environment is ever re-applied.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_k8s::cluster::Cluster;
use switchyard_kube_fake::FakeApiServer;
use switchyard_testkit::TestApp;
use switchyard_worker::jobs::deployments::{AutoRollback, DeployTarget, ReconcileSettings};
use tokio_util::sync::CancellationToken;

use crate::{
    builds::service,
    deploy_plan::deployment_count,
    deployments::{deployment, phase_is, shipped, start_worker_with},
    dns_support::settings,
    domains::domains_of,
    jobs_support::eventually,
    reconcile::complete,
    support::{expect, get_ok},
};

const NS: &str = "enclii-shop-production";

fn quick() -> ReconcileSettings {
    ReconcileSettings {
        poll: Duration::from_millis(50),
        auto_rollback: AutoRollback::Never,
        ..ReconcileSettings::default()
    }
}

async fn add_var(app: &TestApp, owner: &str, service: &str, key: &str, value: &str) -> Value {
    expect(
        app,
        Method::POST,
        &format!("/v1/services/{service}/env-vars"),
        owner,
        Some(json!({"key": key, "value": value})),
        StatusCode::CREATED,
    )
    .await
}

/// The value of variable `key` in the live Deployment's container, if set.
fn live_var(fake: &FakeApiServer, key: &str) -> Option<String> {
    let live = fake.get("Deployment", NS, "api")?;
    live["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == key)
        .and_then(|e| e["value"].as_str().map(str::to_owned))
}

fn live_image(fake: &FakeApiServer) -> Option<String> {
    let live = fake.get("Deployment", NS, "api")?;
    live["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .map(str::to_owned)
}

/// A worker on `fake`, and the shop's `api` running its first release there: (owner bearer,
/// service id, deployment id, the worker's shutdown).
async fn running(
    app: &TestApp,
    fake: &FakeApiServer,
) -> (String, String, String, CancellationToken) {
    let (owner, id) = service(app).await;
    let cluster = Cluster::for_url(fake.url()).unwrap();
    let worker = start_worker_with(app, DeployTarget::Cluster(cluster), quick()).await;
    let (_, d1) = shipped(app, &owner, &id, "1111111a").await;
    eventually("rolling out", || phase_is(app, &owner, &d1, "rolling_out")).await;
    complete(fake, 1);
    eventually("running", || phase_is(app, &owner, &d1, "running")).await;
    (owner, id, d1, worker)
}

#[tokio::test]
async fn a_variable_and_a_platform_domain_reach_the_running_deployment_at_once() {
    let fake = FakeApiServer::start().await;
    let app = TestApp::builder().domains(settings(None)).spawn().await;
    let (owner, id, d1, worker) = running(&app, &fake).await;
    let count = deployment_count(&app, &owner, &id).await;

    add_var(&app, &owner, &id, "GREETING", "hello").await;
    eventually("the variable reaches the Deployment", || async {
        live_var(&fake, "GREETING").as_deref() == Some("hello")
    })
    .await;

    let production = get_ok(&app, "/v1/projects/shop/environments/production", &owner).await;
    let domain = expect(
        &app,
        Method::POST,
        &domains_of(&id, ""),
        &owner,
        Some(json!({"domain": "web", "environment_id": production["id"], "is_platform_domain": true})),
        StatusCode::CREATED,
    )
    .await;
    eventually("the Ingress serves the platform name", || async {
        fake.list("Ingress", NS)
            .iter()
            .any(|i| i["spec"]["rules"][0]["host"] == "web.enclii.test")
    })
    .await;
    let domain_id = domain["domain"]["id"].as_str().unwrap_or_default();
    expect(
        &app,
        Method::DELETE,
        &domains_of(&id, &format!("/{domain_id}")),
        &owner,
        None,
        StatusCode::OK,
    )
    .await;
    eventually("the Ingress is pruned with its last host", || async {
        fake.list("Ingress", NS).is_empty()
    })
    .await;

    // The same deployment throughout: running, nothing new in its history.
    let d = deployment(&app, &owner, &d1).await;
    assert_eq!(d["phase"], "running", "{d}");
    assert_eq!(deployment_count(&app, &owner, &id).await, count);
    worker.cancel();
}

#[tokio::test]
async fn only_the_newest_deployment_is_applied_again() {
    let fake = FakeApiServer::start().await;
    let app = TestApp::spawn().await;
    let (owner, id, d1, worker) = running(&app, &fake).await;
    // A second release rolls out (never completes): d1 still runs, d2 is the newest.
    let (_, d2) = shipped(&app, &owner, &id, "2222222b").await;
    eventually("the second rolls out", || {
        phase_is(&app, &owner, &d2, "rolling_out")
    })
    .await;

    add_var(&app, &owner, &id, "GREETING", "hello").await;
    eventually("the variable reaches the Deployment", || async {
        live_var(&fake, "GREETING").as_deref() == Some("hello")
    })
    .await;
    assert_eq!(
        live_image(&fake).as_deref(),
        Some("ghcr.io/acme/api:2222222b"),
        "re-applying the older deployment undid the newer one's rollout"
    );
    assert_eq!(deployment(&app, &owner, &d1).await["phase"], "running");
    worker.cancel();
}
