//! Handlers of `POST /v1/services/:id/build`, `GET /v1/services/:id/releases` and
//! `GET /v1/releases/:id/sbom`.

use axum::extract::State;
use http::StatusCode;
use switchyard_domain::{GitSha, ReleaseId, ServiceId};

use super::dto::{BuildRequest, ReleaseList, ReleaseView, SbomView};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
    routes::paging::ListQuery,
};

/// Build a commit: creates the release (`building`); the worker hands it to Roundhouse.
#[utoipa::path(post, path = "/v1/services/{id}/build", tag = "builds", security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id")),
    request_body = BuildRequest,
    responses(
        (status = 201, description = "The release, building", body = ReleaseView),
        (status = 400, description = "Invalid git_sha or git_branch", body = Problem),
        (status = 403, description = "Not a project developer", body = Problem),
        (status = 404, description = "No such service you can see", body = Problem),
    ))]
pub(crate) async fn build_trigger(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Json(body): Json<BuildRequest>,
) -> Result<(StatusCode, Json<ReleaseView>), ApiError> {
    let sha = GitSha::parse(&body.git_sha)?;
    let release = state
        .cp
        .build_trigger(&principal, id, sha, body.git_branch.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(release.into())))
}

/// A service's releases, newest first (without SBOM text).
#[utoipa::path(get, path = "/v1/services/{id}/releases", tag = "builds",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id"), ListQuery),
    responses(
        (status = 200, description = "Releases", body = ReleaseList),
        (status = 404, description = "No such service you can see", body = Problem),
    ))]
pub(crate) async fn release_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ReleaseList>, ApiError> {
    let page = state.cp.release_list(&principal, id, query.page()?).await?;
    Ok(Json(ReleaseList {
        releases: page.items.into_iter().map(ReleaseView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The SBOM Roundhouse produced for a release.
#[utoipa::path(get, path = "/v1/releases/{id}/sbom", tag = "builds", security(("bearer" = [])),
    params(("id" = String, Path, description = "Release id")),
    responses(
        (status = 200, description = "The SBOM", body = SbomView),
        (status = 404, description = "No such release you can see, or no SBOM", body = Problem),
    ))]
pub(crate) async fn release_sbom(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ReleaseId>,
) -> Result<Json<SbomView>, ApiError> {
    let (sbom, sbom_format) = state.cp.release_sbom(&principal, id).await?;
    Ok(Json(SbomView {
        release_id: id.to_string(),
        sbom_format,
        sbom,
    }))
}
