//! The fake's in-memory objects and what each verb does to them: server-side apply (create or
//! merge, with uid, resourceVersion, generation and managedFields as the API server sets them),
//! get, list by label selector, delete (a Namespace takes its contents along).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::resources::{Resource, by_kind};

/// `(group/version, plural, namespace or "", name)`.
pub(crate) type Key = (String, String, String, String);

/// A refusal: HTTP code, `reason` and message of the `Status` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: u16,
    pub(crate) message: String,
}

pub(crate) fn fail(code: u16, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) objects: BTreeMap<Key, Value>,
    /// What each field manager last applied to each object, to drop fields it stops applying.
    applied: BTreeMap<(Key, String), Value>,
    pub(crate) logs: BTreeMap<(String, String), String>,
    revision: u64,
}

pub(crate) fn key(resource: &Resource, namespace: &str, name: &str) -> Key {
    let namespace = if resource.namespaced { namespace } else { "" };
    (
        resource.group_version.to_owned(),
        resource.plural.to_owned(),
        namespace.to_owned(),
        name.to_owned(),
    )
}

impl Store {
    fn next_revision(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    /// Stores `body` as is, with the metadata a create sets (a seeded object: no managed fields).
    pub(crate) fn insert(&mut self, resource: &Resource, namespace: &str, mut body: Value) -> Key {
        let name = text(&body, "/metadata/name");
        let key = key(resource, namespace, &name);
        let revision = self.next_revision();
        let meta = metadata(&mut body);
        if resource.namespaced {
            meta.insert("namespace".into(), namespace.into());
        }
        meta.entry("uid").or_insert_with(|| uid(revision).into());
        meta.entry("creationTimestamp")
            .or_insert_with(|| timestamp(revision).into());
        meta.entry("generation").or_insert_with(|| 1.into());
        meta.insert("resourceVersion".into(), revision.to_string().into());
        body["apiVersion"] = resource.group_version.into();
        body["kind"] = resource.kind.into();
        self.objects.insert(key.clone(), body);
        key
    }

    /// Server-side apply of `applied` by `manager`. A conflict (409) only when not forced and
    /// the object was not applied by `manager` before and the patch changes a field it holds.
    pub(crate) fn apply(
        &mut self,
        resource: &Resource,
        namespace: &str,
        name: &str,
        mut applied: Value,
        manager: &str,
        force: bool,
    ) -> Result<(u16, Value), Failure> {
        if let Value::Object(map) = &mut applied {
            map.remove("status");
        }
        let key = key(resource, namespace, name);
        let last_key = (key.clone(), manager.to_owned());
        let Some(old) = self.objects.get(&key).cloned() else {
            let mut created = applied.clone();
            set_manager(&mut created, manager, resource.group_version);
            let key = self.insert(resource, namespace, created);
            self.applied.insert(last_key, applied);
            return Ok((201, self.objects[&key].clone()));
        };
        let mut merged = old.clone();
        if let Some(last) = self.applied.get(&last_key) {
            drop_unapplied(&mut merged, last, &applied);
        }
        let overwrote = merge(&mut merged, &applied);
        if overwrote && !force && !managed_by(&old, manager) {
            return Err(fail(
                409,
                format!(
                    "Apply failed with conflicts: conflict with \"before-first-apply\": fields of {} {name:?} \
                     are owned by another manager (use force to take them)",
                    resource.kind
                ),
            ));
        }
        if old.get("spec") != merged.get("spec") {
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            metadata(&mut merged).insert("generation".into(), (generation + 1).into());
        }
        set_manager(&mut merged, manager, resource.group_version);
        if merged != old {
            let revision = self.next_revision();
            metadata(&mut merged).insert("resourceVersion".into(), revision.to_string().into());
        }
        self.objects.insert(key, merged.clone());
        self.applied.insert(last_key, applied);
        Ok((200, merged))
    }

    /// Objects of `resource` (in `namespace` when namespaced) whose labels match `selector`.
    pub(crate) fn list(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|((gv, plural, ns, _), _)| {
                gv == resource.group_version
                    && plural == resource.plural
                    && namespace.is_none_or(|wanted| wanted == ns)
            })
            .filter(|(_, object)| selector.matches(object.pointer("/metadata/labels")))
            .map(|(_, object)| object.clone())
            .collect()
    }

