//! The reconciler under fire: four deployments roll out while the API server answers one
//! write in ten with 409 Conflict and the worker is killed twenty times mid-rollout. Every
//! deployment still ends `running`, and reaches it exactly once (one `deployment.started`
//! usage event each, the event written in the same transaction as the phase change).

use std::{sync::Arc, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::json;
use switchyard_k8s::cluster::Cluster;
use switchyard_kube_fake::FakeApiServer;
use switchyard_testkit::TestApp;
use switchyard_worker::jobs::deployments::{AutoRollback, DeployTarget, ReconcileSettings};

use crate::{
    builds::{outbox, service},
    deployments::{phase_is, shipped, worker_on},
    jobs_support::{crash_settings, eventually, redis},
    support::expect,
};

const NS: &str = "enclii-shop-production";

/// Marks every Deployment's rollout complete, as the cluster's controllers would, until
/// aborted.
async fn controller_loop(fake: Arc<FakeApiServer>) {
    loop {
        for live in fake.list("Deployment", NS) {
            let name = live["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let replicas = live["spec"]["replicas"].as_u64().unwrap_or(1);
            fake.set_status(
                "Deployment",
                NS,
                &name,
                json!({"observedGeneration": live["metadata"]["generation"],
                       "replicas": replicas, "updatedReplicas": replicas,
                       "readyReplicas": replicas, "availableReplicas": replicas}),
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test reads phases directly while the API is being polled hard"
)]
async fn running(app: &TestApp, ids: &[String]) -> bool {
    let ids: Vec<uuid::Uuid> = ids.iter().filter_map(|i| i.parse().ok()).collect();
    let mut conn = app.db.connect().await;
    let running: i64 = sqlx::query_scalar(
        "select count(*) from deployments where id = any($1) and phase = 'running'",
    )
    .bind(&ids)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    running == i64::try_from(ids.len()).unwrap()
}

#[tokio::test]
async fn deployments_converge_through_conflicts_and_twenty_worker_kills() {
    let fake = Arc::new(FakeApiServer::start().await);
    fake.fail_writes_every(10, 409);
    let app = TestApp::spawn().await;
    let (owner, api) = service(&app).await;
    let mut services = vec![api];
    for name in ["web", "jobs", "admin"] {
        let created = expect(
            &app,
            Method::POST,
            "/v1/projects/shop/services",
            &owner,
            Some(json!({"name": name, "git_repo": format!("https://github.com/acme/{name}")})),
            StatusCode::CREATED,
        )
        .await;
        services.push(created["id"].as_str().unwrap().to_owned());
    }
    let settings = ReconcileSettings {
        poll: Duration::from_millis(30),
        auto_rollback: AutoRollback::Never,
        ..ReconcileSettings::default()
    };
    let redis = redis(switchyard_testkit::services().await.redis_url.clone());
    let target = DeployTarget::Cluster(Cluster::for_url(fake.url()).unwrap());
    let spawn_worker = || {
        let worker = worker_on(
            &app,
            redis.clone(),
            target.clone(),
            settings.clone(),
            crash_settings(),
        );
        tokio::spawn(worker.run(tokio_util::sync::CancellationToken::new()))
    };
    let mut worker = spawn_worker();

    let mut deployments = Vec::new();
    for (i, service) in services.iter().enumerate() {
        let (_, deployment) =
            shipped(&app, &owner, service, &format!("{i}{i}{i}{i}{i}{i}{i}a")).await;
        deployments.push(deployment);
    }
    let mut controller = None;
    for kill in 0..20 {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(20..150))).await;
        worker.abort(); // killed wherever it is: mid-apply, mid-watch, mid-transaction
        worker = spawn_worker();
        if kill == 9 {
            // The first ten kills land while every rollout is still in progress.
            assert!(!running(&app, &deployments[..1]).await);
            controller = Some(tokio::spawn(controller_loop(fake.clone())));
        }
    }
    // Read from the table: polling the API this long would meet its rate limit.
    eventually("every deployment runs", || running(&app, &deployments)).await;
    for deployment in &deployments {
        assert!(phase_is(&app, &owner, deployment, "running").await);
    }
    worker.abort();
    if let Some(controller) = controller {
        controller.abort();
    }

    let started = outbox(&app, "usage").await;
    for deployment in &deployments {
        let count = started
            .iter()
            .filter(|e| {
                e["event_type"] == "deployment.started" && e["resource_id"] == deployment.as_str()
            })
            .count();
        assert_eq!(
            count, 1,
            "deployment {deployment} reached running {count} times"
        );
    }
    assert!(
        fake.writes().len() >= deployments.len(),
        "the deployments were never applied"
    );
}
