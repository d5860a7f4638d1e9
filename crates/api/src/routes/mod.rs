//! The route table: every route of the API and its OpenAPI entry.

mod auth;
mod health;
mod metrics;
mod tokens;

use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{ApiError, ApiState, openapi::ApiDoc};

pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health_view))
        .routes(routes!(health::health_live))
        .routes(routes!(health::health_ready))
        .routes(routes!(metrics::metrics_view))
        .routes(routes!(auth::handlers::auth_register))
        .routes(routes!(auth::handlers::auth_login))
        .routes(routes!(auth::handlers::auth_refresh))
        .routes(routes!(auth::handlers::auth_logout))
        .routes(routes!(auth::handlers::auth_me))
        .routes(routes!(auth::handlers::auth_jwks))
        .routes(routes!(auth::oidc::auth_oidc_login))
        .routes(routes!(auth::oidc::auth_oidc_callback))
        .routes(routes!(auth::oidc::auth_silent_check))
        .routes(routes!(auth::oidc::auth_silent_callback))
        .routes(routes!(
            tokens::handlers::token_create,
            tokens::handlers::token_list
        ))
        .routes(routes!(
            tokens::handlers::token_view,
            tokens::handlers::token_revoke
        ))
        .fallback(route_not_found)
}

async fn route_not_found(method: http::Method, uri: http::Uri) -> ApiError {
    switchyard_domain::Error::not_found(
        switchyard_domain::ResourceKind::Route,
        format!("{method} {}", uri.path()),
    )
    .into()
}
