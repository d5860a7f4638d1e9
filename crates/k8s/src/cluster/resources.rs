//! The one table from a rendered object's `(apiVersion, kind)` to the API resource it is stored
//! as (plural, scope): every kind `render` emits, plus the Pods `observe` and `pod_logs` read.

use kube::{api::ApiResource, core::GroupVersionKind};

/// A kind the cluster layer reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kind {
    pub(crate) api_version: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) plural: &'static str,
    pub(crate) namespaced: bool,
}

/// Every kind `render` emits, in apply order, then Pod.
pub(crate) const KINDS: &[Kind] = &[
    kind("v1", "Namespace", "namespaces", false),
    kind(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    kind(
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    kind("v1", "Secret", "secrets", true),
    kind("apps/v1", "Deployment", "deployments", true),
    kind("v1", "Service", "services", true),
    kind("networking.k8s.io/v1", "Ingress", "ingresses", true),
    kind(
        "policy/v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
    kind(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    kind("v1", "Pod", "pods", true),
];

const fn kind(
    api_version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Kind {
    Kind {
        api_version,
        kind,
        plural,
        namespaced,
    }
}

/// The namespaced kinds a service owns: what `live_objects` and `prune` list.
pub(crate) fn service_kinds() -> impl Iterator<Item = &'static Kind> {
    KINDS.iter().filter(|k| k.namespaced && k.kind != "Pod")
}

/// The table entry of `(apiVersion, kind)`, if the cluster layer knows it.
pub(crate) fn lookup(api_version: &str, kind: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind)
}

/// Looks a kind up by name alone (each kind appears once in the table).
pub(crate) fn by_kind(kind: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.kind == kind)
}

impl Kind {
    /// The `ApiResource` kube's dynamic API needs.
    pub(crate) fn resource(&self) -> ApiResource {
        let (group, version) = self
            .api_version
            .split_once('/')
            .unwrap_or(("", self.api_version));
        let gvk = GroupVersionKind::gvk(group, version, self.kind);
        ApiResource::from_gvk_with_plural(&gvk, self.plural)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_resources_carry_group_version_and_plural() {
        let hpa = lookup("autoscaling/v2", "HorizontalPodAutoscaler").unwrap();
        let resource = hpa.resource();
        assert_eq!(
            (resource.group.as_str(), resource.version.as_str()),
            ("autoscaling", "v2")
        );
        assert_eq!(resource.api_version, "autoscaling/v2");
        assert_eq!(resource.plural, "horizontalpodautoscalers");
        let secret = lookup("v1", "Secret").unwrap().resource();
        assert_eq!(
            (secret.group.as_str(), secret.api_version.as_str()),
            ("", "v1")
        );
        assert!(lookup("apps/v1", "StatefulSet").is_none());
        assert!(!by_kind("Namespace").unwrap().namespaced);
        assert!(service_kinds().all(|k| k.namespaced && k.kind != "Pod"));
    }
}
