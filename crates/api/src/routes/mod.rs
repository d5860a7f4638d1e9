//! The route table: every route of the API and its OpenAPI entry.

mod auth;
mod health;
mod metrics;
mod teams;
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
        .routes(routes!(
            tokens::handlers::token_create,
            tokens::handlers::token_list
        ))
        .routes(routes!(
            tokens::handlers::token_view,
            tokens::handlers::token_revoke
        ))
        .routes(routes!(
            teams::handlers::team_create,
            teams::handlers::team_list
        ))
        .routes(routes!(
            teams::handlers::team_view,
            teams::handlers::team_update,
            teams::handlers::team_delete
        ))
        .routes(routes!(teams::handlers::team_member_list))
        .routes(routes!(
            teams::handlers::team_member_update,
            teams::handlers::team_member_remove
        ))
        .routes(routes!(
            teams::invitations::invitation_create,
            teams::invitations::invitation_list
        ))
        .routes(routes!(teams::invitations::invitation_revoke))
        .routes(routes!(teams::invitations::invitation_list_mine))
        .routes(routes!(teams::invitations::invitation_view))
        .routes(routes!(teams::invitations::invitation_accept))
        .routes(routes!(teams::invitations::invitation_decline))
        .fallback(route_not_found)
}

async fn route_not_found(method: http::Method, uri: http::Uri) -> ApiError {
    switchyard_domain::Error::not_found(
        switchyard_domain::ResourceKind::Route,
        format!("{method} {}", uri.path()),
    )
    .into()
}
