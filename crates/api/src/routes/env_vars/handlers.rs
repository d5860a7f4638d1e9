//! Handlers of the env var routes. Every route answers 503 until
//! `ENCLII_ENVVAR_ENCRYPTION_KEY` is set.

use axum::{body::Bytes, extract::State, response::IntoResponse};
use http::StatusCode;
use serde_json::Value;
use switchyard_domain::{
    EnvVarBulk, EnvVarCreate, EnvVarId, EnvVarUpdate, Error, ServiceId, parse_reason,
};

use super::dto::{
    BulkUpserted, EnvVarBulkBody, EnvVarCreateBody, EnvVarList, EnvVarListQuery, EnvVarRevealBody,
    EnvVarUpdateBody, EnvVarView,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, IfMatch, Json, Path, Query, etag},
    routes::auth::dto::MessageView,
};

/// A service's variables, secrets masked. With `environment_id`, the set in effect there.
#[utoipa::path(get, path = "/v1/services/{id}/env-vars", tag = "env-vars",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id"), EnvVarListQuery),
    responses(
        (status = 200, description = "Variables", body = EnvVarList),
        (status = 400, description = "`environment_id` is not an environment of the service's project", body = Problem),
        (status = 404, description = "No such service you can see", body = Problem),
        (status = 503, description = "ENCLII_ENVVAR_ENCRYPTION_KEY is not set", body = Problem),
    ))]
pub(crate) async fn env_var_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Query(query): Query<EnvVarListQuery>,
) -> Result<Json<EnvVarList>, ApiError> {
    let (environment, page) = query.parse()?;
    let page = state
        .cp
        .env_var_list(&principal, id, environment, page)
        .await?;
    Ok(Json(EnvVarList {
        environment_variables: page.items.into_iter().map(EnvVarView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a variable (developers of its environment; of the project for a global one).
#[utoipa::path(post, path = "/v1/services/{id}/env-vars", tag = "env-vars",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id")),
    request_body = EnvVarCreateBody,
    responses(
        (status = 201, description = "Created (a secret's value masked)", body = EnvVarView),
        (status = 400, description = "A field is invalid (it is named)", body = Problem),
        (status = 403, description = "Not a developer there", body = Problem),
        (status = 404, description = "No such service you can see", body = Problem),
        (status = 409, description = "The key is already set for this environment", body = Problem),
        (status = 503, description = "ENCLII_ENVVAR_ENCRYPTION_KEY is not set", body = Problem),
    ))]
pub(crate) async fn env_var_create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<EnvVarView>), ApiError> {
    let new = EnvVarCreate::from_json(body)?;
    let var = state.cp.env_var_create(&principal, id, new).await?;
    Ok((StatusCode::CREATED, Json(var.into())))
}

/// Create or replace up to 100 variables by key in one go (the CLI's `secrets set`): all are
/// stored or none.
#[utoipa::path(post, path = "/v1/services/{id}/env-vars/bulk", tag = "env-vars",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id")),
    request_body = EnvVarBulkBody,
    responses(
        (status = 200, description = "Stored (secrets masked)", body = BulkUpserted),
        (status = 400, description = "An item is invalid (it is named, e.g. `variables[2].key`)", body = Problem),
        (status = 403, description = "Not a developer there", body = Problem),
        (status = 404, description = "No such service you can see", body = Problem),
        (status = 503, description = "ENCLII_ENVVAR_ENCRYPTION_KEY is not set", body = Problem),
    ))]
pub(crate) async fn env_var_bulk_upsert(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Json(body): Json<Value>,
) -> Result<Json<BulkUpserted>, ApiError> {
    let bulk = EnvVarBulk::from_json(body)?;
    let stored = state.cp.env_var_bulk_upsert(&principal, id, bulk).await?;
    Ok(Json(BulkUpserted {
        message: format!("{} environment variables saved", stored.len()),
        count: stored.len(),
        environment_variables: stored.into_iter().map(EnvVarView::from).collect(),
    }))
}

