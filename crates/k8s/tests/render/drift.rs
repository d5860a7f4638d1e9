//! `drift` finds the fields that matter; `prune_candidates` only ever names our objects of this
//! service in this namespace.

use serde_json::{Value, json};
use switchyard_k8s::{Desired, drift, prune_candidates, reconcile_disabled};

use crate::{fixtures, rendered};

/// The live objects as the API server would return them: ours plus server-set fields.
fn live(desired: &Desired) -> Vec<Value> {
    desired
        .objects
        .iter()
        .map(|o| {
            let mut body = o.body.clone();
            body["metadata"]["uid"] = json!("5d7c1b2e");
            body["metadata"]["labels"]["added-by-hand"] = json!("yes");
            body
        })
        .collect()
}

fn fields(desired: &Desired, live: &[Value]) -> Vec<(String, String, String)> {
    drift(desired, live)
        .differences
        .into_iter()
        .map(|d| (d.kind, d.name, d.field))
        .collect()
}

fn find<'l>(live: &'l mut [Value], kind: &str, name: &str) -> &'l mut Value {
    live.iter_mut()
        .find(|l| l["kind"] == kind && l["metadata"]["name"] == name)
        .unwrap()
}

fn triple(kind: &str, name: &str, field: &str) -> (String, String, String) {
    (kind.into(), name.into(), field.into())
}

#[test]
fn a_matching_cluster_has_no_drift() {
    let desired = rendered(&fixtures::full());
    assert!(drift(&desired, &live(&desired)).is_empty());
}

#[test]
fn image_replicas_checksum_and_labels_are_detected() {
    let desired = rendered(&fixtures::full());
    let mut cluster = live(&desired);
    let deployment = find(&mut cluster, "Deployment", "api");
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("evil:latest");
    deployment["spec"]["replicas"] = json!(1);
    deployment["spec"]["template"]["metadata"]["annotations"]["enclii.dev/config-checksum"] =
        json!("stale");
    find(&mut cluster, "Service", "api")["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("enclii.dev/project");
    let report = drift(&desired, &cluster);
    let found: Vec<_> = report
        .differences
        .iter()
        .map(|d| (d.kind.as_str(), d.field.as_str(), d.live.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("Deployment", "image", Some("evil:latest")),
            ("Deployment", "replicas", Some("1")),
            ("Deployment", "env-hash", Some("stale")),
            ("Service", "labels", Some("enclii.dev/project=<none>")),
        ]
    );
    assert_eq!(report.differences[1].desired.as_deref(), Some("3"));
}

#[test]
fn an_autoscaled_deployment_has_no_replica_drift() {
    let desired = rendered(&fixtures::autoscaled());
    let mut cluster = live(&desired);
    find(&mut cluster, "Deployment", "worker")["spec"]["replicas"] = json!(4);
    assert!(drift(&desired, &cluster).is_empty());
}

#[test]
fn missing_and_unexpected_objects_are_reported() {
    let desired = rendered(&fixtures::full());
    let mut cluster = live(&desired);
    cluster.retain(|l| l["kind"] != "Ingress");
    let mut old = cluster[1].clone();
    old["metadata"]["name"] = json!("api-old-policy");
    cluster.push(old);
    assert_eq!(
        fields(&desired, &cluster),
        [
            triple("Ingress", "api", "missing"),
            triple("NetworkPolicy", "api-old-policy", "unexpected"),
        ]
    );
}

#[test]
fn prune_candidates_are_only_our_undesired_objects_of_this_service() {
    let desired = rendered(&fixtures::minimal());
    let object = |kind: &str, namespace: &str, name: &str, labels: Value| json!({"kind": kind, "metadata": {"name": name, "namespace": namespace, "labels": labels}});
    let ours = json!({"enclii.dev/managed-by": "switchyard", "enclii.dev/service": "web"});
    let ns = "enclii-shop-production";
    let mut cluster = live(&desired);
    cluster.extend([
        object("Ingress", ns, "web", ours.clone()),
        object("Secret", ns, "web-secrets", ours.clone()),
        object(
            "ConfigMap",
            ns,
            "hand-made",
            json!({"enclii.dev/service": "web"}),
        ),
        object(
            "Ingress",
            ns,
            "shop",
            json!({"enclii.dev/managed-by": "switchyard", "enclii.dev/service": "shop"}),
        ),
        object("Ingress", "enclii-shop-staging", "web", ours.clone()),
        object("PersistentVolumeClaim", ns, "web-data", ours.clone()),
        object("Namespace", ns, "other", ours.clone()),
    ]);
    let mut disabled = object("Secret", ns, "web-kept", ours);
    disabled["metadata"]["annotations"] = json!({"enclii.dev/reconcile": "disabled"});
    assert!(reconcile_disabled(&disabled));
    cluster.push(disabled);
    assert_eq!(
        prune_candidates(&desired, &cluster),
        [
            ("Ingress".to_owned(), ns.to_owned(), "web".to_owned()),
            ("Secret".to_owned(), ns.to_owned(), "web-secrets".to_owned()),
        ]
    );
}
