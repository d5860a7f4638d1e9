//! Handlers of `/v1/projects/:slug/environments[/:env_name]` and `/v1/environments`.

use axum::extract::State;
use http::StatusCode;
use switchyard_core::PageRequest;
use switchyard_domain::{Error, ProjectId};

use super::dto::{EnvironmentCreate, EnvironmentList, EnvironmentView, EnvironmentsQuery};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
    routes::paging::ListQuery,
};

fn list(page: switchyard_core::Page<switchyard_core::EnvironmentRow>) -> Json<EnvironmentList> {
    Json(EnvironmentList {
        environments: page.items.into_iter().map(EnvironmentView::from).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Create an environment (project developers).
#[utoipa::path(post, path = "/v1/projects/{slug}/environments", tag = "environments",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Project slug")),
    request_body = EnvironmentCreate,
    responses(
        (status = 201, description = "Created", body = EnvironmentView),
        (status = 400, description = "Invalid name or namespace", body = Problem),
        (status = 403, description = "Not a project developer", body = Problem),
        (status = 404, description = "No such project you can see", body = Problem),
        (status = 409, description = "Environment already exists (or its namespace is taken)", body = Problem),
    ))]
pub(crate) async fn environment_create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Json(body): Json<EnvironmentCreate>,
) -> Result<(StatusCode, Json<EnvironmentView>), ApiError> {
    let env = state
        .cp
        .environment_create(
            &principal,
            &slug,
            &body.name,
            body.kube_namespace.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(env.into())))
}

/// A project's environments.
#[utoipa::path(get, path = "/v1/projects/{slug}/environments", tag = "environments",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Project slug"), ListQuery),
    responses(
        (status = 200, description = "Environments", body = EnvironmentList),
        (status = 404, description = "No such project you can see", body = Problem),
    ))]
pub(crate) async fn environment_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<EnvironmentList>, ApiError> {
    let page = state
        .cp
        .environment_list(&principal, &slug, query.page()?)
        .await?;
    Ok(list(page))
}

/// One environment of a project, by name.
#[utoipa::path(get, path = "/v1/projects/{slug}/environments/{env_name}", tag = "environments",
    security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Project slug"),
        ("env_name" = String, Path, description = "Environment name"),
    ),
    responses(
        (status = 200, description = "The environment", body = EnvironmentView),
        (status = 404, description = "No such project or environment", body = Problem),
    ))]
pub(crate) async fn environment_view(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((slug, name)): Path<(String, String)>,
) -> Result<Json<EnvironmentView>, ApiError> {
    let env = state.cp.environment_view(&principal, &slug, &name).await?;
    Ok(Json(env.into()))
}

/// Environments of one project (`project_id`), or of every project you can see.
#[utoipa::path(get, path = "/v1/environments", tag = "environments", security(("bearer" = [])),
    params(EnvironmentsQuery),
    responses(
        (status = 200, description = "Environments", body = EnvironmentList),
        (status = 400, description = "Invalid project_id, limit or cursor", body = Problem),
        (status = 404, description = "No such project you can see", body = Problem),
    ))]
pub(crate) async fn environment_list_visible(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<EnvironmentsQuery>,
) -> Result<Json<EnvironmentList>, ApiError> {
    let project = query
        .project_id
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ProjectId>()
                .map_err(|_| Error::invalid("project_id", "must be a UUID"))
        })
        .transpose()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let page = state
        .cp
        .environment_list_visible(&principal, project, page)
        .await?;
    Ok(list(page))
}
