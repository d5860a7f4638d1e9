//! The reconciler against a Kubernetes API server (the HTTP-level fake, spoken to by the real
//! `kube::Client`): a deployment is applied, watched without blocking until its rollout
//! completes, fails fast on image pull errors and rolls back automatically in production, times
//! out past its deadline, leaves hand-managed apps alone, and survives API outages.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use switchyard_core::DeploymentDispatch;
use switchyard_k8s::cluster::Cluster;
use switchyard_kube_fake::FakeApiServer;
use switchyard_testkit::TestApp;
use switchyard_worker::jobs::deployments::{AutoRollback, DeployTarget, ReconcileSettings};
use tokio_util::sync::CancellationToken;

use crate::{
    builds::service,
    deployments::{deployment, phase_is, shipped, start_worker_with},
    jobs_support::eventually,
    support::{expect, get_ok},
};

const NS: &str = "enclii-shop-production";

async fn start(
    app: &TestApp,
    fake: &FakeApiServer,
    settings: ReconcileSettings,
) -> CancellationToken {
    let target = DeployTarget::Cluster(Cluster::for_url(fake.url()).unwrap());
    start_worker_with(app, target, settings).await
}

fn quick(auto_rollback: AutoRollback) -> ReconcileSettings {
    ReconcileSettings {
        poll: Duration::from_millis(50),
        auto_rollback,
        ..ReconcileSettings::default()
    }
}

/// Reports the Deployment's rollout complete, as the cluster's controller would.
pub(crate) fn complete(fake: &FakeApiServer, replicas: u32) {
    report_ready(fake, replicas, replicas);
}

/// Reports `ready` of the Deployment's `replicas` (all updated) ready and available, as the
/// cluster's controller would.
pub(crate) fn report_ready(fake: &FakeApiServer, replicas: u32, ready: u32) {
    let live = fake.get("Deployment", NS, "api").unwrap();
    fake.set_status(
        "Deployment",
        NS,
        "api",
        json!({"observedGeneration": live["metadata"]["generation"], "replicas": replicas,
               "updatedReplicas": replicas, "readyReplicas": ready,
               "availableReplicas": ready}),
    );
}

