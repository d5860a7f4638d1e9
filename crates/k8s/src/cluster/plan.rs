//! What applying a deployment's objects would do, decided without writing anything: the rule
//! [`Cluster::apply`](super::Cluster::apply) follows object by object (`change`), and the
//! whole picture a dry run reports (`plan`), deletions included.

use serde_json::Value;

use super::{FIELD_MANAGER, contains};
use crate::{Desired, Object, drift::same_object, prune_candidates, reconcile_disabled};

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Not live: created.
    Create,
    /// Live but missing or differing in a desired field (or not ours yet): written.
    Update,
    /// Live, ours, and already holding every desired field: not written.
    Unchanged,
    /// Annotated `enclii.dev/reconcile: disabled`: left alone.
    Skipped,
    /// Ours, of this service, and no longer desired: pruned.
    Delete,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Unchanged => "unchanged",
            Self::Skipped => "skipped",
            Self::Delete => "delete",
        }
    }
}

/// Whether a live object must list our field manager to count as unchanged. A cluster's
/// objects must (an object that merely looks right is still adopted once); render mode's
/// files have no managed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    FieldManager,
    Ignored,
}

/// One object and what would happen to it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub change: Change,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The desired object (`None` for a deletion). Holds Secret values: redact before showing.
    pub object: Option<Object>,
}

/// What applying `desired` over `live` would do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The service's live Deployment is annotated `enclii.dev/reconcile: disabled`: nothing
    /// would be written, and `changes` is empty.
    pub disabled: bool,
    /// Every desired object in apply order, then the deletions.
    pub changes: Vec<Planned>,
}

/// What applying `object` over its live state does.
pub fn change(object: &Object, live: Option<&Value>, ownership: Ownership) -> Change {
    match live {
        None => Change::Create,
        Some(live) if reconcile_disabled(live) => Change::Skipped,
        Some(live)
            if (ownership == Ownership::Ignored || owned(live)) && contains(live, &object.body) =>
        {
            Change::Unchanged
        }
        Some(_) => Change::Update,
    }
}

/// The dry run of `apply` then `prune`: each desired object with its `change`, then every
/// `prune_candidates` deletion.
pub fn plan(desired: &Desired, live: &[Value], ownership: Ownership) -> Plan {
    let workload = live.iter().find(|l| {
        l.get("kind").and_then(Value::as_str) == Some("Deployment")
            && l.pointer("/metadata/name").and_then(Value::as_str) == Some(&desired.service)
            && l.pointer("/metadata/namespace").and_then(Value::as_str) == Some(&desired.namespace)
    });
    if workload.is_some_and(reconcile_disabled) {
        return Plan {
            disabled: true,
            changes: Vec::new(),
        };
    }
    let mut changes: Vec<Planned> = desired
        .objects
        .iter()
        .map(|object| Planned {
            change: change(
                object,
                live.iter().find(|l| same_object(object, l)),
                ownership,
            ),
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            object: Some(object.clone()),
        })
        .collect();
    changes.extend(
        prune_candidates(desired, live)
            .into_iter()
            .map(|(kind, namespace, name)| Planned {
                change: Change::Delete,
                kind,
                namespace: Some(namespace),
                name,
                object: None,
            }),
    );
    Plan {
        disabled: false,
        changes,
    }
}

/// Lists our field manager with an `Apply` operation.
pub(super) fn owned(live: &Value) -> bool {
    live.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|entries| {
            entries.iter().any(|e| {
                e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)
                    && e.get("operation").and_then(Value::as_str) == Some("Apply")
            })
        })
}
