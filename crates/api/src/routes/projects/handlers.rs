//! Handlers of `/v1/projects[/:slug]`.

use axum::extract::State;
use http::StatusCode;
use serde::Deserialize;
use switchyard_core::NewProject;
use utoipa::IntoParams;

use super::dto::{ProjectCreate, ProjectList, ProjectView};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
    routes::{auth::dto::MessageView, paging::ListQuery},
};

/// Create a project; you become its admin.
#[utoipa::path(post, path = "/v1/projects", tag = "projects", security(("bearer" = [])),
    request_body = ProjectCreate,
    responses(
        (status = 201, description = "Created", body = ProjectView),
        (status = 400, description = "Invalid name, slug, description or team", body = Problem),
        (status = 403, description = "Viewers (and read-only tokens) cannot create projects; or not a manager of the team", body = Problem),
        (status = 404, description = "No such team of yours", body = Problem),
        (status = 409, description = "A project with this slug already exists", body = Problem),
    ))]
pub(crate) async fn project_create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Json(body): Json<ProjectCreate>,
) -> Result<(StatusCode, Json<ProjectView>), ApiError> {
    let new = NewProject::parse(
        &body.name,
        &body.slug,
        body.description.as_deref(),
        body.team_slug.as_deref(),
    )?;
    let project = state.cp.project_create(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(project.into())))
}

/// The projects you can see.
#[utoipa::path(get, path = "/v1/projects", tag = "projects", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "Projects", body = ProjectList),
        (status = 400, description = "Invalid limit or cursor", body = Problem),
    ))]
pub(crate) async fn project_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<ProjectList>, ApiError> {
    let page = state.cp.project_list(&principal, query.page()?).await?;
    Ok(Json(ProjectList {
        projects: page.items.into_iter().map(ProjectView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One project.
#[utoipa::path(get, path = "/v1/projects/{slug}", tag = "projects", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Project slug")),
    responses(
        (status = 200, description = "The project", body = ProjectView),
        (status = 404, description = "No such project you can see", body = Problem),
    ))]
pub(crate) async fn project_view(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(state.cp.project_view(&principal, &slug).await?.into()))
}

/// `?force=true` deletes a project with running deployments.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeleteQuery {
    #[serde(default)]
    force: bool,
}

/// Delete a project (project admins): its rows go now, its namespaces are removed by the worker.
#[utoipa::path(delete, path = "/v1/projects/{slug}", tag = "projects", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Project slug"), DeleteQuery),
    responses(
        (status = 200, description = "Deleted", body = MessageView),
        (status = 403, description = "Not a project admin", body = Problem),
        (status = 404, description = "No such project you can see", body = Problem),
        (status = 409, description = "Deployments are running (use ?force=true)", body = Problem),
    ))]
pub(crate) async fn project_delete(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Query(query): Query<DeleteQuery>,
) -> Result<Json<MessageView>, ApiError> {
    state
        .cp
        .project_delete(&principal, &slug, query.force)
        .await?;
    Ok(Json(MessageView {
        message: "Project deleted successfully",
    }))
}
