//! The route table: every route of the API and its OpenAPI entry.

mod activity;
mod auth;
mod builds;
mod dashboard;
mod deployments;
mod domains;
mod env_vars;
mod github;
mod health;
mod logs;
mod metrics;
mod paging;
mod projects;
mod services;
mod teams;
mod tokens;
mod usage;

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
        .routes(routes!(
            projects::handlers::project_create,
            projects::handlers::project_list
        ))
        .routes(routes!(
            projects::handlers::project_view,
            projects::handlers::project_delete
        ))
        .routes(routes!(
            projects::environments::environment_create,
            projects::environments::environment_list
        ))
        .routes(routes!(projects::environments::environment_view))
        .routes(routes!(projects::environments::environment_list_visible))
        .routes(routes!(
            services::handlers::service_create,
            services::handlers::service_list
        ))
        .routes(routes!(services::handlers::service_create_bulk))
        .routes(routes!(
            services::handlers::service_view,
            services::handlers::service_update,
            services::handlers::service_delete
        ))
        .routes(routes!(services::handlers::service_settings))
        .routes(routes!(builds::handlers::build_trigger))
        .routes(routes!(builds::handlers::release_list))
        .routes(routes!(builds::handlers::release_sbom))
        .routes(routes!(builds::callbacks::build_complete))
        .routes(routes!(builds::status::build_status))
        .routes(routes!(builds::status::commit_status))
        .routes(routes!(deployments::handlers::deploy))
        .routes(routes!(deployments::handlers::deployment_list))
        .routes(routes!(deployments::handlers::deployment_latest))
        .routes(routes!(deployments::handlers::service_status))
        .routes(routes!(deployments::handlers::deployment_view))
        .routes(routes!(deployments::handlers::rollback))
        .routes(routes!(deployments::plan::drift))
        .routes(routes!(logs::handlers::deployment_logs))
        .routes(routes!(logs::websocket::deployment_log_stream))
        .routes(routes!(logs::websocket::service_log_stream))
        .routes(routes!(github::handlers::github_webhook))
        .routes(routes!(github::handlers::github_deliveries))
        .routes(routes!(github::handlers::services_of_repo))
        .routes(routes!(
            env_vars::handlers::env_var_list,
            env_vars::handlers::env_var_create
        ))
        .routes(routes!(env_vars::handlers::env_var_bulk_upsert))
        .routes(routes!(
            env_vars::handlers::env_var_view,
            env_vars::handlers::env_var_update,
            env_vars::handlers::env_var_delete
        ))
        .routes(routes!(env_vars::handlers::env_var_reveal))
        .routes(routes!(
            domains::handlers::domain_create,
            domains::handlers::domain_list
        ))
        .routes(routes!(
            domains::handlers::domain_view,
            domains::handlers::domain_update,
            domains::handlers::domain_delete
        ))
        .routes(routes!(domains::handlers::domain_verify))
        .routes(routes!(domains::lists::domain_list_visible))
        .routes(routes!(domains::lists::domain_stats))
        .routes(routes!(dashboard::handlers::dashboard_stats))
        .routes(routes!(activity::handlers::activity_list))
        .routes(routes!(activity::handlers::activity_actions))
        .routes(routes!(activity::handlers::activity_resource_types))
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
        .routes(routes!(usage::handlers::usage_summary))
        .routes(routes!(usage::handlers::usage_costs))
        .routes(routes!(usage::handlers::usage_ledger))
        .routes(routes!(usage::handlers::billing_aggregate))
        .fallback(route_not_found)
}

async fn route_not_found(method: http::Method, uri: http::Uri) -> ApiError {
    switchyard_domain::Error::not_found(
        switchyard_domain::ResourceKind::Route,
        format!("{method} {}", uri.path()),
    )
    .into()
}
