//! `observe` reads the Deployment and the pods of one deployment id and classifies the rollout.

use serde_json::{Value, json};
use switchyard_k8s::cluster::Rollout;

use crate::{cluster, fixtures, rendered};

const NS: &str = "enclii-shop-production";
/// The deployment id of the fixtures.
const CURRENT: &str = "01900000-0000-7000-8000-000000000005";
const OLDER: &str = "01900000-0000-7000-8000-0000000000aa";

fn labels(deployment: &str) -> Value {
    json!({"app": "web", "enclii.dev/service": "web", "enclii.dev/deployment": deployment})
}

fn waiting(reason: &str, restarts: u32) -> Value {
    json!({"phase": "Pending", "containerStatuses": [{"name": "web", "restartCount": restarts,
        "ready": false, "state": {"waiting": {"reason": reason, "message": "back-off"}}}]})
}

async fn deployed() -> (
    switchyard_kube_fake::FakeApiServer,
    switchyard_k8s::cluster::Cluster,
) {
    let (fake, cluster) = cluster().await;
    cluster
        .apply(&rendered(&fixtures::minimal()))
        .await
        .unwrap();
    (fake, cluster)
}

fn reason(rollout: &Rollout) -> &str {
    match rollout {
        Rollout::Failed { reason, .. } => reason,
        other => panic!("not failed: {other:?}"),
    }
}

#[tokio::test]
async fn no_deployment_is_missing() {
    let (_fake, cluster) = cluster().await;
    assert_eq!(
        cluster.observe(NS, "web", CURRENT).await.unwrap(),
        Rollout::Missing
    );
}

#[tokio::test]
async fn a_fresh_deployment_is_progressing() {
    let (_fake, cluster) = deployed().await;
    assert_eq!(
        cluster.observe(NS, "web", CURRENT).await.unwrap(),
        Rollout::Progressing {
            desired: 1,
            updated: 0,
            ready: 0,
            available: 0
        }
    );
}

#[tokio::test]
async fn image_pull_and_crash_loops_of_this_deployment_fail_it() {
    let (fake, cluster) = deployed().await;
    fake.add_pod(NS, "web-1", labels(CURRENT), waiting("ImagePullBackOff", 0));
    let rollout = cluster.observe(NS, "web", CURRENT).await.unwrap();
    assert_eq!(reason(&rollout), "ImagePullBackOff");

    let (fake, cluster) = deployed().await;
    fake.add_pod(NS, "web-2", labels(CURRENT), waiting("CrashLoopBackOff", 3));
    let rollout = cluster.observe(NS, "web", CURRENT).await.unwrap();
    assert_eq!(reason(&rollout), "CrashLoopBackOff");
}

#[tokio::test]
async fn pods_of_an_older_deployment_are_ignored() {
    let (fake, cluster) = deployed().await;
    fake.add_pod(
        NS,
        "web-old",
        labels(OLDER),
        waiting("CrashLoopBackOff", 12),
    );
    fake.add_pod(
        NS,
        "web-new",
        labels(CURRENT),
        waiting("ContainerCreating", 0),
    );
    assert!(matches!(
        cluster.observe(NS, "web", CURRENT).await.unwrap(),
        Rollout::Progressing { .. }
    ));
}

#[tokio::test]
async fn a_finished_rollout_is_complete() {
    let (fake, cluster) = deployed().await;
    let generation = fake.get("Deployment", NS, "web").unwrap()["metadata"]["generation"].clone();
    fake.set_status(
        "Deployment",
        NS,
        "web",
        json!({"observedGeneration": generation,
        "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}),
    );
    assert_eq!(
        cluster.observe(NS, "web", CURRENT).await.unwrap(),
        Rollout::Complete {
            replicas: 1,
            ready: 1
        }
    );
}
