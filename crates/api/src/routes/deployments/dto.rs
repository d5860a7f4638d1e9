//! The deployment body: the original `Deployment` fields (`status` keeps its three values) plus
//! the reconciler's `phase` and machine-readable `reason`.

use serde::Serialize;
use switchyard_core::DeploymentRow;
use switchyard_domain::DeploymentPhase;
use utoipa::ToSchema;

use crate::routes::auth::dto::rfc3339;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeploymentView {
    pub(crate) id: String,
    pub(crate) service_id: String,
    pub(crate) release_id: String,
    pub(crate) environment_id: String,
    /// 1, 2, 3, … per environment, in the order deployments were requested.
    pub(crate) sequence: i64,
    pub(crate) replicas: i32,
    /// The original's `pending`, `running` or `failed`.
    pub(crate) status: &'static str,
    /// `pending`, `applying`, `rolling_out`, `running`, `failed`, `timed_out` or `superseded`.
    pub(crate) phase: String,
    /// Why it is where it is (`ImagePullBackOff`, `ProgressDeadlineExceeded`, `Cancelled`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    /// `unknown`, `healthy` or `unhealthy`.
    pub(crate) health: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error_message: Option<String>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl From<DeploymentRow> for DeploymentView {
    fn from(d: DeploymentRow) -> Self {
        let status = DeploymentPhase::parse(&d.phase)
            .map_or("pending", |p| p.legacy_status(d.reason.as_deref()));
        Self {
            id: d.id.to_string(),
            service_id: d.service_id.to_string(),
            release_id: d.release_id.to_string(),
            environment_id: d.environment_id.to_string(),
            sequence: d.sequence,
            replicas: d.replicas,
            status,
            phase: d.phase,
            reason: d.reason,
            health: d.health,
            error_message: d.error_message,
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}
