//! Pure comparisons of the rendered objects with live ones: which fields that matter differ
//! (`drift`), which live objects of the service are no longer wanted (`prune_candidates`), and
//! whether a live object opted out of reconciling (`reconcile_disabled`).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{
    Desired, Object,
    labels::{CONFIG_CHECKSUM_ANNOTATION, MANAGED_BY, RECONCILE_ANNOTATION, SERVICE_LABEL},
    object::label,
};

/// Every difference found; empty when the cluster matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    pub differences: Vec<Difference>,
}

/// One field of one object that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: String,
    pub name: String,
    /// `missing` (desired, not live), `unexpected` (a prune candidate), `labels`, and on the
    /// Deployment `image`, `replicas` and `env-hash` (the pod template's config checksum).
    pub field: String,
    pub desired: Option<String>,
    pub live: Option<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Compares each desired object with the live object of the same kind, namespace and name, on
/// the fields a rollout or an edit by hand changes: our labels (extra live labels are fine),
/// and on the Deployment its container image, its replicas (unless autoscaled: then the desired
/// object has none) and its config checksum. Live objects that `prune_candidates` names are
/// `unexpected`. Values in the result are never Secret data.
pub fn drift(desired: &Desired, live: &[Value]) -> Drift {
    let mut differences = Vec::new();
    for object in &desired.objects {
        let Some(found) = live.iter().find(|l| same_object(object, l)) else {
            differences.push(difference(
                object,
                "missing",
                Some(object.name.clone()),
                None,
            ));
            continue;
        };
        compare_labels(object, found, &mut differences);
        if object.kind == "Deployment" {
            for (field, want, have) in [
                (
                    "image",
                    image(&object.body, &object.name),
                    image(found, &object.name),
                ),
                (
                    "replicas",
                    text(object.body.pointer("/spec/replicas")),
                    text(found.pointer("/spec/replicas")),
                ),
                ("env-hash", checksum(&object.body), checksum(found)),
            ] {
                if want.is_some() && want != have {
                    differences.push(difference(object, field, want, have));
                }
            }
        }
    }
    for (kind, _, name) in prune_candidates(desired, live) {
        differences.push(Difference {
            kind,
            name,
            field: "unexpected".into(),
            desired: None,
            live: Some("present".into()),
        });
    }
    Drift { differences }
}

/// Live objects to delete: those labelled `enclii.dev/managed-by=switchyard` and
/// `enclii.dev/service=<the service>`, in the desired namespace, that are not desired. Never a
/// Namespace (shared by the environment's services), never a PersistentVolumeClaim (removing a
/// volume from the spec must not delete its data; the service's deletion does that), never an
/// object annotated `enclii.dev/reconcile: disabled`. Sorted `(kind, namespace, name)`.
pub fn prune_candidates(desired: &Desired, live: &[Value]) -> Vec<(String, String, String)> {
    let wanted: BTreeSet<(&str, Option<&str>, &str)> = desired
        .objects
        .iter()
        .map(|o| (o.kind.as_str(), o.namespace.as_deref(), o.name.as_str()))
        .collect();
    let mut candidates: Vec<_> = live
        .iter()
        .filter(|l| label(l, MANAGED_BY.0) == Some(MANAGED_BY.1))
        .filter(|l| label(l, SERVICE_LABEL) == Some(desired.service.as_str()))
        .filter(|l| !reconcile_disabled(l))
        .filter_map(|l| {
            let kind = l.get("kind")?.as_str()?;
            let namespace = l.pointer("/metadata/namespace")?.as_str()?;
            let name = l.pointer("/metadata/name")?.as_str()?;
            let keep = ["Namespace", "PersistentVolumeClaim"].contains(&kind)
                || namespace != desired.namespace
                || wanted.contains(&(kind, Some(namespace), name));
            (!keep).then(|| (kind.to_owned(), namespace.to_owned(), name.to_owned()))
        })
        .collect();
    candidates.sort();
    candidates.dedup();
    candidates
}

/// `enclii.dev/reconcile: disabled` on a live object: a reconciler leaves it (and, for the
/// Deployment, the whole service) alone.
pub fn reconcile_disabled(live: &Value) -> bool {
    live.pointer("/metadata/annotations")
        .and_then(|a| a.get(RECONCILE_ANNOTATION))
        .and_then(Value::as_str)
        == Some("disabled")
}

pub(crate) fn same_object(object: &Object, live: &Value) -> bool {
    live.get("kind").and_then(Value::as_str) == Some(object.kind.as_str())
        && live.pointer("/metadata/name").and_then(Value::as_str) == Some(object.name.as_str())
        && live.pointer("/metadata/namespace").and_then(Value::as_str)
            == object.namespace.as_deref()
}

/// Our labels that are missing or different on the live object, as `key=value` lists.
fn compare_labels(object: &Object, live: &Value, out: &mut Vec<Difference>) {
    let Some(Value::Object(labels)) = object.body.pointer("/metadata/labels") else {
        return;
    };
    let (mut want, mut have) = (Vec::new(), Vec::new());
    for (key, value) in labels {
        let found = label(live, key);
        if found != value.as_str() {
            want.push(format!("{key}={}", value.as_str().unwrap_or_default()));
            have.push(format!("{key}={}", found.unwrap_or("<none>")));
        }
    }
    if !want.is_empty() {
        out.push(difference(
            object,
            "labels",
            Some(want.join(",")),
            Some(have.join(",")),
        ));
    }
}

/// The image of the Deployment's container named after the service.
fn image(body: &Value, name: &str) -> Option<String> {
    let containers = body.pointer("/spec/template/spec/containers")?.as_array()?;
    let container = containers
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))?;
    text(container.get("image"))
}

fn checksum(body: &Value) -> Option<String> {
    text(
        body.pointer("/spec/template/metadata/annotations")?
            .get(CONFIG_CHECKSUM_ANNOTATION),
    )
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn difference(
    object: &Object,
    field: &str,
    desired: Option<String>,
    live: Option<String>,
) -> Difference {
    Difference {
        kind: object.kind.clone(),
        name: object.name.clone(),
        field: field.into(),
        desired,
        live,
    }
}
