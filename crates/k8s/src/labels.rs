//! Label and annotation keys: the original's `enclii.dev/*` keys, so objects it created are
//! adopted, and the label sets each kind of object carries.

use std::collections::BTreeMap;

/// Every object we manage carries this label; pruning only ever considers objects with it.
pub const MANAGED_BY: (&str, &str) = ("enclii.dev/managed-by", "switchyard");
/// `enclii.dev/reconcile: disabled` on a live object means hands off (hand-managed apps).
pub const RECONCILE_ANNOTATION: &str = "enclii.dev/reconcile";

pub const APP_LABEL: &str = "app";
pub const VERSION_LABEL: &str = "version";
pub const SERVICE_LABEL: &str = "enclii.dev/service";
/// The project's UUID (the original's value), not its slug.
pub const PROJECT_LABEL: &str = "enclii.dev/project";
/// The environment's UUID; on the Namespace only.
pub const ENVIRONMENT_LABEL: &str = "enclii.dev/environment";
pub const RELEASE_LABEL: &str = "enclii.dev/release";
pub const DEPLOYMENT_LABEL: &str = "enclii.dev/deployment";

pub const GIT_SHA_ANNOTATION: &str = "enclii.dev/git-sha";
pub const DEPLOYMENT_TIME_ANNOTATION: &str = "enclii.dev/deployment-time";
/// On the pod template: a digest of the variables, so a changed secret value rolls the pods.
pub const CONFIG_CHECKSUM_ANNOTATION: &str = "enclii.dev/config-checksum";
pub(crate) const VOLUME_NAME_ANNOTATION: &str = "enclii.dev/volume-name";
pub(crate) const MOUNT_PATH_ANNOTATION: &str = "enclii.dev/mount-path";

/// The Deployment's selector, `{app, enclii.dev/service}`: immutable in Kubernetes, and the
/// original's, so its Deployments are adopted rather than refused.
pub fn selector_labels(service: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (APP_LABEL.to_owned(), service.to_owned()),
        (SERVICE_LABEL.to_owned(), service.to_owned()),
    ])
}

/// The selector plus project and managed-by: every object of a service except the Deployment
/// and its pods. Stable across deployments, so a redeploy does not rewrite these objects.
pub(crate) fn service_labels(service: &str, project: &str) -> BTreeMap<String, String> {
    let mut labels = selector_labels(service);
    labels.insert(PROJECT_LABEL.to_owned(), project.to_owned());
    let (key, value) = managed_by();
    labels.insert(key, value);
    labels
}

/// `enclii.dev/managed-by=switchyard` as an owned pair.
pub(crate) fn managed_by() -> (String, String) {
    (MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned())
}
