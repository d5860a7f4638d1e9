//! `pod_logs` returns the tail of each pod's log (of one deployment when asked); `delete_namespace`
//! removes its contents. Followed logs are in `follow.rs`.

use serde_json::json;
use switchyard_k8s::cluster::{LogOptions, LogSource};

use crate::{cluster, fixtures, rendered, stored};

pub(crate) const NS: &str = "enclii-shop-production";

/// The pods of `service` in `NS`, of `deployment` only when given.
pub(crate) fn source(service: &str, deployment: Option<&str>) -> LogSource {
    LogSource {
        namespace: NS.to_owned(),
        service: service.to_owned(),
        deployment: deployment.map(str::to_owned),
    }
}

pub(crate) fn lines(lines: u32) -> LogOptions {
    LogOptions {
        lines,
        timestamps: false,
    }
}

pub(crate) fn running() -> serde_json::Value {
    json!({"phase": "Running", "containerStatuses": [{"name": "web", "state": {"running": {}}}]})
}

#[tokio::test]
async fn one_pods_logs_are_its_last_lines() {
    let (fake, cluster) = cluster().await;
    fake.add_pod(
        NS,
        "web-a",
        json!({"app": "web", "enclii.dev/service": "web"}),
        running(),
    );
    fake.set_logs(NS, "web-a", "one\ntwo\nthree\nfour\n");
    assert_eq!(
        cluster
            .pod_logs(&source("web", None), lines(2))
            .await
            .unwrap(),
        "three\nfour\n"
    );
    assert_eq!(
        cluster
            .pod_logs(&source("api", None), lines(2))
            .await
            .unwrap(),
        ""
    );
}

#[tokio::test]
async fn several_pods_are_prefixed_and_a_waiting_one_says_why() {
    let (fake, cluster) = cluster().await;
    let labels = json!({"app": "web", "enclii.dev/service": "web"});
    fake.add_pod(NS, "web-a", labels.clone(), running());
    fake.set_logs(NS, "web-a", "a1\na2\n");
    fake.add_pod(NS, "web-b", labels.clone(), running());
    fake.set_logs(NS, "web-b", "b1\n");
    fake.add_pod(
        NS,
        "web-c",
        labels,
        json!({"containerStatuses": [{"name": "web",
        "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}),
    );
    fake.add_pod(
        NS,
        "api-a",
        json!({"app": "api", "enclii.dev/service": "api"}),
        running(),
    );
    fake.set_logs(NS, "api-a", "not ours\n");
    let logs = cluster
        .pod_logs(&source("web", None), lines(10))
        .await
        .unwrap();
    assert_eq!(
        logs,
        "[web-a] a1\n[web-a] a2\n[web-b] b1\n\
         [web-c] (no logs: container \"web\" in pod \"web-c\" is waiting to start: ImagePullBackOff)\n"
    );
}

#[tokio::test]
async fn a_deployment_reads_its_own_pods_and_timestamps_stay_in_front() {
    let (fake, cluster) = cluster().await;
    for (pod, deployment) in [("web-old", "d1"), ("web-new", "d2")] {
        fake.add_pod(
            NS,
            pod,
            json!({"app": "web", "enclii.dev/service": "web", "enclii.dev/deployment": deployment}),
            running(),
        );
        fake.set_logs(NS, pod, &format!("{deployment} says hi\n"));
    }
    let logs = cluster
        .pod_logs(&source("web", Some("d2")), lines(5))
        .await
        .unwrap();
    assert_eq!(logs, "d2 says hi\n");
    let stamped = LogOptions {
        lines: 5,
        timestamps: true,
    };
    let logs = cluster
        .pod_logs(&source("web", Some("d1")), stamped)
        .await
        .unwrap();
    assert_eq!(
        logs,
        format!("{} d1 says hi\n", switchyard_kube_fake::LOG_TIMESTAMP)
    );
}

#[tokio::test]
async fn deleting_the_namespace_removes_everything_in_it() {
    let (fake, cluster) = cluster().await;
    let desired = rendered(&fixtures::full());
    cluster.apply(&desired).await.unwrap();
    fake.put_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "keep"}}));
    fake.put_object(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "keep"}}));
    assert!(cluster.delete_namespace(NS).await.unwrap());
    assert!(stored(&fake, &desired).iter().all(Option::is_none));
    assert!(fake.get("Secret", "keep", "s").is_some());
    assert!(!cluster.delete_namespace(NS).await.unwrap());
}
