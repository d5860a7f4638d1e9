//! Bodies of the project and environment routes, with the original field names.

use serde::{Deserialize, Serialize};
use switchyard_core::{EnvironmentRow, ProjectRow};
use utoipa::{IntoParams, ToSchema};

use crate::routes::auth::dto::rfc3339;

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ProjectCreate {
    /// 1 to 100 characters.
    pub(crate) name: String,
    /// 3 to 50 of `a-z`, `0-9`, `-`, starting and ending with a letter or digit.
    pub(crate) slug: String,
    /// At most 1000 characters.
    pub(crate) description: Option<String>,
    /// A team you own or administer; its members get their team role in the project.
    pub(crate) team_slug: Option<String>,
}

/// A project (the original's fields plus `description` and `team_id`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProjectView {
    id: String,
    name: String,
    slug: String,
    description: String,
    team_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<ProjectRow> for ProjectView {
    fn from(p: ProjectRow) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name,
            slug: p.slug,
            description: p.description,
            team_id: p.team_id.map(|t| t.to_string()),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
        }
    }
}

/// `{projects: [...]}`, never `null`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProjectList {
    pub(crate) projects: Vec<ProjectView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct EnvironmentCreate {
    /// 1 to 63 letters, digits, `-` or `_`.
    pub(crate) name: String,
    /// Default `enclii-<project slug>-<name>` (lower-cased, `_` → `-`); must be a DNS label.
    pub(crate) kube_namespace: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EnvironmentView {
    id: String,
    project_id: String,
    name: String,
    kube_namespace: String,
    created_at: String,
    updated_at: String,
}

impl From<EnvironmentRow> for EnvironmentView {
    fn from(e: EnvironmentRow) -> Self {
        Self {
            id: e.id.to_string(),
            project_id: e.project_id.to_string(),
            name: e.name,
            kube_namespace: e.kube_namespace,
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        }
    }
}

/// `{environments: [...]}`, never `null`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EnvironmentList {
    pub(crate) environments: Vec<EnvironmentView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EnvironmentsQuery {
    /// Only this project's environments; absent: every environment you can see.
    pub(crate) project_id: Option<String>,
    /// 1 to 200; default 50.
    pub(crate) limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}
