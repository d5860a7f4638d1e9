//! Handlers of `POST /v1/webhooks/github`, `GET /v1/projects/:slug/webhook-deliveries` and
//! `GET /v1/services?git_repo=`.

use axum::{body::Bytes, extract::State};
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use switchyard_core::{DeliveryOutcome, DeliveryRow, ServiceRow};
use utoipa::{IntoParams, ToSchema};

use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
    routes::{auth::dto::rfc3339, paging::ListQuery},
};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// What a delivery did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    delivery: String,
    /// `pong`, `ignored`, `no_match` or `built`.
    action: String,
    release_ids: Vec<String>,
    /// A redelivery of an id already handled: nothing was done again.
    duplicate: bool,
}

impl DeliveryView {
    fn new(delivery: &str, o: DeliveryOutcome) -> Self {
        Self {
            delivery: delivery.to_owned(),
            action: o.action,
            release_ids: o.release_ids.iter().map(ToString::to_string).collect(),
            duplicate: o.duplicate,
        }
    }
}

/// GitHub's webhook: `ping` is answered, `push` builds every matching service once per delivery.
#[utoipa::path(post, path = "/v1/webhooks/github", tag = "builds",
    request_body(content = Object, description = "A GitHub event payload"),
    params(
        ("X-GitHub-Event" = String, Header, description = "push, ping, ..."),
        ("X-GitHub-Delivery" = String, Header, description = "Unique per delivery"),
        ("X-Hub-Signature-256" = String, Header, description = "sha256=<hex HMAC of the body>"),
    ),
    responses(
        (status = 200, description = "Handled (or a redelivery)", body = DeliveryView),
        (status = 400, description = "Not a push event, or a bad commit id", body = Problem),
        (status = 401, description = "Bad or missing signature", body = Problem),
        (status = 503, description = "ENCLII_GITHUB_WEBHOOK_SECRET is not set", body = Problem),
    ))]
pub(crate) async fn github_webhook(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<DeliveryView>, ApiError> {
    let delivery = header(&headers, "x-github-delivery");
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    let outcome = state
        .cp
        .github_delivery(
            delivery,
            header(&headers, "x-github-event"),
            signature,
            &body,
        )
        .await?;
    Ok(Json(DeliveryView::new(delivery, outcome)))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryLogEntry {
    delivery_id: String,
    event: String,
    repository: Option<String>,
    git_ref: Option<String>,
    git_sha: Option<String>,
    action: String,
    matched: i32,
    release_ids: Vec<String>,
    received_at: String,
}

impl From<DeliveryRow> for DeliveryLogEntry {
    fn from(d: DeliveryRow) -> Self {
        Self {
            delivery_id: d.delivery_id,
            event: d.event,
            repository: d.repository,
            git_ref: d.git_ref,
            git_sha: d.git_sha,
            action: d.action,
            matched: d.matched,
            release_ids: d.release_ids.iter().map(ToString::to_string).collect(),
            received_at: rfc3339(d.received_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryLog {
    deliveries: Vec<DeliveryLogEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// The GitHub deliveries that concerned this project, newest first, paged (project admins).
#[utoipa::path(get, path = "/v1/projects/{slug}/webhook-deliveries", tag = "builds",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Project slug"), ListQuery),
    responses(
        (status = 200, description = "Deliveries, newest first", body = DeliveryLog),
        (status = 403, description = "Not a project admin", body = Problem),
        (status = 404, description = "No such project you can see", body = Problem),
    ))]
pub(crate) async fn github_deliveries(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<DeliveryLog>, ApiError> {
    let page = state
        .cp
        .github_deliveries(&principal, &slug, query.page()?)
        .await?;
    Ok(Json(DeliveryLog {
        deliveries: page.items.into_iter().map(DeliveryLogEntry::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RepoQuery {
    /// The repository URL (with or without `.git`).
    #[serde(default)]
    git_repo: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RepoService {
    id: String,
    name: String,
    project_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RepoServices {
    services: Vec<RepoService>,
}

impl From<ServiceRow> for RepoService {
    fn from(s: ServiceRow) -> Self {
        Self {
            id: s.id.to_string(),
            project_id: s.project_id.to_string(),
            name: s.spec.0.name,
        }
    }
}

/// Roundhouse's lookup of the services built from a repository (`Authorization: Bearer
/// <ENCLII_ROUNDHOUSE_API_KEY>`; the original left it open).
#[utoipa::path(get, path = "/v1/services", tag = "builds", params(RepoQuery),
    responses(
        (status = 200, description = "Services", body = RepoServices),
        (status = 400, description = "git_repo is missing", body = Problem),
        (status = 401, description = "Not Roundhouse's key", body = Problem),
        (status = 503, description = "ENCLII_ROUNDHOUSE_API_KEY is not set", body = Problem),
    ))]
pub(crate) async fn services_of_repo(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(query): Query<RepoQuery>,
) -> Result<Json<RepoServices>, ApiError> {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let rows = state
        .cp
        .services_of_repo(authorization, &query.git_repo)
        .await?;
    Ok(Json(RepoServices {
        services: rows.into_iter().map(RepoService::from).collect(),
    }))
}
