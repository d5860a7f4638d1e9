//! The `team_invitations` table. Invitations are found by the SHA-256 of their token only.

use sqlx::PgConnection;
use switchyard_domain::{Error, InvitationId, ResourceKind, TeamId, TeamRole, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

/// An invitation with its team and inviter, as every invitation view needs them.
#[derive(Debug, Clone)]
pub struct InvitationRow {
    pub id: Uuid,
    pub team_id: Uuid,
    pub team_name: String,
    pub team_slug: String,
    pub email: String,
    pub role: String,
    pub status: String,
    pub inviter_id: Option<Uuid>,
    pub inviter_name: Option<String>,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

impl InvitationRow {
    pub fn id(&self) -> InvitationId {
        InvitationId::from_uuid(self.id)
    }

    pub fn role(&self) -> TeamRole {
        self.role.parse().unwrap_or(TeamRole::Viewer)
    }

    /// `expired` once past `expires_at` while still pending (never stored: time decides).
    pub fn status_at(&self, now: OffsetDateTime) -> &str {
        if self.status == "pending" && self.expires_at <= now {
            "expired"
        } else {
            &self.status
        }
    }
}

pub struct NewInvitation<'a> {
    pub id: InvitationId,
    pub team_id: TeamId,
    pub email: &'a str,
    pub role: TeamRole,
    pub token_hash: &'a str,
    pub inviter_id: UserId,
    pub expires_at: OffsetDateTime,
}

pub async fn insert(conn: &mut PgConnection, new: &NewInvitation<'_>) -> Result<(), Error> {
    sqlx::query!(
        "insert into team_invitations (id, team_id, email, role, token_hash, inviter_id, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        new.id.as_uuid(),
        new.team_id.as_uuid(),
        new.email,
        new.role.as_str(),
        new.token_hash,
        new.inviter_id.as_uuid(),
        new.expires_at,
    )
    .execute(conn)
    .await
    .map_err(translate(
        "creating an invitation",
        &[(
            "team_invitations_pending_key",
            ResourceKind::Invitation,
            "for this e-mail",
        )],
    ))?;
    Ok(())
}

pub async fn find(
    conn: &mut PgConnection,
    id: InvitationId,
) -> Result<Option<InvitationRow>, Error> {
    sqlx::query_as!(InvitationRow, r#"select id as "id!", team_id as "team_id!", team_name as "team_name!", team_slug as "team_slug!",
                email as "email!", role as "role!", status as "status!", inviter_id,
                inviter_name, expires_at as "expires_at!", created_at as "created_at!"
         from team_invitation_details where id = $1"#, id.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(translate("reading an invitation", &[]))
}

pub async fn find_by_token_hash(
    conn: &mut PgConnection,
    token_hash: &str,
) -> Result<Option<InvitationRow>, Error> {
    sqlx::query_as!(
        InvitationRow,
        r#"select id as "id!", team_id as "team_id!", team_name as "team_name!", team_slug as "team_slug!",
                email as "email!", role as "role!", status as "status!", inviter_id,
                inviter_name, expires_at as "expires_at!", created_at as "created_at!"
         from team_invitation_details where token_hash = $1"#,
        token_hash
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading an invitation", &[]))
}

/// Revokes the expired pending invitation of `team` for `email`, if any, so a new one can be
/// made (one pending invitation per address); returns its id.
pub async fn revoke_expired(
    conn: &mut PgConnection,
    team: TeamId,
    email: &str,
) -> Result<Option<Uuid>, Error> {
    sqlx::query_scalar!(
        "update team_invitations set status = 'revoked', responded_at = now()
         where team_id = $1 and lower(email) = lower($2) and status = 'pending'
           and expires_at <= now()
         returning id",
        team.as_uuid(),
        email,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("revoking an expired invitation", &[]))
}

/// A team's invitations, newest first.
pub async fn list_for_team(
    conn: &mut PgConnection,
    team: TeamId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<InvitationRow>, Error> {
    sqlx::query_as!(
        InvitationRow,
        r#"select id as "id!", team_id as "team_id!", team_name as "team_name!", team_slug as "team_slug!",
                email as "email!", role as "role!", status as "status!", inviter_id,
                inviter_name, expires_at as "expires_at!", created_at as "created_at!"
         from team_invitation_details where team_id = $1
           and ($2::uuid is null
                or (created_at, id) < (select c.created_at, c.id from team_invitations c where c.id = $2))
         order by created_at desc, id desc
         limit $3"#,
        team.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing invitations", &[]))
}

/// Pending, unexpired invitations addressed to `email`.
pub async fn list_pending_for_email(
    conn: &mut PgConnection,
    email: &str,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<InvitationRow>, Error> {
    sqlx::query_as!(
        InvitationRow,
        r#"select id as "id!", team_id as "team_id!", team_name as "team_name!", team_slug as "team_slug!",
                email as "email!", role as "role!", status as "status!", inviter_id,
                inviter_name, expires_at as "expires_at!", created_at as "created_at!"
         from team_invitation_details where lower(email) = lower($1) and status = 'pending' and expires_at > now()
           and ($2::uuid is null
                or (created_at, id) < (select c.created_at, c.id from team_invitations c where c.id = $2))
           order by created_at desc, id desc
           limit $3"#,
        email,
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing invitations", &[]))
}

/// Moves a pending, unexpired invitation to `status`; false when it was not pending (someone
/// answered first) or has expired. This is what makes a token single-use.
pub async fn respond(
    conn: &mut PgConnection,
    id: InvitationId,
    status: &str,
) -> Result<bool, Error> {
    let done = sqlx::query!(
        "update team_invitations set status = $2, responded_at = now()
         where id = $1 and status = 'pending' and expires_at > now()",
        id.as_uuid(),
        status,
    )
    .execute(conn)
    .await
    .map_err(translate("answering an invitation", &[]))?;
    Ok(done.rows_affected() == 1)
}

/// Revokes a pending invitation of `team`.
pub async fn revoke(
    conn: &mut PgConnection,
    team: TeamId,
    id: InvitationId,
) -> Result<bool, Error> {
    let done = sqlx::query!(
        "update team_invitations set status = 'revoked', responded_at = now()
         where id = $1 and team_id = $2 and status = 'pending'",
        id.as_uuid(),
        team.as_uuid(),
    )
    .execute(conn)
    .await
    .map_err(translate("revoking an invitation", &[]))?;
    Ok(done.rows_affected() == 1)
}
