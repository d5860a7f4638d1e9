//! Outages are `Unavailable` (retry later), refusals `Rejected` with the API server's words and
//! no Secret value; `connect` reads a kubeconfig.

use serde_json::json;
use switchyard_k8s::cluster::{Cluster, ClusterError};

use crate::{body_mut, cluster, fixtures, rendered};

const NS: &str = "enclii-shop-production";

#[tokio::test]
async fn an_outage_is_unavailable_and_each_call_fails_once() {
    let (fake, cluster) = cluster().await;
    let desired = rendered(&fixtures::minimal());
    fake.fail_next(3, 503);
    // kube's own retry is off: each call meets one failure and returns it.
    for _ in 0..3 {
        let error = cluster.apply(&desired).await.unwrap_err();
        assert!(
            matches!(error, ClusterError::Unavailable { .. }),
            "{error:?}"
        );
        assert!(error.is_retryable());
        assert!(error.to_string().contains("503"), "{error}");
    }
    assert_eq!(
        cluster.apply(&desired).await.unwrap().applied.len(),
        desired.objects.len()
    );
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let fake = switchyard_kube_fake::FakeApiServer::start().await;
    let url = fake.url().to_owned();
    drop(fake);
    tokio::task::yield_now().await;
    let cluster = Cluster::for_url(&url).unwrap();
    let error = cluster.observe(NS, "web", "x").await.unwrap_err();
    assert!(
        matches!(error, ClusterError::Unavailable { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_invalid_object_is_rejected_with_the_servers_message() {
    let (fake, cluster) = cluster().await;
    let mut desired = rendered(&fixtures::minimal());
    body_mut(&mut desired, "Deployment")["spec"]["selector"]["matchLabels"]["app"] = json!("other");
    let error = cluster.apply(&desired).await.unwrap_err();
    let ClusterError::Rejected {
        code,
        reason,
        message,
        ..
    } = &error
    else {
        panic!("not rejected: {error:?}");
    };
    assert_eq!((*code, reason.as_str()), (422, "Invalid"));
    assert!(
        message.contains("`selector` does not match template `labels`"),
        "{message}"
    );
    assert!(!error.is_retryable());
    assert!(
        error.to_string().contains("apply Deployment web"),
        "{error}"
    );
    // The objects before the Deployment were applied; the Deployment was not.
    assert!(fake.get("Namespace", "", NS).is_some());
    assert!(fake.get("Deployment", NS, "web").is_none());
}

#[tokio::test]
async fn a_rejected_secret_does_not_show_its_values() {
    let (_fake, cluster) = cluster().await;
    let mut desired = rendered(&fixtures::full());
    let secret = body_mut(&mut desired, "Secret");
    secret["data"]["EXTRA"] = json!(["not", "base64"]);
    let values: Vec<String> = secret["data"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let error = cluster.apply(&desired).await.unwrap_err();
    assert!(
        matches!(error, ClusterError::Rejected { code: 400, .. }),
        "{error:?}"
    );
    let text = format!("{error} {error:?}");
    for value in values {
        assert!(!text.contains(&value), "{text}");
    }
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn connect_reads_a_kubeconfig() {
    let (fake, _) = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\n\
             clusters: [{{name: fake, cluster: {{server: \"{}\"}}}}]\n\
             users: [{{name: nobody, user: {{}}}}]\n\
             contexts: [{{name: fake, context: {{cluster: fake, user: nobody}}}}]\n",
            fake.url()
        ),
    )
    .unwrap();
    let cluster = Cluster::connect(Some(&path)).await.unwrap();
    let desired = rendered(&fixtures::minimal());
    cluster.apply(&desired).await.unwrap();
    assert!(fake.get("Deployment", NS, "web").is_some());
    let missing = Cluster::connect(Some(&dir.path().join("absent"))).await;
    assert!(matches!(missing, Err(ClusterError::Config { .. })));
}
