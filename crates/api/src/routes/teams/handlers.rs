//! Handlers of `/v1/teams` and `/v1/teams/{slug}/members`.

use axum::extract::State;
use http::StatusCode;
use switchyard_core::{NewTeam, TeamUpdate, parse_team_role, team_version};
use switchyard_domain::UserId;

use super::dto::{
    MemberList, MemberRoleUpdate, MemberView, TeamCreate, TeamList, TeamUpdateBody, TeamView,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, IfMatch, Json, Path, Query, etag},
    routes::{auth::dto::MessageView, paging::ListQuery},
};

/// Create a team; the caller becomes its owner.
#[utoipa::path(post, path = "/v1/teams", tag = "teams", security(("bearer" = [])),
    request_body = TeamCreate,
    responses(
        (status = 201, description = "Created, with `user_role: owner`", body = TeamView),
        (status = 400, description = "Invalid name, slug, description or billing e-mail", body = Problem),
        (status = 403, description = "A read-only account or a viewer-scoped token", body = Problem),
        (status = 409, description = "A team with this slug exists", body = Problem),
    ))]
pub(crate) async fn team_create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Json(body): Json<TeamCreate>,
) -> Result<(StatusCode, Json<TeamView>), ApiError> {
    let new = NewTeam::parse(
        &body.name,
        &body.slug,
        body.description.as_deref(),
        body.billing_email.as_deref(),
    )?;
    let team = state.cp.team_create(&principal, new).await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

/// The caller's teams, by slug.
#[utoipa::path(get, path = "/v1/teams", tag = "teams", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "Teams the caller belongs to", body = TeamList)))]
pub(crate) async fn team_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<TeamList>, ApiError> {
    let rows = state.cp.team_list(&principal, query.page()?).await?;
    Ok(Json(TeamList {
        teams: rows.items.into_iter().map(TeamView::from).collect(),
        next_cursor: rows.next_cursor,
    }))
}

/// One team (members and platform admins).
#[utoipa::path(get, path = "/v1/teams/{slug}", tag = "teams", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Team slug")),
    responses(
        (status = 200, description = "The team", body = TeamView,
            headers(("ETag" = String, description = "Pass as If-Match to PATCH"))),
        (status = 404, description = "No such team, or the caller is not a member", body = Problem),
    ))]
pub(crate) async fn team_view(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let team = state.cp.team_view(&principal, &slug).await?;
    let tag = etag(team_version(&team));
    Ok(([tag], Json(TeamView::from(team))))
}

/// Change a team's settings (owners and admins).
#[utoipa::path(patch, path = "/v1/teams/{slug}", tag = "teams", security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Team slug"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read"),
    ),
    request_body = TeamUpdateBody,
    responses(
        (status = 200, description = "The updated team", body = TeamView,
            headers(("ETag" = String, description = "The new version"))),
        (status = 412, description = "The team changed since your ETag", body = Problem),
        (status = 400, description = "Invalid name, description, billing e-mail or avatar URL", body = Problem),
        (status = 403, description = "Members and viewers cannot change the team", body = Problem),
        (status = 404, description = "No such team, or the caller is not a member", body = Problem),
    ))]
pub(crate) async fn team_update(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    IfMatch(version): IfMatch,
    Json(body): Json<TeamUpdateBody>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let update = TeamUpdate::parse(
        body.name.as_deref(),
        body.description.as_deref(),
        body.billing_email.as_deref(),
        body.avatar_url.as_deref(),
    )?;
    let team = state
        .cp
        .team_update(&principal, &slug, update, version)
        .await?;
    let tag = etag(team_version(&team));
    Ok(([tag], Json(TeamView::from(team))))
}

/// Delete a team (owners). Its projects stay, without a team.
#[utoipa::path(delete, path = "/v1/teams/{slug}", tag = "teams", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Team slug")),
    responses(
        (status = 200, description = "Deleted", body = MessageView),
        (status = 403, description = "Only owners delete a team", body = Problem),
        (status = 404, description = "No such team, or the caller is not a member", body = Problem),
    ))]
pub(crate) async fn team_delete(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    state.cp.team_delete(&principal, &slug).await?;
    Ok(Json(MessageView {
        message: "Team deleted",
    }))
}

/// A team's members, by join date.
#[utoipa::path(get, path = "/v1/teams/{slug}/members", tag = "teams", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Team slug"), ListQuery),
    responses(
        (status = 200, description = "Members", body = MemberList),
        (status = 404, description = "No such team, or the caller is not a member", body = Problem),
    ))]
pub(crate) async fn team_member_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<MemberList>, ApiError> {
    let rows = state
        .cp
        .team_member_list(&principal, &slug, query.page()?)
        .await?;
    Ok(Json(MemberList {
        members: rows.items.into_iter().map(MemberView::from).collect(),
        next_cursor: rows.next_cursor,
    }))
}

/// Change a member's role (owners and admins; only owners grant or take away `owner`).
#[utoipa::path(patch, path = "/v1/teams/{slug}/members/{member_id}", tag = "teams",
    security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Team slug"),
        ("member_id" = String, Path, description = "The member's user id"),
    ),
    request_body = MemberRoleUpdate,
    responses(
        (status = 200, description = "Role changed", body = MessageView),
        (status = 400, description = "Unknown role or malformed user id", body = Problem),
        (status = 403, description = "Below admin, or an admin touching ownership", body = Problem),
        (status = 404, description = "No such team or member", body = Problem),
        (status = 409, description = "The last owner cannot be demoted", body = Problem),
    ))]
pub(crate) async fn team_member_update(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((slug, member)): Path<(String, UserId)>,
    Json(body): Json<MemberRoleUpdate>,
) -> Result<Json<MessageView>, ApiError> {
    let role = parse_team_role("role", &body.role)?;
    state
        .cp
        .team_member_update(&principal, &slug, member, role)
        .await?;
    Ok(Json(MessageView {
        message: "Member role updated",
    }))
}

/// Remove a member (owners and admins; admins cannot remove owners), or leave the team.
#[utoipa::path(delete, path = "/v1/teams/{slug}/members/{member_id}", tag = "teams",
    security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Team slug"),
        ("member_id" = String, Path, description = "The member's user id (your own to leave)"),
    ),
    responses(
        (status = 200, description = "Removed", body = MessageView),
        (status = 400, description = "Malformed user id", body = Problem),
        (status = 403, description = "Below admin, or an admin removing an owner", body = Problem),
        (status = 404, description = "No such team or member", body = Problem),
        (status = 409, description = "The last owner cannot leave or be removed", body = Problem),
    ))]
pub(crate) async fn team_member_remove(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((slug, member)): Path<(String, UserId)>,
) -> Result<Json<MessageView>, ApiError> {
    state
        .cp
        .team_member_remove(&principal, &slug, member)
        .await?;
    Ok(Json(MessageView {
        message: "Member removed",
    }))
}
