//! Members of a team: list, change a role, remove (or leave). Only an owner grants or takes away
//! `owner`, admins cannot remove owners, and a team always keeps at least one owner.

use switchyard_db::PgConnection;
use switchyard_db::repo::teams::{self, MemberRow};
use switchyard_domain::{Error, ResourceKind, TeamId, TeamRole, UserId};

use crate::{
    ControlPlane, Principal,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
    teams::TeamNeed,
};

/// Refuses when `team` would be left without an owner by taking ownership from one of them.
async fn keep_an_owner(conn: &mut PgConnection, team: TeamId, what: &str) -> Result<(), Error> {
    if teams::count_owners(conn, team).await? <= 1 {
        return Err(Error::Conflict {
            message: format!(
                "the last owner cannot {what}; make another member owner first, or delete the team"
            ),
        });
    }
    Ok(())
}

/// The role `member` has in `team`, locked for the change.
async fn current_role(
    conn: &mut PgConnection,
    team: TeamId,
    member: UserId,
) -> Result<TeamRole, Error> {
    teams::member_role_for_update(conn, team, member)
        .await?
        .ok_or_else(|| Error::not_found(ResourceKind::TeamMember, member.to_string()))
}

impl ControlPlane {
    /// `GET /v1/teams/:slug/members`: members (and platform admins).
    pub async fn team_member_list(
        &self,
        principal: &Principal,
        slug: &str,
        page: crate::PageRequest,
    ) -> Result<crate::Page<MemberRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let team = self
            .team_access(&mut conn, principal, slug, TeamNeed::Read)
            .await?
            .team;
        let rows = teams::members(&mut conn, team.id(), page.after, page.fetch()).await?;
        Ok(page.finish(rows, |m| m.user_id))
    }

    /// `PATCH /v1/teams/:slug/members/:user_id`: owners and admins; only an owner may make
    /// someone owner or change an owner's role, and the last owner keeps the role.
    pub async fn team_member_update(
        &self,
        principal: &Principal,
        slug: &str,
        member: UserId,
        role: TeamRole,
    ) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let access = self
            .team_access(&mut tx, principal, slug, TeamNeed::Manage)
            .await?;
        let team = access.team.id();
        let current = current_role(&mut tx, team, member).await?;
        if (role == TeamRole::Owner || current == TeamRole::Owner) && access.role < TeamRole::Owner
        {
            return Err(Error::Forbidden);
        }
        if current == TeamRole::Owner && role != TeamRole::Owner {
            keep_an_owner(&mut tx, team, "be demoted").await?;
        }
        if current != role {
            teams::upsert_member(&mut tx, team, member, role).await?;
        }
        audit::record(
            &mut tx,
            principal,
            Entry::new(
                "team.member.update",
                "team_member",
                member,
                &access.team.slug,
            )
            .changes(Changes::new().diff("role", &current.as_str(), &role.as_str())),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a member's role", e))?;
        tracing::info!(team.id = %team, user.id = %member, "team {slug}: member {member} is now {role}");
        Ok(())
    }

    /// `DELETE /v1/teams/:slug/members/:user_id`: owners and admins remove members (admins not
    /// owners); any member may leave; the last owner may do neither.
    pub async fn team_member_remove(
        &self,
        principal: &Principal,
        slug: &str,
        member: UserId,
    ) -> Result<(), Error> {
        let leaving = member == principal.user_id;
        let need = if leaving {
            TeamNeed::Read
        } else {
            TeamNeed::Manage
        };
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let access = self.team_access(&mut tx, principal, slug, need).await?;
        let team = access.team.id();
        let current = current_role(&mut tx, team, member).await?;
        if !leaving && current == TeamRole::Owner && access.role < TeamRole::Owner {
            return Err(Error::Forbidden);
        }
        if current == TeamRole::Owner {
            keep_an_owner(&mut tx, team, "leave or be removed").await?;
        }
        if !teams::remove_member(&mut tx, team, member).await? {
            return Err(Error::not_found(
                ResourceKind::TeamMember,
                member.to_string(),
            ));
        }
        audit::record(
            &mut tx,
            principal,
            Entry::new(
                "team.member.remove",
                "team_member",
                member,
                &access.team.slug,
            )
            .changes(
                Changes::new()
                    .set("role", current.as_str())
                    .set("left", leaving),
            ),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a member's removal", e))?;
        tracing::info!(team.id = %team, user.id = %member, "team {slug}: removed member {member}");
        Ok(())
    }
}
