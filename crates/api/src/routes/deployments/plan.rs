//! Looking before leaping: the dry-run body of `POST /v1/services/:id/deploy?dry_run=true` and
//! `GET /v1/services/:id/drift` (what differs between a running deployment and the cluster).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use switchyard_core::{DeployPreview, DriftReport};
use switchyard_domain::ServiceId;
use utoipa::{IntoParams, ToSchema};

use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
};

/// What a deploy would do; nothing was written.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeployPlanView {
    /// Always `true`: this is a plan, not a deployment.
    dry_run: bool,
    service_id: String,
    service_name: String,
    environment: String,
    release_id: String,
    version: String,
    replicas: i32,
    /// `cluster`, or `render` (compared with the manifests render mode wrote).
    compared_with: &'static str,
    /// The service's Deployment is annotated `enclii.dev/reconcile: disabled`: a deploy
    /// would write nothing.
    reconcile_disabled: bool,
    /// Objects that would be created, updated or deleted, in apply order.
    changes: Vec<PlannedChangeView>,
    /// Objects already as desired.
    unchanged: usize,
}

/// One object a deploy would write or delete.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlannedChangeView {
    /// `create`, `update` or `delete`.
    action: &'static str,
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    name: String,
    /// The object as it would be applied, Secret values replaced by `[redacted]`; absent for
    /// a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    object: Option<serde_json::Value>,
}

impl From<DeployPreview> for DeployPlanView {
    fn from(p: DeployPreview) -> Self {
        Self {
            dry_run: true,
            service_id: p.service.service.id.to_string(),
            service_name: p.service.service.spec.0.name.clone(),
            environment: p.environment.name,
            release_id: p.release.id.to_string(),
            version: p.release.version,
            replicas: p.replicas,
            compared_with: p.compared_with,
            reconcile_disabled: p.reconcile_disabled,
            changes: p
                .changes
                .into_iter()
                .map(|c| PlannedChangeView {
                    action: c.change.as_str(),
                    kind: c.kind,
                    namespace: c.namespace,
                    name: c.name,
                    object: c.object.map(|o| o.body),
                })
                .collect(),
            unchanged: p.unchanged,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct DriftQuery {
    /// The environment's name; default `development`.
    environment: Option<String>,
}

/// How the live objects of a running deployment differ from what it rendered.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DriftView {
    service_id: String,
    service_name: String,
    environment: String,
    deployment_id: String,
    release_id: String,
    /// `cluster`, or `render` (the manifests render mode wrote).
    compared_with: &'static str,
    /// No difference.
    in_sync: bool,
    differences: Vec<DifferenceView>,
}

/// One field of one object that differs.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DifferenceView {
    kind: String,
    name: String,
    /// `missing` (desired, not live), `unexpected` (ours, no longer desired), `labels`, and
    /// on the Deployment `image`, `replicas` and `env-hash` (the config checksum).
    field: String,
    desired: Option<String>,
    live: Option<String>,
}

impl From<DriftReport> for DriftView {
    fn from(r: DriftReport) -> Self {
        Self {
            service_id: r.service.service.id.to_string(),
            service_name: r.service.service.spec.0.name.clone(),
            environment: r.environment.name,
            deployment_id: r.deployment.id.to_string(),
            release_id: r.deployment.release_id.to_string(),
            compared_with: r.compared_with,
            in_sync: r.drift.is_empty(),
            differences: r
                .drift
                .differences
                .into_iter()
                .map(|d| DifferenceView {
                    kind: d.kind,
                    name: d.name,
                    field: d.field,
                    desired: d.desired,
                    live: d.live,
                })
                .collect(),
        }
    }
}

/// Compare the running deployment of a service in an environment with the live objects:
/// image, replicas, config checksum, our labels, and objects of ours nobody wants.
#[utoipa::path(get, path = "/v1/services/{id}/drift", tag = "deployments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id"), DriftQuery),
    responses(
        (status = 200, description = "The differences (none when in sync)", body = DriftView),
        (status = 404, description = "No such service you can see, or environment", body = Problem),
        (status = 409, description = "Nothing runs in that environment", body = Problem),
        (status = 503, description = "No cluster configured (ENCLII_KUBE_CONFIG) or it does not answer", body = Problem),
    ))]
pub(crate) async fn drift(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Query(query): Query<DriftQuery>,
) -> Result<Json<DriftView>, ApiError> {
    let environment = query.environment.as_deref().filter(|e| !e.is_empty());
    let report = state.cp.drift(&principal, id, environment).await?;
    Ok(Json(report.into()))
}
