//! Handlers of the deploy routes: `POST /v1/services/:id/deploy`, the deployment lists, a
//! service's status, `GET /v1/deployments/:id` and rollback.

use axum::{
    body::Bytes,
    extract::State,
    response::{IntoResponse, Response},
};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use switchyard_core::DeployRequest;
use switchyard_domain::{DeploymentId, Error, ReleaseId, ServiceId};
use utoipa::{IntoParams, ToSchema};

use super::{
    dto::{DeploymentView, LatestDeployment, ServiceStatusView},
    plan::DeployPlanView,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
    routes::paging::ListQuery,
};

/// The original body; `environment` and `change_ticket_url` (sent by the CLI and the UI) are
/// accepted and ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct DeployBody {
    /// A `ready` release of this service.
    #[serde(default)]
    release_id: String,
    /// Default `development`.
    environment_name: Option<String>,
    /// Default the service's `replicas`; `<= 0` becomes 1; at most 50.
    replicas: Option<i64>,
    #[schema(ignore)]
    #[serde(default, rename = "environment")]
    _environment: Option<serde_json::Value>,
    #[schema(ignore)]
    #[serde(default, rename = "change_ticket_url")]
    _change_ticket_url: Option<serde_json::Value>,
}

fn release_id(raw: &str, field: &str) -> Result<ReleaseId, Error> {
    if raw.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    uuid::Uuid::parse_str(raw)
        .map(ReleaseId::from_uuid)
        .map_err(|_| Error::invalid(field, "must be a release id (UUID)"))
}

#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct DeployQuery {
    /// Plan only: answer 200 with the objects the deploy would create, update or delete
    /// (Secret values redacted), and write nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Deploy a ready release to an environment. The deployment starts `pending`; the worker
/// reconciles it and supersedes the one that ran before. With `dry_run=true`, the same checks
/// then the plan, compared with the cluster (or render mode's files); nothing is written.
#[utoipa::path(post, path = "/v1/services/{id}/deploy", tag = "deployments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id"), DeployQuery),
    request_body = DeployBody,
    responses(
        (status = 201, description = "The deployment, pending", body = DeploymentView),
        (status = 200, description = "dry_run: what the deploy would change", body = DeployPlanView),
        (status = 400, description = "No release_id, a release not ready, or too many replicas", body = Problem),
        (status = 403, description = "Not a developer of the project or environment", body = Problem),
        (status = 404, description = "No such service, release of it, or environment", body = Problem),
        (status = 503, description = "dry_run without a cluster (ENCLII_KUBE_CONFIG), or it does not answer", body = Problem),
    ))]
pub(crate) async fn deploy(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Query(query): Query<DeployQuery>,
    Json(body): Json<DeployBody>,
) -> Result<Response, ApiError> {
    let request = DeployRequest {
        release_id: release_id(&body.release_id, "release_id")?,
        environment_name: body.environment_name.filter(|n| !n.is_empty()),
        replicas: body.replicas,
    };
    if query.dry_run {
        let plan = state.cp.deploy_preview(&principal, id, &request).await?;
        return Ok(Json(DeployPlanView::from(plan)).into_response());
    }
    let deployment = state.cp.deploy(&principal, id, &request).await?;
    Ok((StatusCode::CREATED, Json(DeploymentView::from(deployment))).into_response())
}

/// `{service_id, deployments, count}`, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeploymentList {
    service_id: String,
    deployments: Vec<DeploymentView>,
    /// How many are in this page.
    count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// A service's deployments, newest first.
#[utoipa::path(get, path = "/v1/services/{id}/deployments", tag = "deployments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id"), ListQuery),
    responses(
        (status = 200, description = "Deployments", body = DeploymentList),
        (status = 404, description = "No such service you can see", body = Problem),
    ))]
pub(crate) async fn deployment_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Query(query): Query<ListQuery>,
) -> Result<Json<DeploymentList>, ApiError> {
    let page = state
        .cp
        .deployment_list(&principal, id, query.page()?)
        .await?;
    let deployments: Vec<DeploymentView> = page.items.into_iter().map(Into::into).collect();
    Ok(Json(DeploymentList {
        service_id: id.to_string(),
        count: deployments.len(),
        deployments,
        next_cursor: page.next_cursor,
    }))
}