fn image(fake: &FakeApiServer) -> String {
    let live = fake.get("Deployment", NS, "api").unwrap();
    live["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_deployment_is_applied_watched_and_run() {
    let app = TestApp::spawn().await;
    let fake = FakeApiServer::start().await;
    let (owner, id) = service(&app).await;
    let worker = start(&app, &fake, quick(AutoRollback::Production)).await;
    let (_, d1) = shipped(&app, &owner, &id, "1111111a").await;
    eventually(
        "the objects are applied and the rollout watched",
        || async { phase_is(&app, &owner, &d1, "rolling_out").await },
    )
    .await;
    assert_eq!(image(&fake), "ghcr.io/acme/api:1111111a");
    assert!(
        fake.get("Namespace", "", NS).is_some(),
        "no Namespace applied"
    );
    for kind in ["Service", "NetworkPolicy"] {
        assert!(!fake.list(kind, NS).is_empty(), "no {kind} applied");
    }
    // Nothing more is written while the rollout is watched.
    let writes = fake.writes().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.writes().len(), writes, "watching writes nothing");

    complete(&fake, 1);
    eventually("the deployment runs", || {
        phase_is(&app, &owner, &d1, "running")
    })
    .await;
    let running = deployment(&app, &owner, &d1).await;
    assert_eq!(
        (
            running["health"].as_str(),
            running["ready_replicas"].as_i64()
        ),
        (Some("healthy"), Some(1))
    );
    let status = get_ok(&app, &format!("/v1/services/{id}/status"), &owner).await;
    assert_eq!(
        (status["status"].as_str(), status["ready_replicas"].as_i64()),
        (Some("running"), Some(1))
    );
    worker.cancel();
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_fails_and_production_rolls_back() {
    let app = TestApp::spawn().await;
    let fake = FakeApiServer::start().await;
    let (owner, id) = service(&app).await;
    let worker = start(&app, &fake, quick(AutoRollback::Production)).await;
    let (good, d1) = shipped(&app, &owner, &id, "1111111a").await;
    eventually("rolling out", || phase_is(&app, &owner, &d1, "rolling_out")).await;
    complete(&fake, 1);
    eventually("the first runs", || phase_is(&app, &owner, &d1, "running")).await;

    let (_, d2) = shipped(&app, &owner, &id, "2222222b").await;
    eventually("the second is applied", || async {
        image(&fake) == "ghcr.io/acme/api:2222222b"
    })
    .await;
    fake.add_pod(
        NS,
        "api-2",
        json!({"app": "api", "enclii.dev/service": "api", "enclii.dev/deployment": d2}),
        json!({"phase": "Pending", "containerStatuses": [{"name": "api", "restartCount": 0,
            "ready": false, "state": {"waiting": {"reason": "ImagePullBackOff",
            "message": "manifest unknown"}}}]}),
    );
    eventually("the second fails fast", || {
        phase_is(&app, &owner, &d2, "failed")
    })
    .await;
    let failed = deployment(&app, &owner, &d2).await;
    assert_eq!(failed["reason"], "ImagePullBackOff");
    assert_eq!(failed["status"], "failed");

    // Production: a new deployment of the release that ran before (written in the same
    // transaction as the failure), applied at once.
    let list = get_ok(&app, &format!("/v1/services/{id}/deployments"), &owner).await;
    assert_eq!(list["count"], 3);
    let rollback = &list["deployments"][0];
    assert_eq!(rollback["release_id"], good.as_str());
    assert_eq!(rollback["rolled_back_from"], d2.as_str());
    eventually("the rollback is applied", || async {
        image(&fake) == "ghcr.io/acme/api:1111111a"
    })
    .await;
    let activity = get_ok(&app, "/v1/activity?action=deployment.auto_rollback", &owner).await;
    assert_eq!(
        activity["activities"][0]["actor_email"],
        "auto-rollback@system.enclii.dev"
    );
    worker.cancel();
}

#[tokio::test]
async fn a_rollout_past_its_deadline_times_out_and_staging_is_not_rolled_back() {
    let app = TestApp::spawn().await;
    let fake = FakeApiServer::start().await;
    let (owner, id) = service(&app).await;
    expect(
        &app,
        Method::PATCH,
        &format!("/v1/services/{id}"),
        &owner,
        Some(json!({"auto_deploy_env": "staging"})),
        StatusCode::OK,
    )
    .await;
    let settings = ReconcileSettings {
        rollout_deadline: Duration::from_secs(1),
        ..quick(AutoRollback::Production)
    };
    let worker = start(&app, &fake, settings).await;
    let (_, d1) = shipped(&app, &owner, &id, "1111111a").await;
    eventually("the rollout times out", || {
        phase_is(&app, &owner, &d1, "timed_out")
    })
    .await;
    let timed_out = deployment(&app, &owner, &d1).await;
    assert_eq!(timed_out["reason"], "ProgressDeadlineExceeded");
    assert_eq!(timed_out["status"], "failed");
    let list = get_ok(&app, &format!("/v1/services/{id}/deployments"), &owner).await;
    assert_eq!(list["count"], 1, "no rollback outside production");
    worker.cancel();
}

#[tokio::test]
async fn hand_managed_apps_are_left_alone_and_outages_are_retried() {
    let app = TestApp::spawn().await;
    let fake = FakeApiServer::start().await;
    let (owner, id) = service(&app).await;
    // Janua-style: a Deployment someone manages by hand, opted out of reconciling.
    fake.put_object(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": NS}}));
    fake.put_object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "namespace": NS,
                     "annotations": {"enclii.dev/reconcile": "disabled"}},
        "spec": {"selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api"}},
                              "spec": {"containers": [{"name": "api", "image": "hand/made:1"}]}}}}));
    fake.clear_writes();
    // The API server is down for the first three calls.
    fake.fail_next(3, 503);
    let worker = start(&app, &fake, quick(AutoRollback::Production)).await;
    let (_, d1) = shipped(&app, &owner, &id, "1111111a").await;
    eventually("the deployment is recorded", || {
        phase_is(&app, &owner, &d1, "running")
    })
    .await;
    let done = deployment(&app, &owner, &d1).await;
    assert_eq!(done["reason"], "ReconcileDisabled");
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());
    assert_eq!(image(&fake), "hand/made:1");
    worker.cancel();
}