/// One variable (a secret's value masked), with its `ETag`.
#[utoipa::path(get, path = "/v1/services/{id}/env-vars/{var_id}", tag = "env-vars",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("var_id" = String, Path, description = "Variable id"),
    ),
    responses(
        (status = 200, description = "The variable", body = EnvVarView,
            headers(("ETag" = String, description = "Pass as If-Match to PUT"))),
        (status = 404, description = "No such service you can see, or no such variable of it", body = Problem),
        (status = 503, description = "ENCLII_ENVVAR_ENCRYPTION_KEY is not set", body = Problem),
    ))]
pub(crate) async fn env_var_view(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((id, var)): Path<(ServiceId, EnvVarId)>,
) -> Result<impl IntoResponse, ApiError> {
    let var = state.cp.env_var_view(&principal, id, var).await?;
    Ok(([etag(var.version)], Json(EnvVarView::from(var))))
}

/// Change a variable's key, value or secrecy. With `If-Match`, refused (412) when it changed
/// since.
#[utoipa::path(put, path = "/v1/services/{id}/env-vars/{var_id}", tag = "env-vars",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("var_id" = String, Path, description = "Variable id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read"),
    ),
    request_body = EnvVarUpdateBody,
    responses(
        (status = 200, description = "Updated (a secret's value masked)", body = EnvVarView,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "A field is invalid (it is named)", body = Problem),
        (status = 403, description = "Not a developer there", body = Problem),
        (status = 404, description = "No such service you can see, or no such variable of it", body = Problem),
        (status = 409, description = "The new key is already set for this environment", body = Problem),
        (status = 412, description = "The variable changed since your ETag", body = Problem),
        (status = 503, description = "ENCLII_ENVVAR_ENCRYPTION_KEY is not set", body = Problem),
    ))]
pub(crate) async fn env_var_update(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((id, var)): Path<(ServiceId, EnvVarId)>,
    IfMatch(version): IfMatch,
    Json(body): Json<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let update = EnvVarUpdate::from_json(body)?;
    let var = state
        .cp
        .env_var_update(&principal, (id, var), update, version)
        .await?;
    Ok(([etag(var.version)], Json(EnvVarView::from(var))))
}

/// Delete a variable.
#[utoipa::path(delete, path = "/v1/services/{id}/env-vars/{var_id}", tag = "env-vars",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("var_id" = String, Path, description = "Variable id"),
    ),
    responses(
        (status = 200, description = "Deleted", body = MessageView),
        (status = 403, description = "Not a developer there", body = Problem),
        (status = 404, description = "No such service you can see, or no such variable of it", body = Problem),
        (status = 503, description = "ENCLII_ENVVAR_ENCRYPTION_KEY is not set", body = Problem),
    ))]
pub(crate) async fn env_var_delete(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((id, var)): Path<(ServiceId, EnvVarId)>,
) -> Result<Json<MessageView>, ApiError> {
    state.cp.env_var_delete(&principal, id, var).await?;
    Ok(Json(MessageView {
        message: "Environment variable deleted",
    }))
}

/// A variable with its plain value (developers), at most 30 times a minute per caller; every
/// reveal is in the audit log with the caller, their address and the reason given.
#[utoipa::path(post, path = "/v1/services/{id}/env-vars/{var_id}/reveal", tag = "env-vars",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("var_id" = String, Path, description = "Variable id"),
    ),
    request_body(content = Option<EnvVarRevealBody>, description = "Optional"),
    responses(
        (status = 200, description = "The variable with its value", body = EnvVarView),
        (status = 400, description = "The reason is too long", body = Problem),
        (status = 403, description = "Not a developer there", body = Problem),
        (status = 404, description = "No such service you can see, or no such variable of it", body = Problem),
        (status = 429, description = "Too many reveals; see Retry-After", body = Problem),
        (status = 503, description = "ENCLII_ENVVAR_ENCRYPTION_KEY is not set", body = Problem),
    ))]
pub(crate) async fn env_var_reveal(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((id, var)): Path<(ServiceId, EnvVarId)>,
    body: Bytes,
) -> Result<Json<EnvVarView>, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice(&body)
                .map_err(|_| Error::invalid("body", "must be a JSON object or empty"))?,
        )
    };
    let reason = parse_reason(body)?;
    let var = state
        .cp
        .env_var_reveal(&principal, (id, var), reason)
        .await?;
    Ok(Json(var.into()))
}
