//! Handlers of `/v1/user/tokens`.

use axum::{Extension, extract::State};
use http::StatusCode;
use secrecy::ExposeSecret;
use switchyard_domain::ApiTokenId;

use super::dto::{TokenCreate, TokenCreated, TokenList, TokenListQuery, TokenView};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
    middleware::NoReplay,
    routes::auth::dto::MessageView,
};

/// Create an API token for the CLI or CI.
#[utoipa::path(post, path = "/v1/user/tokens", tag = "tokens", security(("bearer" = [])),
    request_body = TokenCreate,
    responses(
        (status = 201, description = "Created; `token` is shown only now", body = TokenCreated),
        (status = 400, description = "Invalid name, scope or expiry, or 10 active tokens already", body = Problem),
        (status = 403, description = "A scope above your own role", body = Problem),
    ))]
pub(crate) async fn token_create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Json(body): Json<TokenCreate>,
) -> Result<(StatusCode, Extension<NoReplay>, Json<TokenCreated>), ApiError> {
    let created = state
        .cp
        .api_token_create(&principal, &body.name, &body.scopes, body.expires_in_days)
        .await?;
    let plaintext = created.plaintext.expose_secret().to_owned();
    Ok((
        StatusCode::CREATED,
        Extension(NoReplay),
        Json(TokenCreated::new(created.row, plaintext)),
    ))
}

/// The caller's tokens, newest first.
#[utoipa::path(get, path = "/v1/user/tokens", tag = "tokens", security(("bearer" = [])),
    params(TokenListQuery),
    responses((status = 200, description = "Tokens", body = TokenList)))]
pub(crate) async fn token_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<TokenListQuery>,
) -> Result<Json<TokenList>, ApiError> {
    let page = switchyard_core::PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let rows = state
        .cp
        .api_token_list(&principal, query.include_revoked, page)
        .await?;
    Ok(Json(TokenList {
        tokens: rows.items.into_iter().map(TokenView::from).collect(),
        next_cursor: rows.next_cursor,
    }))
}

/// One of the caller's tokens.
#[utoipa::path(get, path = "/v1/user/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id")),
    responses(
        (status = 200, description = "The token", body = TokenView),
        (status = 404, description = "No such token of yours", body = Problem),
    ))]
pub(crate) async fn token_view(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ApiTokenId>,
) -> Result<Json<TokenView>, ApiError> {
    Ok(Json(state.cp.api_token_view(&principal, id).await?.into()))
}

/// Revoke one of the caller's tokens. Answers 200 with a body (the original's 204 broke the UI).
#[utoipa::path(delete, path = "/v1/user/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id")),
    responses(
        (status = 200, description = "Revoked", body = MessageView),
        (status = 404, description = "No such live token of yours", body = Problem),
    ))]
pub(crate) async fn token_revoke(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ApiTokenId>,
) -> Result<Json<MessageView>, ApiError> {
    state.cp.api_token_revoke(&principal, id).await?;
    Ok(Json(MessageView {
        message: "Token revoked",
    }))
}
