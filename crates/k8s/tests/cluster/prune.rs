//! `prune` deletes only our objects of this service that are no longer desired; `live_objects`
//! gives `drift` what it needs.

use serde_json::json;
use switchyard_k8s::drift;

use crate::{cluster, fixtures, rendered, stored, writes};

const NS: &str = "enclii-shop-production";

#[tokio::test]
async fn removing_the_domains_deletes_the_ingress_only() {
    let (fake, cluster) = cluster().await;
    let mut fixture = fixtures::full();
    cluster.apply(&rendered(&fixture)).await.unwrap();
    let managed = |service: &str| json!({"enclii.dev/managed-by": "switchyard", "enclii.dev/service": service});
    // Another service's Ingress in the same namespace, and an Ingress of ours nobody manages.
    fake.put_object(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "other", "namespace": NS, "labels": managed("other")}}),
    );
    fake.put_object(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "by-hand", "namespace": NS, "labels": {"enclii.dev/service": "api"}}}),
    );
    fake.put_object(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "elsewhere"}}),
    );
    fake.put_object(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "api", "namespace": "elsewhere", "labels": managed("api")}}),
    );

    fixture.domains.clear();
    let desired = rendered(&fixture);
    assert!(cluster.apply(&desired).await.unwrap().applied.is_empty());
    fake.clear_writes();
    let pruned = cluster.prune(&desired).await.unwrap();
    assert_eq!(
        pruned,
        [("Ingress".to_owned(), NS.to_owned(), "api".to_owned())]
    );
    assert_eq!(
        writes(&fake),
        [format!(
            "DELETE /apis/networking.k8s.io/v1/namespaces/{NS}/ingresses/api"
        )]
    );
    assert!(fake.get("Ingress", NS, "api").is_none());
    for (namespace, name) in [(NS, "other"), (NS, "by-hand"), ("elsewhere", "api")] {
        assert!(
            fake.get("Ingress", namespace, name).is_some(),
            "{namespace}/{name}"
        );
    }
    assert!(stored(&fake, &desired).iter().all(Option::is_some));
    fake.clear_writes();
    assert!(cluster.prune(&desired).await.unwrap().is_empty());
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn live_objects_show_drift_made_by_hand() {
    let (fake, cluster) = cluster().await;
    let desired = rendered(&fixtures::full());
    cluster.apply(&desired).await.unwrap();
    let live = cluster.live_objects(NS, "api").await.unwrap();
    assert_eq!(live.len(), desired.objects.len());
    assert!(
        live.iter()
            .all(|o| o["kind"].is_string() && o["apiVersion"].is_string())
    );
    assert!(
        drift(&desired, &live).is_empty(),
        "{:?}",
        drift(&desired, &live)
    );

    let mut deployment = fake.get("Deployment", NS, "api").unwrap();
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("evil:latest");
    fake.put_object(deployment);
    fake.put_object(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "stray",
        "namespace": NS, "labels": {"enclii.dev/managed-by": "switchyard", "enclii.dev/service": "api"}}}));
    let live = cluster.live_objects(NS, "api").await.unwrap();
    let found: Vec<(String, String)> = drift(&desired, &live)
        .differences
        .into_iter()
        .map(|d| (d.name, d.field))
        .collect();
    assert_eq!(
        found,
        [
            ("api".into(), "image".into()),
            ("stray".into(), "unexpected".into())
        ]
    );
}