    /// Removes the object; a Namespace takes everything in it along.
    pub(crate) fn delete(
        &mut self,
        resource: &Resource,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let key = key(resource, namespace, name);
        let mut removed = self.objects.remove(&key)?;
        self.applied.retain(|(k, _), _| *k != key);
        if resource.kind == "Namespace" {
            self.objects.retain(|(_, _, ns, _), _| ns != name);
            self.applied.retain(|((_, _, ns, _), _), _| ns != name);
            self.logs.retain(|(ns, _), _| ns != name);
            removed["status"] = json!({"phase": "Terminating"});
        }
        Some(removed)
    }

    /// Replaces `status` of an existing object (a new resourceVersion, same generation).
    pub(crate) fn set_status(
        &mut self,
        kind: &str,
        namespace: &str,
        name: &str,
        status: Value,
    ) -> bool {
        let Some(resource) = by_kind(kind) else {
            return false;
        };
        let revision = self.next_revision();
        let Some(object) = self.objects.get_mut(&key(&resource, namespace, name)) else {
            return false;
        };
        object["status"] = status;
        metadata(object).insert("resourceVersion".into(), revision.to_string().into());
        true
    }
}

/// An equality-based label selector: `a=b`, `a==b`, `a!=b`, `a` (exists), `!a`.
#[derive(Debug, Default)]
pub(crate) struct Selector(Vec<(String, Requirement)>);

#[derive(Debug)]
enum Requirement {
    Equals(String),
    NotEquals(String),
    Exists,
    Absent,
}

impl Selector {
    /// Set-based requirements (`in`, `notin`) are refused, so a test that needs them fails loudly.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if term.contains(['(', ' ']) {
                return Err(format!(
                    "the fake API server supports equality label selectors only, not {term:?}"
                ));
            }
            let parsed = if let Some((k, v)) = term.split_once("!=") {
                (k, Requirement::NotEquals(v.into()))
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (k, Requirement::Equals(v.into()))
            } else if let Some(k) = term.strip_prefix('!') {
                (k, Requirement::Absent)
            } else {
                (term, Requirement::Exists)
            };
            terms.push((parsed.0.to_owned(), parsed.1));
        }
        Ok(Self(terms))
    }

    fn matches(&self, labels: Option<&Value>) -> bool {
        self.0.iter().all(|(key, requirement)| {
            let value = labels.and_then(|l| l.get(key)).and_then(Value::as_str);
            match requirement {
                Requirement::Equals(want) => value == Some(want.as_str()),
                Requirement::NotEquals(want) => value != Some(want.as_str()),
                Requirement::Exists => value.is_some(),
                Requirement::Absent => value.is_none(),
            }
        })
    }
}

/// Deep-merges `patch` into `target` (objects key by key; arrays and scalars replaced). True
/// when a value `target` already held was changed.
fn merge(target: &mut Value, patch: &Value) -> bool {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            let mut overwrote = false;
            for (key, value) in patch {
                match target.get_mut(key) {
                    Some(existing) => overwrote |= merge(existing, value),
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
            overwrote
        }
        (target, patch) => {
            let changed = target != patch;
            *target = patch.clone();
            changed
        }
    }
}

/// Removes from `target` the fields the manager applied last time (`last`) but not now (`now`).
fn drop_unapplied(target: &mut Value, last: &Value, now: &Value) {
    let (Value::Object(target), Value::Object(last)) = (target, last) else {
        return;
    };
    for (key, before) in last {
        match now.get(key) {
            None => {
                target.remove(key);
            }
            Some(after) => {
                if let Some(inner) = target.get_mut(key) {
                    drop_unapplied(inner, before, after);
                }
            }
        }
    }
}

fn managed_by(object: &Value, manager: &str) -> bool {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|entries| entries.iter().any(|e| e["manager"] == manager))
}

