//! Leader-only loops: one worker replica at a time holds the leader lock (a Postgres session
//! lock), and when it dies another takes over; the leader's status sync records what the
//! cluster shows of running deployments after their rollout ended.

use std::time::Duration;

use serde_json::json;
use switchyard_core::DeploymentDispatch;
use switchyard_db::LeaderLock;
use switchyard_k8s::cluster::Cluster;
use switchyard_kube_fake::FakeApiServer;
use switchyard_testkit::{TestApp, TestDb, services};
use switchyard_worker::{
    Janitor, LEADER_KEY, StatusSync, Worker,
    jobs::deployments::{AutoRollback, DeployTarget, ReconcileSettings},
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    builds::service,
    deployments::{deployment, phase_is, shipped, worker_for},
    jobs_support::{eventually, quick_settings, redis},
    reconcile::report_ready,
};

const NS: &str = "enclii-shop-production";

#[tokio::test]
async fn one_session_holds_the_lock_until_it_ends() {
    let db = TestDb::migrated().await;
    let mut first = LeaderLock::connect(&db.pool, LEADER_KEY).await.unwrap();
    let mut second = LeaderLock::connect(&db.pool, LEADER_KEY).await.unwrap();
    assert!(first.try_acquire().await.unwrap());
    assert!(!second.try_acquire().await.unwrap(), "two holders");
    first.confirm(Duration::from_secs(5)).await.unwrap();
    assert!(
        second.confirm(Duration::from_secs(5)).await.is_err(),
        "a session that does not hold the lock confirmed it"
    );
    drop(first); // a crash: the session ends with its socket
    // The server notices the closed socket at once; allow it a moment all the same.
    let mut taken = false;
    for _ in 0..100 {
        taken = second.try_acquire().await.unwrap();
        if taken {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(taken, "the lock outlived its session");
    second.confirm(Duration::from_secs(5)).await.unwrap();
    second.release().await;
}

fn janitor(db: &TestDb) -> Janitor {
    Janitor {
        pool: db.pool.clone(),
        builds: switchyard_core::BuildDispatch::new(db.pool.clone(), "http://unused".to_owned()),
        deployments: DeploymentDispatch::new(db.pool.clone(), None),
        deployment_idle: switchyard_worker::DEPLOYMENT_IDLE,
        build_timeout: Duration::from_secs(1800),
        outbox_retention: switchyard_worker::OUTBOX_RETENTION,
        interval: Duration::from_secs(60),
    }
}

/// A replica with a janitor (a leader loop); returns its task and whether it leads.
async fn replica(db: &TestDb) -> (tokio::task::JoinHandle<()>, watch::Receiver<bool>) {
    let redis = redis(services().await.redis_url.clone());
    let worker = Worker::new(db.pool.clone(), redis, quick_settings()).with_janitor(janitor(db));
    let leading = worker.leading();
    let task = tokio::spawn(async move {
        let _ = worker.run(CancellationToken::new()).await;
    });
    (task, leading)
}

#[tokio::test]
async fn exactly_one_replica_leads_and_another_takes_over_when_it_dies() {
    let db = TestDb::migrated().await;
    let (a, a_leads) = replica(&db).await;
    let (b, b_leads) = replica(&db).await;
    eventually("a leader is elected", || async {
        *a_leads.borrow() || *b_leads.borrow()
    })
    .await;
    // Several campaign rounds later, still exactly one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        *a_leads.borrow() != *b_leads.borrow(),
        "both or neither lead"
    );
    let (leader, follower, follower_leads) = if *a_leads.borrow() {
        (a, b, b_leads)
    } else {
        (b, a, a_leads)
    };
    leader.abort(); // killed: its connections drop with it
    eventually("the follower takes over", || async {
        *follower_leads.borrow()
    })
    .await;
    follower.abort();
}

/// A worker with a fast status sync on `fake`, and the service's first release rolled out
/// there (one pod ready): the deployment's id and the worker's shutdown.
async fn synced_rollout(
    app: &TestApp,
    fake: &FakeApiServer,
    owner: &str,
    id: &str,
) -> (String, CancellationToken) {
    let cluster = Cluster::for_url(fake.url()).unwrap();
    let settings = ReconcileSettings {
        poll: Duration::from_millis(50),
        auto_rollback: AutoRollback::Never,
        ..ReconcileSettings::default()
    };
    let worker = worker_for(app, DeployTarget::Cluster(cluster.clone()), settings)
        .await
        .with_status_sync(StatusSync {
            dispatch: DeploymentDispatch::new(app.db.pool.clone(), None),
            cluster,
            interval: Duration::from_millis(100),
        });
    let shutdown = CancellationToken::new();
    tokio::spawn(worker.run(shutdown.clone()));
    let (_, d1) = shipped(app, owner, id, "1111111a").await;
    eventually("rolling out", || phase_is(app, owner, &d1, "rolling_out")).await;
    report_ready(fake, 1, 1);
    (d1, shutdown)
}

#[tokio::test]
async fn the_status_sync_notices_a_crash_loop_after_the_rollout_and_the_recovery() {
    let app = TestApp::spawn().await;
    let fake = FakeApiServer::start().await;
    let (owner, id) = service(&app).await;
    let (d1, shutdown) = synced_rollout(&app, &fake, &owner, &id).await;
    eventually("running and healthy", || async {
        let d = deployment(&app, &owner, &d1).await;
        d["phase"] == "running" && d["health"] == "healthy"
    })
    .await;

    // Later the pod starts crash-looping: the deployment stays running, its health says so.
    report_ready(&fake, 1, 0);
    fake.add_pod(
        NS,
        "api-1",
        json!({"app": "api", "enclii.dev/service": "api", "enclii.dev/deployment": d1}),
        json!({"phase": "Running", "containerStatuses": [{"name": "api", "restartCount": 7,
            "ready": false, "state": {"waiting": {"reason": "CrashLoopBackOff",
            "message": "back-off restarting"}}}]}),
    );
    eventually("the crash loop is noticed", || async {
        deployment(&app, &owner, &d1).await["health"] == "unhealthy"
    })
    .await;
    let d = deployment(&app, &owner, &d1).await;
    assert_eq!(
        (
            d["phase"].as_str(),
            d["status"].as_str(),
            d["reason"].as_str(),
            d["ready_replicas"].as_i64()
        ),
        (
            Some("running"),
            Some("running"),
            Some("CrashLoopBackOff"),
            Some(0)
        ),
        "{d}"
    );
    let status = crate::support::get_ok(&app, &format!("/v1/services/{id}/status"), &owner).await;
    assert_eq!(status["health"], "unhealthy", "{status}");

    // Fixed by hand: healthy again, the reason cleared.
    assert!(fake.delete("Pod", NS, "api-1"));
    report_ready(&fake, 1, 1);
    eventually("the recovery is noticed", || async {
        let d = deployment(&app, &owner, &d1).await;
        d["health"] == "healthy" && d["reason"].is_null()
    })
    .await;
    shutdown.cancel();
}

#[tokio::test]
async fn an_autoscaled_deployment_is_billed_at_the_replicas_its_autoscaler_runs() {
    let app = TestApp::spawn().await;
    let fake = FakeApiServer::start().await;
    let (owner, id) = service(&app).await;
    crate::support::expect(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/services/{id}"),
        &owner,
        Some(json!({"autoscaling": {"min_replicas": 1, "max_replicas": 5}})),
        reqwest::StatusCode::OK,
    )
    .await;
    let (d1, shutdown) = synced_rollout(&app, &fake, &owner, &id).await;
    eventually("running", || phase_is(&app, &owner, &d1, "running")).await;

    // The autoscaler raises the Deployment to 3 replicas, later lowers it to 2.
    let scaled = || async {
        crate::builds::outbox(&app, "usage")
            .await
            .into_iter()
            .filter(|e| e["event_type"] == "deployment.scaled" && e["resource_id"] == d1.as_str())
            .map(|e| e["metrics"]["replicas"].as_f64().unwrap_or_default())
            .collect::<Vec<f64>>()
    };
    for replicas in [3, 2] {
        let mut live = fake.get("Deployment", NS, "api").unwrap();
        live["spec"]["replicas"] = json!(replicas);
        fake.put_object(live);
        report_ready(&fake, replicas, replicas);
        eventually("the new count is billed", || async {
            scaled().await.last() == Some(&f64::from(replicas))
        })
        .await;
    }
    assert_eq!(scaled().await, vec![3.0, 2.0], "one event per change");
    shutdown.cancel();
}
