//! Handlers of `/v1/auth/*`: parse, one `ControlPlane` call, convert.

use axum::extract::State;
use http::StatusCode;
use switchyard_core::Registration;
use switchyard_domain::{Email, Password, parse_name};

use super::dto::{
    JwksView, LoginRequest, LoginResponse, MessageView, RefreshRequest, RegisterRequest, UserView,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json},
};

/// Create an account (local mode) and sign in.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in", body = LoginResponse),
        (status = 400, description = "Invalid e-mail, password (8–72 bytes) or name", body = Problem),
        (status = 409, description = "E-mail already registered", body = Problem),
        (status = 503, description = "Redis (sessions) not configured or down", body = Problem),
    ))]
pub(crate) async fn auth_register(
    State(state): State<ApiState>,
    Json(body): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<LoginResponse>), ApiError> {
    let registration = Registration {
        email: Email::parse(&body.email)?,
        password: Password::parse(body.password)?,
        name: parse_name(&body.name)?,
    };
    let login = state.cp.register(registration).await?;
    Ok((StatusCode::CREATED, Json(login.into())))
}

/// Sign in with e-mail and password (local mode).
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "Invalid email or password", body = Problem),
    ))]
pub(crate) async fn auth_login(
    State(state): State<ApiState>,
    Json(body): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let login = state.cp.login(&body.email, body.password).await?;
    Ok(Json(login.into()))
}

/// Exchange a refresh token for a new access and refresh token. Replaying a used refresh token
/// ends the session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = LoginResponse),
        (status = 401, description = "Invalid or expired refresh token", body = Problem),
        (status = 503, description = "Session store unreachable: refresh fails closed", body = Problem),
    ))]
pub(crate) async fn auth_refresh(
    State(state): State<ApiState>,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let login = state.cp.refresh(&body.refresh_token).await?;
    Ok(Json(login.into()))
}

/// End the caller's session.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged out", body = MessageView),
        (status = 401, description = "No valid token", body = Problem),
    ))]
pub(crate) async fn auth_logout(
    State(state): State<ApiState>,
    Caller(principal): Caller,
) -> Result<Json<MessageView>, ApiError> {
    state.cp.logout(&principal).await?;
    Ok(Json(MessageView {
        message: "Logged out successfully",
    }))
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserView),
        (status = 401, description = "No valid token", body = Problem),
    ))]
pub(crate) async fn auth_me(
    State(state): State<ApiState>,
    Caller(principal): Caller,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(state.cp.me(&principal).await?.into()))
}

/// Public keys that verify session tokens (current key first, then previous keys).
#[utoipa::path(get, path = "/v1/auth/jwks", tag = "auth",
    responses((status = 200, description = "JWKS", body = JwksView)))]
pub(crate) async fn auth_jwks(State(state): State<ApiState>) -> Json<JwksView> {
    Json(state.cp.jwks().into())
}
