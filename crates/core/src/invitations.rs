//! Team invitations: owners and admins invite an e-mail address with a role; the person signed in
//! with that address lists, views, accepts (and becomes a member) or declines. Tokens are
//! `encinv_` + 64 hex characters, shown once to the inviter (there is no mail sender), stored
//! only as their SHA-256, valid for `INVITATION_TTL` and answerable once.

use secrecy::SecretString;
use switchyard_auth::api_token;
use switchyard_db::PgConnection;
use switchyard_db::repo::{
    invitations::{self, InvitationRow},
    teams,
};
use switchyard_domain::{Email, Error, InvitationId, ResourceKind, TeamId, TeamRole};
use time::{Duration, OffsetDateTime};

use crate::{
    ControlPlane, Principal,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
    teams::{TeamNeed, parse_team_role},
};

/// How long an invitation can be answered (the original's 7 days).
pub const INVITATION_TTL: Duration = Duration::days(7);

/// The prefix of invitation tokens (API tokens use `enclii_`).
pub const INVITATION_TOKEN_PREFIX: &str = "encinv_";

/// What `invitation_create` needs, already parsed.
#[derive(Debug)]
pub struct NewInvitation {
    pub email: Email,
    pub role: TeamRole,
}

impl NewInvitation {
    /// `role` is `admin`, `member` or `viewer`: ownership is granted by an owner, to a member.
    pub fn parse(email: &str, role: &str) -> Result<Self, Error> {
        let role = parse_team_role("role", role)?;
        if role == TeamRole::Owner {
            return Err(Error::invalid(
                "role",
                "must be admin, member or viewer (make a member owner once they have joined)",
            ));
        }
        Ok(Self {
            email: Email::parse(email)?,
            role,
        })
    }
}

/// A created invitation and its token, which is never available again.
#[derive(Debug)]
pub struct CreatedInvitation {
    pub row: InvitationRow,
    pub token: SecretString,
}

/// `row` with `status` as of `now` (`expired` is computed, never stored).
fn as_of(mut row: InvitationRow, now: OffsetDateTime) -> InvitationRow {
    row.status = row.status_at(now).to_owned();
    row
}

/// Refuses an invitation that can no longer be answered.
fn ensure_open(row: &InvitationRow) -> Result<(), Error> {
    match row.status_at(OffsetDateTime::now_utc()) {
        "pending" => Ok(()),
        "expired" => Err(Error::Conflict {
            message: "this invitation has expired; ask the team for a new one".to_owned(),
        }),
        answered => Err(Error::Conflict {
            message: format!("this invitation was already {answered}"),
        }),
    }
}

/// The invitation `token` belongs to, if it is addressed to the caller (403 otherwise). The
/// token is looked up by its hash and never appears in errors.
async fn addressed_to_caller(
    conn: &mut PgConnection,
    principal: &Principal,
    token: &str,
) -> Result<InvitationRow, Error> {
    let unknown = || Error::not_found(ResourceKind::Invitation, "with this token");
    if !api_token::is_well_formed_with(INVITATION_TOKEN_PREFIX, token) {
        return Err(unknown());
    }
    let row = invitations::find_by_token_hash(conn, &api_token::hash(token))
        .await?
        .ok_or_else(unknown)?;
    if !row.email.eq_ignore_ascii_case(&principal.email) {
        return Err(Error::Forbidden);
    }
    Ok(row)
}

