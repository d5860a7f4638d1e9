//! `plan`: what an apply would do to each object, decided with the same rule `apply` uses,
//! plus the deletions a prune would make; render mode's files read back as live objects.

use serde_json::{Value, json};
use switchyard_k8s::{
    Desired,
    cluster::{Change, FIELD_MANAGER, Ownership, plan},
    read_manifests, write_manifests,
};

use crate::{fixtures, rendered};

/// The desired objects as a cluster holds them after our apply: managed by us, plus server
/// fields.
fn applied(desired: &Desired) -> Vec<Value> {
    desired
        .objects
        .iter()
        .map(|o| {
            let mut body = o.body.clone();
            body["metadata"]["uid"] = json!("5d7c1b2e");
            body["metadata"]["managedFields"] =
                json!([{"manager": FIELD_MANAGER, "operation": "Apply"}]);
            body
        })
        .collect()
}

fn changes(desired: &Desired, live: &[Value], ownership: Ownership) -> Vec<(String, Change)> {
    plan(desired, live, ownership)
        .changes
        .into_iter()
        .map(|p| (format!("{}/{}", p.kind, p.name), p.change))
        .collect()
}

#[test]
fn nothing_live_means_every_object_is_created() {
    let desired = rendered(&fixtures::full());
    let planned = changes(&desired, &[], Ownership::FieldManager);
    assert_eq!(planned.len(), desired.objects.len());
    assert!(
        planned.iter().all(|(_, c)| *c == Change::Create),
        "{planned:?}"
    );
}

#[test]
fn only_what_differs_is_updated_and_stale_objects_are_deleted() {
    let desired = rendered(&fixtures::full());
    let mut live = applied(&desired);
    let deployment = live.iter_mut().find(|l| l["kind"] == "Deployment").unwrap();
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = json!("old:1");
    let mut stale = live
        .iter()
        .find(|l| l["kind"] == "Service")
        .unwrap()
        .clone();
    stale["metadata"]["name"] = json!("api-old");
    live.push(stale);
    let planned = changes(&desired, &live, Ownership::FieldManager);
    let of = |name: &str| planned.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    assert_eq!(of("Deployment/api"), Some(Change::Update));
    assert_eq!(of("Service/api"), Some(Change::Unchanged));
    assert_eq!(of("Service/api-old"), Some(Change::Delete));
    let updated = planned
        .iter()
        .filter(|(_, c)| *c != Change::Unchanged)
        .count();
    assert_eq!(updated, 2, "{planned:?}");
}

#[test]
fn an_object_not_ours_yet_is_adopted_but_render_files_need_no_owner() {
    let desired = rendered(&fixtures::full());
    let mut live = applied(&desired);
    for object in &mut live {
        object["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
    }
    assert!(
        changes(&desired, &live, Ownership::FieldManager)
            .iter()
            .all(|(_, c)| *c == Change::Update)
    );
    assert!(
        changes(&desired, &live, Ownership::Ignored)
            .iter()
            .all(|(_, c)| *c == Change::Unchanged)
    );
}

#[test]
fn a_hand_managed_service_plans_nothing() {
    let desired = rendered(&fixtures::full());
    let mut live = applied(&desired);
    let deployment = live.iter_mut().find(|l| l["kind"] == "Deployment").unwrap();
    deployment["metadata"]["annotations"]["enclii.dev/reconcile"] = json!("disabled");
    let planned = plan(&desired, &live, Ownership::FieldManager);
    assert!(planned.disabled);
    assert!(planned.changes.is_empty());
}

#[test]
fn render_mode_files_read_back_as_the_objects_written() {
    let dir = tempfile::tempdir().unwrap();
    let desired = rendered(&fixtures::full());
    assert!(
        read_manifests(dir.path(), &desired.namespace)
            .unwrap()
            .is_empty()
    );
    write_manifests(dir.path(), &desired).unwrap();
    let live = read_manifests(dir.path(), &desired.namespace).unwrap();
    assert_eq!(live.len(), desired.objects.len());
    assert!(
        changes(&desired, &live, Ownership::Ignored)
            .iter()
            .all(|(_, c)| *c == Change::Unchanged)
    );
}