/// The newest deployment and its release (404 when the service has none).
#[utoipa::path(get, path = "/v1/services/{id}/deployments/latest", tag = "deployments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id")),
    responses(
        (status = 200, description = "The newest deployment", body = LatestDeployment),
        (status = 404, description = "No such service you can see, or no deployment yet", body = Problem),
    ))]
pub(crate) async fn deployment_latest(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
) -> Result<Json<LatestDeployment>, ApiError> {
    let status = state.cp.service_status(&principal, id).await?;
    let (deployment, release) = status.latest.ok_or_else(|| {
        Error::not_found(
            switchyard_domain::ResourceKind::Deployment,
            format!("of service {id}"),
        )
    })?;
    Ok(Json(LatestDeployment {
        deployment: deployment.into(),
        release: release.into(),
    }))
}

/// A service and where its newest deployment is: the original body plus the flat `health`,
/// `replicas`, `ready_replicas` and `version` the CLI's `--wait` reads.
#[utoipa::path(get, path = "/v1/services/{id}/status", tag = "deployments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id")),
    responses(
        (status = 200, description = "Status", body = ServiceStatusView),
        (status = 404, description = "No such service you can see", body = Problem),
    ))]
pub(crate) async fn service_status(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
) -> Result<Json<ServiceStatusView>, ApiError> {
    let status = state.cp.service_status(&principal, id).await?;
    Ok(Json(status.into()))
}

/// One deployment.
#[utoipa::path(get, path = "/v1/deployments/{id}", tag = "deployments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Deployment id")),
    responses(
        (status = 200, description = "The deployment", body = DeploymentView),
        (status = 404, description = "No such deployment you can see", body = Problem),
    ))]
pub(crate) async fn deployment_view(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<DeploymentId>,
) -> Result<Json<DeploymentView>, ApiError> {
    Ok(Json(state.cp.deployment_view(&principal, id).await?.into()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub(crate) struct RollbackBody {
    /// A ready release of the service; default: the newest other release that ran in this
    /// deployment's environment.
    #[serde(default)]
    to_release: Option<String>,
}

/// The original's answer, with real deployments on both sides.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RollbackView {
    message: String,
    /// The new deployment (of the earlier release).
    rolled_back_to: DeploymentView,
    /// The deployment rolled back (superseded once the new one runs).
    current_deployment: DeploymentView,
}

/// Roll back: a new deployment of an earlier release in the same environment, recording
/// `rolled_back_from`. Nothing is changed in place.
#[utoipa::path(post, path = "/v1/deployments/{id}/rollback", tag = "deployments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Deployment id")),
    request_body(content = RollbackBody, description = "Optional; `{}` or no body rolls back to the release that ran before"),
    responses(
        (status = 200, description = "The rollback deployment, pending", body = RollbackView),
        (status = 400, description = "Nothing earlier ran here, or to_release is not ready", body = Problem),
        (status = 403, description = "Not a developer of the project or environment", body = Problem),
        (status = 404, description = "No such deployment you can see, or release of its service", body = Problem),
    ))]
pub(crate) async fn rollback(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<DeploymentId>,
    body: Bytes,
) -> Result<Json<RollbackView>, ApiError> {
    // The body is optional (the original ignored it), so it is parsed here, not extracted.
    let body: RollbackBody = if body.iter().all(u8::is_ascii_whitespace) {
        RollbackBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::invalid("body", format!("is not a rollback request: {e}")))?
    };
    let to = match body.to_release.as_deref().filter(|r| !r.is_empty()) {
        Some(raw) => Some(release_id(raw, "to_release")?),
        None => None,
    };
    let done = state.cp.rollback(&principal, id, to).await?;
    Ok(Json(RollbackView {
        message: "Rolled back: a new deployment of the earlier release is pending".to_owned(),
        rolled_back_to: done.rolled_back_to.into(),
        current_deployment: done.current.into(),
    }))
}
