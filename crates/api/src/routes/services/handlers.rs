//! Handlers of the service routes.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use http::StatusCode;
use serde_json::{Value, json};
use switchyard_domain::ServiceId;

use super::dto::{
    BulkCreate, BulkCreated, BulkError, BulkRefused, ServiceList, ServiceUpdated, ServiceView,
    SettingsView,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, IfMatch, Json, Path, Query, etag},
    middleware::KeepBody,
    routes::{auth::dto::MessageView, paging::ListQuery},
};

/// Create a service (project developers). Unset settings take the original's defaults.
#[utoipa::path(post, path = "/v1/projects/{slug}/services", tag = "services",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Project slug")),
    request_body(content = switchyard_domain::ServiceSpec,
        description = "`name` and `git_repo` are required; everything else has a default"),
    responses(
        (status = 201, description = "Created", body = ServiceView),
        (status = 400, description = "A setting is invalid (the field is named)", body = Problem),
        (status = 403, description = "Not a project developer", body = Problem),
        (status = 404, description = "No such project you can see", body = Problem),
        (status = 409, description = "A service with this name exists in the project", body = Problem),
    ))]
pub(crate) async fn service_create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<ServiceView>), ApiError> {
    let row = state.cp.service_create(&principal, &slug, body).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Create up to 20 services from one repository (monorepo import).
#[utoipa::path(post, path = "/v1/projects/{slug}/services/bulk", tag = "services",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Project slug")),
    request_body = BulkCreate,
    responses(
        (status = 201, description = "All created", body = BulkCreated),
        (status = 207, description = "Some created; `errors` names the others", body = BulkCreated),
        (status = 400, description = "None created", body = BulkRefused),
        (status = 403, description = "Not a project developer", body = Problem),
        (status = 404, description = "No such project you can see", body = Problem),
    ))]
pub(crate) async fn service_create_bulk(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Json(body): Json<BulkCreate>,
) -> Result<Response, ApiError> {
    let mut shared = json!({ "git_repo": body.git_repo });
    if let Some(branch) = body.git_branch {
        shared["git_branch"] = branch.into();
    }
    let (created, failed) = state
        .cp
        .service_create_bulk(&principal, &slug, &shared, body.services)
        .await?;
    let errors: Vec<BulkError> = failed.into_iter().map(BulkError::from).collect();
    if created.is_empty() {
        let refused = BulkRefused {
            error: "Failed to create any services",
            message: "Failed to create any services",
            code: "invalid_input",
            status: 400,
            details: errors,
        };
        // The original's body (with the problem fields), kept as it is by the error finisher.
        let mut response = (StatusCode::BAD_REQUEST, Json(refused)).into_response();
        response.extensions_mut().insert(KeepBody);
        return Ok(response);
    }
    let status = if errors.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::MULTI_STATUS
    };
    let services = created.into_iter().map(ServiceView::from).collect();
    Ok((status, Json(BulkCreated { services, errors })).into_response())
}

/// A project's services.
#[utoipa::path(get, path = "/v1/projects/{slug}/services", tag = "services",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Project slug"), ListQuery),
    responses(
        (status = 200, description = "Services", body = ServiceList),
        (status = 404, description = "No such project you can see", body = Problem),
    ))]
pub(crate) async fn service_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ServiceList>, ApiError> {
    let page = state
        .cp
        .service_list(&principal, &slug, query.page()?)
        .await?;
    Ok(Json(ServiceList {
        services: page.items.into_iter().map(ServiceView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One service, with its `ETag`.
#[utoipa::path(get, path = "/v1/services/{id}", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id")),
    responses(
        (status = 200, description = "The service", body = ServiceView,
            headers(("ETag" = String, description = "Pass as If-Match to PATCH"))),
        (status = 404, description = "No such service you can see", body = Problem),
    ))]
pub(crate) async fn service_view(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
) -> Result<impl IntoResponse, ApiError> {
    let found = state.cp.service_view(&principal, id).await?;
    let tag = etag(found.service.version);
    Ok(([tag], Json(ServiceView::from(found.service))))
}

/// A service's settings with its project's name (what the UI's settings page reads).
#[utoipa::path(get, path = "/v1/services/{id}/settings", tag = "services",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id")),
    responses(
        (status = 200, description = "Settings", body = SettingsView),
        (status = 404, description = "No such service you can see", body = Problem),
    ))]
pub(crate) async fn service_settings(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
) -> Result<impl IntoResponse, ApiError> {
    let found = state.cp.service_view(&principal, id).await?;
    let tag = etag(found.service.version);
    Ok(([tag], Json(SettingsView::from(found))))
}

/// Change settings: a JSON merge patch (RFC 7396) over the current settings, validated as a
/// whole. With `If-Match`, refused (412) when someone changed the service since.
#[utoipa::path(patch, path = "/v1/services/{id}", tag = "services", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read"),
    ),
    request_body(content = Object, description = "Any subset of the service's settings; nested objects merge, `null` resets a field to its default"),
    responses(
        (status = 200, description = "Updated", body = ServiceUpdated,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "A setting is invalid (the field is named)", body = Problem),
        (status = 403, description = "Not a project developer", body = Problem),
        (status = 404, description = "No such service you can see", body = Problem),
        (status = 409, description = "The new name is taken in the project", body = Problem),
        (status = 412, description = "The service changed since your ETag", body = Problem),
    ))]
pub(crate) async fn service_update(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    IfMatch(version): IfMatch,
    Json(patch): Json<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let row = state
        .cp
        .service_update(&principal, id, &patch, version)
        .await?;
    let tag = etag(row.version);
    Ok((
        [tag],
        Json(ServiceUpdated {
            service: row.into(),
            message: "Service updated successfully",
        }),
    ))
}

/// Delete a service (project admins); its cluster objects are removed by the worker.
#[utoipa::path(delete, path = "/v1/services/{id}", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id")),
    responses(
        (status = 200, description = "Deleted", body = MessageView),
        (status = 403, description = "Not a project admin", body = Problem),
        (status = 404, description = "No such service you can see", body = Problem),
    ))]
pub(crate) async fn service_delete(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
) -> Result<Json<MessageView>, ApiError> {
    state.cp.service_delete(&principal, id).await?;
    Ok(Json(MessageView {
        message: "Service deleted successfully",
    }))
}
