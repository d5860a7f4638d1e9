//! Handlers of `/v1/teams/{slug}/invitations` (the team's side) and `/v1/invitations` (the
//! invitee's side).

use axum::{Extension, extract::State};
use http::StatusCode;
use secrecy::ExposeSecret;
use switchyard_core::NewInvitation;
use switchyard_domain::InvitationId;

use super::dto::{
    InvitationAccepted, InvitationCreate, InvitationCreated, InvitationDetails,
    InvitationDetailsList, InvitationList, InvitationView,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
    middleware::NoReplay,
    routes::{auth::dto::MessageView, paging::ListQuery},
};

/// Invite an e-mail address (owners and admins). The token is in this response only.
#[utoipa::path(post, path = "/v1/teams/{slug}/invitations", tag = "invitations",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Team slug")),
    request_body = InvitationCreate,
    responses(
        (status = 201, description = "Created; `token` is shown only now and expires in 7 days", body = InvitationCreated),
        (status = 400, description = "Invalid e-mail, or a role other than admin, member, viewer", body = Problem),
        (status = 403, description = "Members and viewers cannot invite", body = Problem),
        (status = 404, description = "No such team, or the caller is not a member", body = Problem),
        (status = 409, description = "Already a member, or an invitation is pending", body = Problem),
    ))]
pub(crate) async fn invitation_create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Json(body): Json<InvitationCreate>,
) -> Result<(StatusCode, Extension<NoReplay>, Json<InvitationCreated>), ApiError> {
    let new = NewInvitation::parse(&body.email, &body.role)?;
    let created = state.cp.invitation_create(&principal, &slug, new).await?;
    let token = created.token.expose_secret().to_owned();
    Ok((
        StatusCode::CREATED,
        Extension(NoReplay),
        Json(InvitationCreated::new(created.row, token)),
    ))
}

/// A team's invitations of every status, newest first (owners and admins).
#[utoipa::path(get, path = "/v1/teams/{slug}/invitations", tag = "invitations",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Team slug"), ListQuery),
    responses(
        (status = 200, description = "Invitations", body = InvitationList),
        (status = 403, description = "Members and viewers cannot list invitations", body = Problem),
        (status = 404, description = "No such team, or the caller is not a member", body = Problem),
    ))]
pub(crate) async fn invitation_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<InvitationList>, ApiError> {
    let rows = state
        .cp
        .invitation_list(&principal, &slug, query.page()?)
        .await?;
    Ok(Json(InvitationList {
        invitations: rows.items.into_iter().map(InvitationView::from).collect(),
        next_cursor: rows.next_cursor,
    }))
}

/// Revoke a pending invitation (owners and admins).
#[utoipa::path(delete, path = "/v1/teams/{slug}/invitations/{invitation_id}", tag = "invitations",
    security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Team slug"),
        ("invitation_id" = String, Path, description = "Invitation id"),
    ),
    responses(
        (status = 200, description = "Revoked", body = MessageView),
        (status = 400, description = "Malformed invitation id", body = Problem),
        (status = 403, description = "Members and viewers cannot revoke", body = Problem),
        (status = 404, description = "No such team or invitation", body = Problem),
        (status = 409, description = "The invitation was already answered or revoked", body = Problem),
    ))]
pub(crate) async fn invitation_revoke(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((slug, id)): Path<(String, InvitationId)>,
) -> Result<Json<MessageView>, ApiError> {
    state.cp.invitation_revoke(&principal, &slug, id).await?;
    Ok(Json(MessageView {
        message: "Invitation revoked",
    }))
}

/// Pending invitations addressed to the caller's e-mail.
#[utoipa::path(get, path = "/v1/invitations", tag = "invitations", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "Pending invitations", body = InvitationDetailsList)))]
pub(crate) async fn invitation_list_mine(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<InvitationDetailsList>, ApiError> {
    let rows = state
        .cp
        .invitation_list_mine(&principal, query.page()?)
        .await?;
    Ok(Json(InvitationDetailsList {
        invitations: rows
            .items
            .into_iter()
            .map(InvitationDetails::from)
            .collect(),
        next_cursor: rows.next_cursor,
    }))
}

/// The invitation a token belongs to (its invitee only).
#[utoipa::path(get, path = "/v1/invitations/{token}", tag = "invitations",
    security(("bearer" = [])),
    params(("token" = String, Path, description = "Invitation token")),
    responses(
        (status = 200, description = "The invitation", body = InvitationDetails),
        (status = 403, description = "Addressed to another e-mail", body = Problem),
        (status = 404, description = "No invitation has this token", body = Problem),
    ))]
pub(crate) async fn invitation_view(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(token): Path<String>,
) -> Result<Json<InvitationDetails>, ApiError> {
    Ok(Json(
        state.cp.invitation_view(&principal, &token).await?.into(),
    ))
}

/// Accept an invitation: join its team with the invited role. Works once.
#[utoipa::path(post, path = "/v1/invitations/{token}/accept", tag = "invitations",
    security(("bearer" = [])),
    params(("token" = String, Path, description = "Invitation token")),
    responses(
        (status = 200, description = "Joined", body = InvitationAccepted),
        (status = 403, description = "Addressed to another e-mail", body = Problem),
        (status = 404, description = "No invitation has this token", body = Problem),
        (status = 409, description = "Expired, already answered or revoked, or already a member", body = Problem),
    ))]
pub(crate) async fn invitation_accept(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(token): Path<String>,
) -> Result<Json<InvitationAccepted>, ApiError> {
    let row = state.cp.invitation_accept(&principal, &token).await?;
    Ok(Json(InvitationAccepted {
        message: "Invitation accepted",
        team_slug: row.team_slug,
        team_name: row.team_name,
    }))
}

/// Decline an invitation. Works once.
#[utoipa::path(post, path = "/v1/invitations/{token}/decline", tag = "invitations",
    security(("bearer" = [])),
    params(("token" = String, Path, description = "Invitation token")),
    responses(
        (status = 200, description = "Declined", body = MessageView),
        (status = 403, description = "Addressed to another e-mail", body = Problem),
        (status = 404, description = "No invitation has this token", body = Problem),
        (status = 409, description = "Expired, already answered or revoked", body = Problem),
    ))]
pub(crate) async fn invitation_decline(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(token): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    state.cp.invitation_decline(&principal, &token).await?;
    Ok(Json(MessageView {
        message: "Invitation declined",
    }))
}
