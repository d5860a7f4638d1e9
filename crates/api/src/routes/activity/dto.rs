//! Bodies of `/v1/activity`, with the original `AuditLog` field names.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::AuditRow;
use utoipa::{IntoParams, ToSchema};

use crate::routes::auth::dto::rfc3339;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ActivityQuery {
    /// 1 to 200; default 50.
    pub(crate) limit: Option<i64>,
    /// The `next_cursor` of the previous page (preferred over `offset`).
    pub(crate) cursor: Option<String>,
    /// Rows to skip (the original's paging).
    #[serde(default)]
    pub(crate) offset: i64,
    pub(crate) action: Option<String>,
    pub(crate) resource_type: Option<String>,
    pub(crate) project_id: Option<String>,
    pub(crate) actor_id: Option<String>,
}

/// One audit row. `context` holds the redacted field changes; secret values never appear.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditView {
    id: String,
    timestamp: String,
    actor_id: Option<String>,
    actor_email: String,
    actor_role: String,
    action: String,
    resource_type: String,
    resource_id: String,
    resource_name: String,
    project_id: Option<String>,
    environment_id: Option<String>,
    request_id: Option<String>,
    ip_address: String,
    user_agent: String,
    outcome: String,
    #[schema(value_type = Object)]
    context: Value,
    #[schema(value_type = Object)]
    metadata: Value,
}

impl From<AuditRow> for AuditView {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id.to_string(),
            timestamp: rfc3339(r.occurred_at),
            actor_id: r.actor_id.map(|a| a.to_string()),
            actor_email: r.actor_email,
            actor_role: r.actor_role,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            resource_name: r.resource_name,
            project_id: r.project_id.map(|p| p.to_string()),
            environment_id: r.environment_id.map(|e| e.to_string()),
            request_id: r.request_id,
            ip_address: r.ip_address.unwrap_or_default(),
            user_agent: r.user_agent.unwrap_or_default(),
            outcome: r.outcome,
            context: r.changes,
            metadata: r.metadata,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActivityList {
    pub(crate) activities: Vec<AuditView>,
    /// Rows in this page.
    pub(crate) count: usize,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActionList {
    pub(crate) actions: Vec<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResourceTypeList {
    pub(crate) resource_types: Vec<&'static str>,
}