#[tokio::test]
async fn one_replica_at_a_time_holds_a_deployment() {
    let app = TestApp::spawn().await;
    let (owner, id) = service(&app).await;
    let (_, d1) = shipped(&app, &owner, &id, "1111111a").await;
    let d1: switchyard_domain::DeploymentId = d1.parse().unwrap();
    let (a, b) = (
        DeploymentDispatch::new(app.db.pool.clone(), None),
        DeploymentDispatch::new(app.db.pool.clone(), None),
    );
    let held = a.claim(d1).await.unwrap().unwrap(); // the first claim wins
    assert!(b.claim(d1).await.unwrap().is_none(), "taken while held");
    let other = shipped(&app, &owner, &id, "2222222b")
        .await
        .1
        .parse()
        .unwrap();
    assert!(
        b.claim(other).await.unwrap().is_some(),
        "another deployment is free"
    );
    held.release().await;
    assert!(b.claim(d1).await.unwrap().is_some(), "free once released");
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "ages a deployment and reads the outbox instead of waiting minutes"
)]
async fn the_janitor_enqueues_deployments_whose_message_was_lost() {
    let app = TestApp::spawn().await;
    let (owner, id) = service(&app).await;
    let (_, d1) = shipped(&app, &owner, &id, "1111111a").await;
    let dispatch = DeploymentDispatch::new(app.db.pool.clone(), None);
    let events = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from outbox where topic = 'deployments' and aggregate_id = $1",
        )
        .bind(&d1)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
    };
    let age =
        "update deployments set updated_at = now() - interval '10 minutes' where id = $1::uuid";
    sqlx::query(age)
        .bind(&d1)
        .execute(&app.db.pool)
        .await
        .unwrap();
    // Its event still waits in the outbox: nothing is lost yet.
    assert_eq!(
        dispatch
            .requeue_stalled(Duration::from_secs(120))
            .await
            .unwrap(),
        0
    );
    // Published, then lost with Redis: the janitor writes a new event, once.
    sqlx::query("update outbox set published_at = now() where aggregate_id = $1")
        .bind(&d1)
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        dispatch
            .requeue_stalled(Duration::from_secs(120))
            .await
            .unwrap(),
        1
    );
    assert_eq!(events().await, 2);
    assert_eq!(
        dispatch
            .requeue_stalled(Duration::from_secs(120))
            .await
            .unwrap(),
        0,
        "the new event is pending and the deployment was touched"
    );
}

#[tokio::test]
async fn deleted_services_and_projects_leave_the_cluster() {
    let app = TestApp::spawn().await;
    let fake = FakeApiServer::start().await;
    let (owner, id) = service(&app).await;
    let worker = start(&app, &fake, quick(AutoRollback::Production)).await;
    let (_, d1) = shipped(&app, &owner, &id, "1111111a").await;
    eventually("applied", || phase_is(&app, &owner, &d1, "rolling_out")).await;
    // Another app in the namespace, not ours: it must survive everything below.
    fake.put_object(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "hand-made", "namespace": NS, "labels": {"app": "hand-made"}},
        "spec": {"ports": [{"port": 80}]}}));

    expect(
        &app,
        Method::DELETE,
        &format!("/v1/services/{id}"),
        &owner,
        None,
        StatusCode::OK,
    )
    .await;
    eventually("the service's objects are pruned", || async {
        fake.get("Deployment", NS, "api").is_none() && fake.get("Service", NS, "api").is_none()
    })
    .await;
    assert!(
        fake.get("Namespace", "", NS).is_some(),
        "the environment stays"
    );
    assert!(
        fake.get("Service", NS, "hand-made").is_some(),
        "not ours: left alone"
    );

    // A second environment whose namespace someone else made: never deleted.
    expect(
        &app,
        Method::POST,
        "/v1/projects/shop/environments",
        &owner,
        Some(json!({"name": "legacy", "kube_namespace": "legacy-apps"})),
        StatusCode::CREATED,
    )
    .await;
    fake.put_object(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "legacy-apps"}}));
    expect(
        &app,
        Method::DELETE,
        "/v1/projects/shop?force=true",
        &owner,
        None,
        StatusCode::OK,
    )
    .await;
    eventually("the project's namespace is deleted", || async {
        fake.get("Namespace", "", NS).is_none()
    })
    .await;
    assert!(
        fake.get("Namespace", "", "legacy-apps").is_some(),
        "not ours: left alone"
    );
    worker.cancel();
}
