//! `/health`, `/health/live`, `/health/ready`: answered from the monitor's snapshot, never from a
//! probe of their own.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use http::StatusCode;
use serde::Serialize;
use switchyard_domain::Error;
use utoipa::ToSchema;

use crate::{
    ApiError, ApiState,
    extract::Json,
    health::{Components, SchemaHealth},
    middleware::KeepBody,
};

/// The original `/health` body plus `schema` and `checked_at`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HealthView {
    /// `healthy`, `degraded` (schema incompatible or cluster unreachable) or `unhealthy`
    /// (database down; the response is then 503).
    status: &'static str,
    /// Always `switchyard-api`.
    service: &'static str,
    version: &'static str,
    components: Components,
    schema: SchemaHealth,
    /// When the probes behind this report ran (RFC 3339).
    checked_at: String,
}

/// A fixed status document (`{"status":"ok"}`, `{"status":"ready"}`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatusView {
    status: &'static str,
}

/// Detailed health of the API and its dependencies.
#[utoipa::path(get, path = "/health", tag = "health",
    responses(
        (status = 200, description = "Database reachable", body = HealthView),
        (status = 503, description = "Database unreachable (same body, status `unhealthy`)", body = HealthView),
    ))]
pub(crate) async fn health_view(State(state): State<ApiState>) -> Response {
    let snapshot = state.health.borrow().clone();
    let status = snapshot.overall();
    let view = HealthView {
        status,
        service: "switchyard-api",
        version: env!("CARGO_PKG_VERSION"),
        components: snapshot.components.clone(),
        schema: snapshot.schema.clone(),
        checked_at: snapshot
            .checked_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    };
    let code = if status == "unhealthy" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, axum::extract::Extension(KeepBody), Json(view)).into_response()
}

/// Liveness: the process serves HTTP. No dependency is checked.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "Alive", body = StatusView)))]
pub(crate) async fn health_live() -> Json<StatusView> {
    Json(StatusView { status: "ok" })
}

/// Readiness: PostgreSQL answers and the schema is one this binary can serve.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready for traffic", body = StatusView),
        (status = 503, description = "Database down or schema incompatible", body = crate::Problem),
    ))]
pub(crate) async fn health_ready(
    State(state): State<ApiState>,
) -> Result<Json<StatusView>, ApiError> {
    let snapshot = state.health.borrow().clone();
    if snapshot.ready() {
        return Ok(Json(StatusView { status: "ready" }));
    }
    let message = if !snapshot.components.database.is_up() {
        "database not ready".to_owned()
    } else {
        match snapshot.schema.status {
            "behind" => {
                "database schema is behind this version: run `switchyard migrate up`".to_owned()
            }
            "edited" => {
                "an applied migration was edited: see `switchyard migrate status`".to_owned()
            }
            other => format!("database schema is not usable ({other})"),
        }
    };
    Err(Error::Unavailable {
        message,
        source: None,
    }
    .into())
}
