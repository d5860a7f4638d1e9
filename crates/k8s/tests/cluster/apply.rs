//! `apply`: creates in order, writes nothing when nothing changed, patches only what changed,
//! adopts the original's objects, and respects `enclii.dev/reconcile: disabled`.

use secrecy::SecretString;
use serde_json::json;
use switchyard_k8s::cluster::ApplyReport;

use crate::{cluster, fixtures, kinds_and_names, managers, pair, rendered, stored, writes};

const NS: &str = "enclii-shop-production";

#[tokio::test]
async fn a_first_apply_creates_every_object_in_order() {
    let (fake, cluster) = cluster().await;
    let desired = rendered(&fixtures::full());
    let report = cluster.apply(&desired).await.unwrap();
    assert_eq!(report.applied, kinds_and_names(&desired));
    assert_eq!((report.unchanged, report.disabled), (0, false));
    let patches = writes(&fake);
    assert_eq!(patches.len(), desired.objects.len());
    for (patch, object) in patches.iter().zip(&desired.objects) {
        assert!(
            patch.starts_with("PATCH /") && patch.ends_with(&format!("/{}", object.name)),
            "{patch}"
        );
    }
    assert_eq!(patches[0], format!("PATCH /api/v1/namespaces/{NS}"));
    assert_eq!(desired.objects.last().unwrap().kind, "PodDisruptionBudget");
    assert_eq!(
        patches.last().unwrap(),
        &format!("PATCH /apis/policy/v1/namespaces/{NS}/poddisruptionbudgets/api")
    );
    for (object, live) in desired.objects.iter().zip(stored(&fake, &desired)) {
        let live = live.unwrap();
        assert_eq!(managers(&live), ["switchyard"], "{}", object.name);
        assert!(switchyard_k8s::cluster::contains(&live, &object.body));
    }
}

#[tokio::test]
async fn applying_again_writes_nothing() {
    let (fake, cluster) = cluster().await;
    for fixture in fixtures::all() {
        let desired = rendered(&fixture);
        cluster.apply(&desired).await.unwrap();
        fake.clear_writes();
        let again = cluster.apply(&desired).await.unwrap();
        assert_eq!(
            again,
            ApplyReport {
                unchanged: desired.objects.len(),
                ..ApplyReport::default()
            },
            "{}",
            fixture.name
        );
        assert_eq!(writes(&fake), Vec::<String>::new(), "{}", fixture.name);
    }
}

#[tokio::test]
async fn a_new_image_patches_only_the_deployment() {
    let (fake, cluster) = cluster().await;
    let mut fixture = fixtures::full();
    cluster.apply(&rendered(&fixture)).await.unwrap();
    fake.clear_writes();
    fixture.image = "ghcr.io/madfam-org/api:v2".into();
    let report = cluster.apply(&rendered(&fixture)).await.unwrap();
    assert_eq!(report.applied, [pair("Deployment", "api")]);
    assert_eq!(
        writes(&fake),
        [format!(
            "PATCH /apis/apps/v1/namespaces/{NS}/deployments/api"
        )]
    );
    let live = fake.get("Deployment", NS, "api").unwrap();
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/madfam-org/api:v2"
    );
    assert_eq!(live["metadata"]["generation"], 2);
}

#[tokio::test]
async fn a_changed_secret_patches_the_secret_and_the_deployment() {
    let (_fake, cluster) = cluster().await;
    let mut fixture = fixtures::full();
    cluster.apply(&rendered(&fixture)).await.unwrap();
    fixture
        .secrets
        .insert("STRIPE_KEY".into(), SecretString::from("sk_test_rotated"));
    let report = cluster.apply(&rendered(&fixture)).await.unwrap();
    assert_eq!(
        report.applied,
        [pair("Secret", "api-secrets"), pair("Deployment", "api")]
    );
}

#[tokio::test]
async fn objects_the_original_created_are_adopted() {
    let (fake, cluster) = cluster().await;
    let desired = rendered(&fixtures::minimal());
    // As the original's reconciler left them: its labels, created by Update, no apply manager.
    fake.put_object(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": NS, "labels": {"managed-by": "enclii", "platform": "enclii"}}}));
    fake.put_object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS, "labels": {
            "app": "web", "enclii.dev/service": "web", "enclii.dev/managed-by": "switchyard", "version": "v1"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web", "enclii.dev/service": "web"}},
            "template": {"metadata": {"labels": {"app": "web", "enclii.dev/service": "web"}},
                "spec": {"containers": [{"name": "web", "image": "ghcr.io/madfam-org/web:old"}]}}}}));
    // Identical to what we render, but not ours yet: applied once to take ownership.
    let service = desired.get("Service", "web").unwrap();
    fake.put_object(service.body.clone());

    let report = cluster.apply(&desired).await.unwrap();
    assert_eq!(report.applied, kinds_and_names(&desired));
    let namespace = fake.get("Namespace", "", NS).unwrap();
    assert_eq!(
        namespace["metadata"]["labels"]["platform"], "enclii",
        "foreign labels stay"
    );
    assert_eq!(managers(&namespace), ["switchyard"]);
    let deployment = fake.get("Deployment", NS, "web").unwrap();
    let image = &desired.get("Deployment", "web").unwrap().body["spec"]["template"]["spec"]["containers"]
        [0]["image"];
    assert_eq!(
        &deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        image
    );
    fake.clear_writes();
    assert!(cluster.apply(&desired).await.unwrap().applied.is_empty());
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn a_disabled_deployment_is_left_alone() {
    let (fake, cluster) = cluster().await;
    let desired = rendered(&fixtures::minimal());
    fake.put_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}));
    let mut deployment = desired.get("Deployment", "web").unwrap().body.clone();
    deployment["metadata"]["annotations"]["enclii.dev/reconcile"] = json!("disabled");
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("hand/managed:1");
    fake.put_object(deployment);

    let report = cluster.apply(&desired).await.unwrap();
    assert!(report.disabled);
    assert!(report.applied.is_empty());
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());
    assert!(fake.get("Service", NS, "web").is_none());
    let live = fake.get("Deployment", NS, "web").unwrap();
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "hand/managed:1"
    );
}

#[tokio::test]
async fn another_annotated_object_is_skipped_alone() {
    let (fake, cluster) = cluster().await;
    let desired = rendered(&fixtures::minimal());
    fake.put_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}));
    fake.put_object(json!({"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "web", "namespace": NS, "annotations": {"enclii.dev/reconcile": "disabled"}},
        "spec": {"ports": [{"port": 8080}]}}));
    let report = cluster.apply(&desired).await.unwrap();
    assert_eq!(report.skipped, [pair("Service", "web")]);
    assert!(report.applied.contains(&pair("Deployment", "web")));
    assert_eq!(
        fake.get("Service", NS, "web").unwrap()["spec"]["ports"][0]["port"],
        8080
    );
}