impl ControlPlane {
    /// `POST /v1/teams/:slug/invitations`: owners and admins. 409 when the person is a member
    /// or has a pending invitation (the unique index decides); an expired one is revoked and
    /// replaced.
    pub async fn invitation_create(
        &self,
        principal: &Principal,
        slug: &str,
        new: NewInvitation,
    ) -> Result<CreatedInvitation, Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let team = self
            .team_access(&mut tx, principal, slug, TeamNeed::Manage)
            .await?
            .team;
        let email = new.email.as_str();
        if teams::has_member_email(&mut tx, team.id(), email).await? {
            return Err(Error::AlreadyExists {
                kind: ResourceKind::TeamMember,
                name: email.to_owned(),
            });
        }
        let replaced = invitations::revoke_expired(&mut tx, team.id(), email).await?;
        let token = api_token::generate_with(INVITATION_TOKEN_PREFIX);
        let id = InvitationId::new();
        invitations::insert(
            &mut tx,
            &invitations::NewInvitation {
                id,
                team_id: team.id(),
                email,
                role: new.role,
                token_hash: &token.hash,
                inviter_id: principal.user_id,
                expires_at: OffsetDateTime::now_utc() + INVITATION_TTL,
            },
        )
        .await?;
        let changes = Changes::new()
            .set("team", &team.slug)
            .set("email", email)
            .set("role", new.role.as_str())
            .set("replaces", replaced);
        audit::record(
            &mut tx,
            principal,
            Entry::new("team.invitation.create", "team_invitation", id, email).changes(changes),
        )
        .await?;
        let row = invitations::find(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found(ResourceKind::Invitation, id.to_string()))?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing an invitation", e))?;
        tracing::info!(invitation.id = %id, team.id = %team.id, "invited someone to team {slug} as {}", new.role);
        Ok(CreatedInvitation {
            row,
            token: token.plaintext,
        })
    }

    /// `GET /v1/teams/:slug/invitations`: owners and admins; every status, newest first.
    pub async fn invitation_list(
        &self,
        principal: &Principal,
        slug: &str,
        page: crate::PageRequest,
    ) -> Result<crate::Page<InvitationRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let team = self
            .team_access(&mut conn, principal, slug, TeamNeed::Manage)
            .await?
            .team;
        let now = OffsetDateTime::now_utc();
        let rows =
            invitations::list_for_team(&mut conn, team.id(), page.after, page.fetch()).await?;
        let rows = rows.into_iter().map(|r| as_of(r, now)).collect();
        Ok(page.finish(rows, |r: &InvitationRow| r.id))
    }

    /// `DELETE /v1/teams/:slug/invitations/:id`: owners and admins revoke a pending invitation.
    pub async fn invitation_revoke(
        &self,
        principal: &Principal,
        slug: &str,
        id: InvitationId,
    ) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let team = self
            .team_access(&mut tx, principal, slug, TeamNeed::Manage)
            .await?
            .team;
        let row = invitations::find(&mut tx, id)
            .await?
            .filter(|r| r.team_id == team.id)
            .ok_or_else(|| Error::not_found(ResourceKind::Invitation, id.to_string()))?;
        if row.status != "pending" || !invitations::revoke(&mut tx, team.id(), id).await? {
            return Err(Error::Conflict {
                message: format!("this invitation was already {}", row.status),
            });
        }
        audit::record(
            &mut tx,
            principal,
            Entry::new("team.invitation.revoke", "team_invitation", id, &row.email)
                .changes(Changes::new().set("team", &team.slug)),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing an invitation's revocation", e))?;
        tracing::info!(invitation.id = %id, "revoked invitation {id} to team {slug}");
        Ok(())
    }

    /// `GET /v1/invitations`: pending invitations addressed to the caller's e-mail.
    pub async fn invitation_list_mine(
        &self,
        principal: &Principal,
        page: crate::PageRequest,
    ) -> Result<crate::Page<InvitationRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let rows = invitations::list_pending_for_email(
            &mut conn,
            &principal.email,
            page.after,
            page.fetch(),
        )
        .await?;
        Ok(page.finish(rows, |r| r.id))
    }

    /// `GET /v1/invitations/:token`: the invitee only.
    pub async fn invitation_view(
        &self,
        principal: &Principal,
        token: &str,
    ) -> Result<InvitationRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let row = addressed_to_caller(&mut conn, principal, token).await?;
        Ok(as_of(row, OffsetDateTime::now_utc()))
    }

    /// `POST /v1/invitations/:token/accept`: the invitee joins with the invited role; once.
    pub async fn invitation_accept(
        &self,
        principal: &Principal,
        token: &str,
    ) -> Result<InvitationRow, Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let row = self.answer(&mut tx, principal, token, "accepted").await?;
        if !teams::insert_member(
            &mut tx,
            TeamId::from_uuid(row.team_id),
            principal.user_id,
            row.role(),
        )
        .await?
        {
            return Err(Error::Conflict {
                message: "you are already a member of this team".to_owned(),
            });
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing an accepted invitation", e))?;
        tracing::info!(invitation.id = %row.id, user.id = %principal.user_id, "joined team {} as {}", row.team_slug, row.role);
        Ok(row)
    }

    /// `POST /v1/invitations/:token/decline`: the invitee says no; once.
    pub async fn invitation_decline(
        &self,
        principal: &Principal,
        token: &str,
    ) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let row = self.answer(&mut tx, principal, token, "declined").await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a declined invitation", e))?;
        tracing::info!(invitation.id = %row.id, "declined invitation to team {}", row.team_slug);
        Ok(())
    }

    /// Moves the caller's open invitation to `status` (`accepted` or `declined`) and audits it.
    async fn answer(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        token: &str,
        status: &'static str,
    ) -> Result<InvitationRow, Error> {
        let row = addressed_to_caller(conn, principal, token).await?;
        ensure_open(&row)?;
        if !invitations::respond(conn, row.id(), status).await? {
            return Err(Error::Conflict {
                message: "this invitation was answered or expired meanwhile".to_owned(),
            });
        }
        let action = if status == "accepted" {
            "team.invitation.accept"
        } else {
            "team.invitation.decline"
        };
        let changes = Changes::new()
            .set("team", &row.team_slug)
            .set("role", &row.role);
        audit::record(
            conn,
            principal,
            Entry::new(action, "team_invitation", row.id, &row.email).changes(changes),
        )
        .await?;
        Ok(as_of(row, OffsetDateTime::now_utc()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitations_name_their_invalid_field_and_never_grant_ownership() {
        let field = |r: Result<NewInvitation, Error>| match r.unwrap_err() {
            Error::InvalidInput { field, .. } => field.unwrap_or_default(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(NewInvitation::parse("bob@example.com", "owner")),
            "role"
        );
        assert_eq!(
            field(NewInvitation::parse("bob@example.com", "root")),
            "role"
        );
        assert_eq!(field(NewInvitation::parse("bob", "member")), "email");
        let ok = NewInvitation::parse(" Bob@Example.com ", "viewer").unwrap();
        assert_eq!(
            (ok.email.as_str(), ok.role),
            ("Bob@Example.com", TeamRole::Viewer)
        );
    }

    #[test]
    fn invitation_tokens_are_distinct_from_api_tokens() {
        let token = api_token::generate_with(INVITATION_TOKEN_PREFIX);
        let text = secrecy::ExposeSecret::expose_secret(&token.plaintext);
        assert!(api_token::is_well_formed_with(
            INVITATION_TOKEN_PREFIX,
            text
        ));
        assert!(
            !api_token::is_well_formed(text),
            "not usable as an API token"
        );
        assert_eq!(token.hash, api_token::hash(text));
    }
}
