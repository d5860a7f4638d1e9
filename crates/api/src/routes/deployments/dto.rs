//! The deployment body: the original `Deployment` fields (`status` keeps its three values) plus
//! the reconciler's `phase` and machine-readable `reason`.

use serde::Serialize;
use switchyard_core::{DeploymentRow, ServiceStatus};
use switchyard_domain::DeploymentPhase;
use utoipa::ToSchema;

use crate::routes::{auth::dto::rfc3339, builds::dto::ReleaseView, services::dto::ServiceView};

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
    /// Pods ready, as the reconciler last saw them.
    pub(crate) ready_replicas: i32,
    /// The deployment this one rolled back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rolled_back_from: Option<String>,
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
            ready_replicas: d.ready_replicas,
            rolled_back_from: d.rolled_back_from.map(|id| id.to_string()),
            error_message: d.error_message,
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}

/// `{deployment, release}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LatestDeployment {
    pub(crate) deployment: DeploymentView,
    pub(crate) release: ReleaseView,
}

/// The original status body plus the flat fields the CLI reads.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServiceStatusView {
    service: ServiceView,
    /// `unknown` (never deployed), `pending`, `running` or `failed`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_deployment: Option<DeploymentView>,
    /// `unknown`, `healthy` or `unhealthy`.
    health: String,
    /// Replicas asked for by the newest deployment (0 when never deployed).
    replicas: i32,
    /// Pods ready, as the reconciler last saw them.
    ready_replicas: i32,
    /// The newest deployment's release version.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl From<ServiceStatus> for ServiceStatusView {
    fn from(s: ServiceStatus) -> Self {
        let service = ServiceView::from(s.service.service);
        match s.latest {
            None => Self {
                service,
                status: "unknown",
                latest_deployment: None,
                health: "unknown".to_owned(),
                replicas: 0,
                ready_replicas: 0,
                version: None,
                phase: None,
                reason: None,
            },
            Some((deployment, release)) => {
                let view = DeploymentView::from(deployment);
                Self {
                    service,
                    status: view.status,
                    health: view.health.clone(),
                    replicas: view.replicas,
                    ready_replicas: view.ready_replicas,
                    version: Some(release.version),
                    phase: Some(view.phase.clone()),
                    reason: view.reason.clone(),
                    latest_deployment: Some(view),
                }
            }
        }
    }
}
