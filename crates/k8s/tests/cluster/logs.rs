//! `pod_logs` returns the tail of each pod's log; `delete_namespace` removes its contents.

use serde_json::json;

use crate::{cluster, fixtures, rendered, stored};

const NS: &str = "enclii-shop-production";

fn running() -> serde_json::Value {
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
        cluster.pod_logs(NS, "web", 2).await.unwrap(),
        "three\nfour\n"
    );
    assert_eq!(cluster.pod_logs(NS, "api", 2).await.unwrap(), "");
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
    let logs = cluster.pod_logs(NS, "web", 10).await.unwrap();
    assert_eq!(
        logs,
        "[web-a] a1\n[web-a] a2\n[web-b] b1\n\
         [web-c] (no logs: container \"web\" in pod \"web-c\" is waiting to start: ImagePullBackOff)\n"
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
