//! The kinds the fake serves, with their URL coordinates, and the checks the real API server
//! would make on an applied object: it parses as the typed Kubernetes struct, declares no field
//! the schema lacks, has a valid name, and (Deployments) a selector matching its pod labels.

use k8s_openapi::api::{
    apps::v1::Deployment,
    autoscaling::v2::HorizontalPodAutoscaler,
    core::v1::{Namespace, PersistentVolumeClaim, Pod, Secret, Service},
    networking::v1::{Ingress, NetworkPolicy},
    policy::v1::PodDisruptionBudget,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// A kind the fake stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resource {
    /// `v1`, `apps/v1`…: the `apiVersion` of objects and the URL prefix after `/api` or `/apis`.
    pub(crate) group_version: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) plural: &'static str,
    pub(crate) namespaced: bool,
}

const fn resource(
    group_version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Resource {
    Resource {
        group_version,
        kind,
        plural,
        namespaced,
    }
}

/// Every kind `switchyard-k8s` renders, plus Pod.
pub(crate) const RESOURCES: &[Resource] = &[
    resource("v1", "Namespace", "namespaces", false),
    resource("v1", "Pod", "pods", true),
    resource("v1", "Secret", "secrets", true),
    resource("v1", "Service", "services", true),
    resource(
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    resource("apps/v1", "Deployment", "deployments", true),
    resource(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    resource("networking.k8s.io/v1", "Ingress", "ingresses", true),
    resource(
        "policy/v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
    resource(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
];

pub(crate) fn by_plural(group_version: &str, plural: &str) -> Option<Resource> {
    RESOURCES
        .iter()
        .copied()
        .find(|r| r.group_version == group_version && r.plural == plural)
}

pub(crate) fn by_kind(kind: &str) -> Option<Resource> {
    RESOURCES.iter().copied().find(|r| r.kind == kind)
}

impl Resource {
    /// `deployments.apps`, `secrets`: how the API server names the resource in messages.
    pub(crate) fn qualified(&self) -> String {
        match self.group_version.split_once('/') {
            Some((group, _)) => format!("{}.{group}", self.plural),
            None => self.plural.to_owned(),
        }
    }

    /// Why the real API server would refuse this object, if it would: `(400 or 422, message)`.
    pub(crate) fn validate(&self, name: &str, body: &Value) -> Result<(), (u16, String)> {
        let invalid =
            |message: String| (422, format!("{} {name:?} is invalid: {message}", self.kind));
        let label_only = matches!(self.kind, "Namespace" | "Service");
        if let Some(rule) = name_problem(name, label_only) {
            return Err(invalid(format!(
                "metadata.name: Invalid value: {name:?}: {rule}"
            )));
        }
        match self.kind {
            "Namespace" => typed::<Namespace>(body),
            "Pod" => typed::<Pod>(body),
            "Secret" => typed::<Secret>(body),
            "Service" => typed::<Service>(body),
            "PersistentVolumeClaim" => typed::<PersistentVolumeClaim>(body),
            "Deployment" => typed::<Deployment>(body),
            "NetworkPolicy" => typed::<NetworkPolicy>(body),
            "Ingress" => typed::<Ingress>(body),
            "PodDisruptionBudget" => typed::<PodDisruptionBudget>(body),
            "HorizontalPodAutoscaler" => typed::<HorizontalPodAutoscaler>(body),
            _ => Ok(()),
        }
        .map_err(|message| {
            (
                400,
                format!("failed to create typed patch object: {message}"),
            )
        })?;
        if self.kind == "Deployment" && !selector_matches(body) {
            return Err(invalid(
                "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// Parses `body` as `K` and names the first field `K` does not declare.
fn typed<K: DeserializeOwned + Serialize>(body: &Value) -> Result<(), String> {
    let parsed: K = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&parsed).map_err(|e| e.to_string())?;
    match undeclared(body, &back, "") {
        Some(path) => Err(format!("{path}: field not declared in schema")),
        None => Ok(()),
    }
}

/// The first path of `sent` (not null) that the round-tripped `kept` lost.
fn undeclared(sent: &Value, kept: &Value, path: &str) -> Option<String> {
    match (sent, kept) {
        (Value::Object(sent), Value::Object(kept)) => sent.iter().find_map(|(key, value)| {
            let here = format!("{path}.{key}");
            match kept.get(key) {
                None if !value.is_null() => Some(here),
                None => None,
                Some(inner) => undeclared(value, inner, &here),
            }
        }),
        (Value::Array(sent), Value::Array(kept)) => sent
            .iter()
            .zip(kept)
            .enumerate()
            .find_map(|(i, (s, k))| undeclared(s, k, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// A DNS-1123 subdomain (or label, for Namespaces and Services) rule the name breaks.
fn name_problem(name: &str, label_only: bool) -> Option<&'static str> {
    let max = if label_only { 63 } else { 253 };
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let allowed = |c: char| alnum(c) || c == '-' || (c == '.' && !label_only);
    let ok = !name.is_empty()
        && name.len() <= max
        && name.chars().all(allowed)
        && name.starts_with(alnum)
        && name.ends_with(alnum);
    (!ok).then_some(
        "a lowercase RFC 1123 name must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    )
}

fn selector_matches(body: &Value) -> bool {
    let Some(Value::Object(selector)) = body.pointer("/spec/selector/matchLabels") else {
        return true;
    };
    let labels = body.pointer("/spec/template/metadata/labels");
    selector
        .iter()
        .all(|(key, value)| labels.and_then(|l| l.get(key)) == Some(value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment() -> Resource {
        by_kind("Deployment").unwrap()
    }

    fn valid() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "web", "image": "x"}]}}}})
    }

    #[test]
    fn a_well_formed_object_passes() {
        assert_eq!(deployment().validate("web", &valid()), Ok(()));
        assert_eq!(deployment().qualified(), "deployments.apps");
        assert_eq!(by_kind("Secret").unwrap().qualified(), "secrets");
    }

    #[test]
    fn malformed_objects_are_refused_like_the_api_server() {
        let mut wrong_type = valid();
        wrong_type["spec"]["replicas"] = json!("three");
        let (code, message) = deployment().validate("web", &wrong_type).unwrap_err();
        assert_eq!(code, 400, "{message}");

        let mut unknown = valid();
        unknown["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = json!("Always");
        let (_, message) = deployment().validate("web", &unknown).unwrap_err();
        assert!(
            message.contains(".spec.template.spec.containers[0].imagePolicy: field not declared"),
            "{message}"
        );

        let mut selector = valid();
        selector["spec"]["selector"]["matchLabels"]["app"] = json!("api");
        assert_eq!(deployment().validate("web", &selector).unwrap_err().0, 422);

        assert_eq!(deployment().validate("Web_1", &valid()).unwrap_err().0, 422);
        let service = by_kind("Service").unwrap();
        assert!(service.validate("a.b", &json!({})).is_err());
        assert!(
            by_kind("Secret")
                .unwrap()
                .validate("a.b", &json!({}))
                .is_ok()
        );
    }
}
