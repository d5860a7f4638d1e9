//! Bodies of the service routes: the original `Service` fields plus every setting the original
//! dropped (port, probes, resources, replicas, autoscaling, volumes).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::{BulkFailure, ServiceInProject, ServiceRow};
use switchyard_domain::ServiceSpec;
use utoipa::ToSchema;

use crate::routes::auth::dto::rfc3339;

/// A service. `health`, `status` and the replica counts describe what runs; they stay
/// `unknown`/0 until a deployment reports.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServiceView {
    id: String,
    project_id: String,
    #[serde(flatten)]
    spec: ServiceSpec,
    health: &'static str,
    status: &'static str,
    desired_replicas: u32,
    ready_replicas: u32,
    created_at: String,
    updated_at: String,
}

impl From<ServiceRow> for ServiceView {
    fn from(s: ServiceRow) -> Self {
        Self {
            id: s.id.to_string(),
            project_id: s.project_id.to_string(),
            desired_replicas: s.spec.replicas,
            spec: s.spec.0,
            health: "unknown",
            status: "unknown",
            ready_replicas: 0,
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

/// `{services: [...]}`, never `null`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServiceList {
    pub(crate) services: Vec<ServiceView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

/// A bulk creation: shared repository settings and 1 to 20 services.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct BulkCreate {
    pub(crate) git_repo: String,
    pub(crate) git_branch: Option<String>,
    /// Each: any `ServiceSpec` fields (at least `name` and `app_path`).
    #[schema(value_type = Vec<Object>)]
    pub(crate) services: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BulkError {
    name: String,
    error: String,
    /// The field that was refused, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl From<BulkFailure> for BulkError {
    fn from(f: BulkFailure) -> Self {
        let field = match &f.error {
            switchyard_domain::Error::InvalidInput { field, .. } => field.clone(),
            _ => None,
        };
        Self {
            name: f.name,
            error: f.error.public_message(),
            field,
        }
    }
}

/// 201 (all created) or 207 (some created).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BulkCreated {
    pub(crate) services: Vec<ServiceView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) errors: Vec<BulkError>,
}

/// 400 when nothing was created: the original's body plus the problem fields.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BulkRefused {
    pub(crate) error: &'static str,
    pub(crate) message: &'static str,
    pub(crate) code: &'static str,
    pub(crate) status: u16,
    pub(crate) details: Vec<BulkError>,
}

/// `{settings: {...}}` as the UI reads it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettingsView {
    settings: Settings,
}

#[derive(Debug, Serialize, ToSchema)]
struct Settings {
    id: String,
    project_id: String,
    project_name: String,
    #[serde(flatten)]
    spec: ServiceSpec,
    created_at: String,
    updated_at: String,
}

impl From<ServiceInProject> for SettingsView {
    fn from(s: ServiceInProject) -> Self {
        Self {
            settings: Settings {
                id: s.service.id.to_string(),
                project_id: s.project.id.to_string(),
                project_name: s.project.name,
                spec: s.service.spec.0,
                created_at: rfc3339(s.service.created_at),
                updated_at: rfc3339(s.service.updated_at),
            },
        }
    }
}

/// `{service, message}` (the original's PATCH answer).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServiceUpdated {
    pub(crate) service: ServiceView,
    pub(crate) message: &'static str,
}
