//! The environment's Namespace, shared by every service of the environment.

use std::collections::BTreeMap;

use k8s_openapi::{api::core::v1::Namespace, apimachinery::pkg::apis::meta::v1::ObjectMeta};

use super::object;
use crate::{
    EnvironmentRef, Object, ProjectRef, RenderError,
    labels::{ENVIRONMENT_LABEL, PROJECT_LABEL, managed_by},
    names,
};

/// The Namespace `environment.namespace` with labels managed-by, project and environment (their
/// UUIDs). Also what a reconciler applies before adopting, or matches before deleting, a namespace.
pub fn namespace_object(
    project: &ProjectRef<'_>,
    environment: &EnvironmentRef<'_>,
) -> Result<Object, RenderError> {
    names::dns_label("namespace", environment.namespace)?;
    let labels = BTreeMap::from([
        managed_by(),
        (PROJECT_LABEL.to_owned(), project.id.to_string()),
        (ENVIRONMENT_LABEL.to_owned(), environment.id.to_string()),
    ]);
    object(&Namespace {
        metadata: ObjectMeta {
            name: Some(environment.namespace.to_owned()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    })
}