/// Records `manager` as an `Apply` manager of the object (one entry per manager).
fn set_manager(object: &mut Value, manager: &str, api_version: &str) {
    let meta = metadata(object);
    let entries = meta
        .entry("managedFields")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(entries) = entries {
        entries.retain(|e| e["manager"] != manager);
        entries.push(json!({
            "manager": manager, "operation": "Apply", "apiVersion": api_version,
            "fieldsType": "FieldsV1", "fieldsV1": {}
        }));
    }
}

/// `metadata` of an object, created when absent.
fn metadata(object: &mut Value) -> &mut Map<String, Value> {
    if !object.is_object() {
        *object = json!({});
    }
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    match &mut object["metadata"] {
        Value::Object(map) => map,
        _ => unreachable!("metadata was just made an object"),
    }
}

pub(crate) fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn uid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A fake clock: one second after 2026-01-01T00:00:00Z per change.
fn timestamp(n: u64) -> String {
    format!(
        "2026-01-01T{:02}:{:02}:{:02}Z",
        (n / 3600) % 24,
        (n / 60) % 60,
        n % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Resource {
        by_kind("Deployment").unwrap()
    }

    fn body(image: &str, extra: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "ns", "annotations": extra},
               "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}})
    }

    fn apply(store: &mut Store, value: Value, force: bool) -> Result<Value, Failure> {
        store
            .apply(&deployment(), "ns", "web", value, "switchyard", force)
            .map(|(_, object)| object)
    }

    #[test]
    fn an_unforced_apply_over_a_foreign_object_conflicts() {
        let mut store = Store::default();
        store.insert(&deployment(), "ns", body("old", json!({})));
        let conflict = apply(&mut store, body("new", json!({})), false).unwrap_err();
        assert_eq!(conflict.code, 409);
        let adopted = apply(&mut store, body("new", json!({})), true).unwrap();
        assert_eq!(
            adopted["metadata"]["managedFields"][0]["manager"],
            "switchyard"
        );
        // Ours now: later changes need no force.
        assert!(apply(&mut store, body("newer", json!({})), false).is_ok());
    }

    #[test]
    fn generation_and_resource_version_follow_changes() {
        let mut store = Store::default();
        let created = apply(&mut store, body("a", json!({"x": "1"})), true).unwrap();
        assert_eq!(created["metadata"]["generation"], 1);
        let same = apply(&mut store, body("a", json!({"x": "1"})), true).unwrap();
        assert_eq!(
            same["metadata"]["resourceVersion"],
            created["metadata"]["resourceVersion"]
        );
        let annotated = apply(&mut store, body("a", json!({"x": "2"})), true).unwrap();
        assert_eq!(
            annotated["metadata"]["generation"], 1,
            "metadata is not spec"
        );
        assert_ne!(
            annotated["metadata"]["resourceVersion"],
            created["metadata"]["resourceVersion"]
        );
        let rolled = apply(&mut store, body("b", json!({"x": "2"})), true).unwrap();
        assert_eq!(rolled["metadata"]["generation"], 2);
    }

    #[test]
    fn fields_no_longer_applied_are_removed_and_foreign_ones_kept() {
        let mut store = Store::default();
        store.insert(&deployment(), "ns", body("a", json!({"by-hand": "yes"})));
        apply(&mut store, body("a", json!({"ours": "1"})), true).unwrap();
        let after = apply(&mut store, body("a", json!({})), true).unwrap();
        assert_eq!(after["metadata"]["annotations"], json!({"by-hand": "yes"}));
    }

    #[test]
    fn selectors_match_by_equality() {
        let labels = json!({"app": "web", "tier": "front"});
        let matches = |s: &str| Selector::parse(s).unwrap().matches(Some(&labels));
        assert!(matches("") && matches("app=web") && matches("app==web,tier"));
        assert!(matches("app!=api") && matches("!missing"));
        assert!(!matches("app=api") && !matches("app=web,tier=back") && !matches("!tier"));
        assert!(Selector::parse("app in (web)").is_err());
    }
}
