//! The dashboard in the original's body, scoped to the caller.

use axum::extract::State;
use serde::Serialize;
use serde_json::json;
use switchyard_core::{Dashboard, format_deploy_time};
use utoipa::ToSchema;

use crate::{
    ApiError, ApiState,
    extract::{Caller, Json},
    routes::auth::dto::rfc3339,
};

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DashboardView {
    stats: Stats,
    activities: Vec<Activity>,
    services: Vec<ServiceOverview>,
}

#[derive(Debug, Serialize, ToSchema)]
struct Stats {
    healthy_services: i64,
    deployments_today: i64,
    active_projects: i64,
    /// e.g. `2m 5s`; `N/A` without deployments that reached running in the last 7 days.
    avg_deploy_time: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct Activity {
    id: String,
    /// `deployment`.
    #[serde(rename = "type")]
    kind: &'static str,
    message: String,
    timestamp: String,
    /// `success`, `failed` or `pending`.
    status: &'static str,
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
struct ServiceOverview {
    id: String,
    name: String,
    project_name: String,
    /// Where it was last deployed (empty: never).
    environment: String,
    /// `healthy`, `unhealthy`, `deploying`, `failed` or `unknown` (never deployed).
    status: &'static str,
    version: String,
    /// `ready/desired`.
    replicas: String,
}

fn activity_status(phase: &str) -> &'static str {
    match phase {
        "running" | "superseded" => "success",
        "failed" | "timed_out" => "failed",
        _ => "pending",
    }
}

fn service_status(phase: Option<&str>, health: Option<&str>) -> &'static str {
    match (phase, health) {
        (Some("running"), Some("healthy")) => "healthy",
        (Some("running"), _) => "unhealthy",
        (Some("failed" | "timed_out"), _) => "failed",
        (Some("pending" | "applying" | "rolling_out"), _) => "deploying",
        _ => "unknown",
    }
}

impl From<Dashboard> for DashboardView {
    fn from(d: Dashboard) -> Self {
        Self {
            stats: Stats {
                healthy_services: d.stats.healthy_services,
                deployments_today: d.stats.deployments_today,
                active_projects: d.stats.active_projects,
                avg_deploy_time: format_deploy_time(d.stats.avg_deploy_secs),
            },
            activities: d
                .activities
                .into_iter()
                .map(|a| Activity {
                    id: a.id.to_string(),
                    kind: "deployment",
                    message: format!("Deployed {} to {}", a.service_name, a.project_name),
                    timestamp: rfc3339(a.created_at),
                    status: activity_status(&a.phase),
                    metadata: json!({"version": a.version, "environment": a.environment}),
                })
                .collect(),
            services: d
                .services
                .into_iter()
                .map(|s| {
                    let status = service_status(s.phase.as_deref(), s.health.as_deref());
                    let desired = s.replicas.unwrap_or(0);
                    let ready = if status == "healthy" { desired } else { 0 };
                    ServiceOverview {
                        id: s.id.to_string(),
                        name: s.name,
                        project_name: s.project_name,
                        environment: s.environment.unwrap_or_default(),
                        status,
                        version: s.version.unwrap_or_default(),
                        replicas: format!("{ready}/{desired}"),
                    }
                })
                .collect(),
        }
    }
}

/// Your projects at a glance (the original's body; only what you can see).
#[utoipa::path(get, path = "/v1/dashboard/stats", tag = "projects", security(("bearer" = [])),
    responses((status = 200, description = "Figures, recent deployments, services", body = DashboardView)))]
pub(crate) async fn dashboard_stats(
    State(state): State<ApiState>,
    Caller(principal): Caller,
) -> Result<Json<DashboardView>, ApiError> {
    Ok(Json(state.cp.dashboard(&principal).await?.into()))
}
