//! Teams: create (the creator becomes owner), list the caller's teams, view, update, delete, and
//! the one team access check every team use-case starts with.
//!
//! Team roles order power `viewer < member < admin < owner`. A request acts with the caller's
//! membership role narrowed by its `project_cap` (a read-only account acts as viewer, a
//! developer-scoped API token as member at most); platform admins act as owner of every team.
//! A caller who is not a member cannot see the team at all (404, so other tenants' teams are
//! not discoverable); a member without enough power gets 403.

use switchyard_db::PgConnection;
use switchyard_db::repo::teams::{self, TeamRow};
use switchyard_domain::{Email, Error, ResourceKind, Role, Slug, TeamId, TeamRole};

use crate::{
    ControlPlane, Principal,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
    policy::Refusal,
};

/// What a team action needs, by the least team role that may do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TeamNeed {
    /// See the team and its members (any member).
    Read,
    /// Change settings, members and invitations (admin).
    Manage,
    /// Delete the team, grant or take away ownership (owner).
    Own,
}

impl TeamNeed {
    fn role(self) -> TeamRole {
        match self {
            Self::Read => TeamRole::Viewer,
            Self::Manage => TeamRole::Admin,
            Self::Own => TeamRole::Owner,
        }
    }
}

/// A team the caller may act on, and the team role they act with.
#[derive(Debug)]
pub(crate) struct TeamAccess {
    pub(crate) team: TeamRow,
    pub(crate) role: TeamRole,
}

/// The team role a request acts with: the membership role (platform admins: owner), no higher
/// than its `cap` allows (viewer → viewer, developer → member).
pub(crate) fn decide(
    membership: Option<TeamRole>,
    platform_admin: bool,
    cap: Role,
    need: TeamNeed,
) -> Result<TeamRole, Refusal> {
    let role = if platform_admin {
        TeamRole::Owner
    } else {
        membership.ok_or(Refusal::Hidden)?
    };
    let ceiling = match cap {
        Role::Viewer => TeamRole::Viewer,
        Role::Developer => TeamRole::Member,
        Role::Admin => TeamRole::Owner,
    };
    let role = role.min(ceiling);
    if role >= need.role() {
        Ok(role)
    } else {
        Err(Refusal::Insufficient)
    }
}

/// What `team_create` needs, already parsed.
#[derive(Debug)]
pub struct NewTeam {
    pub name: String,
    pub slug: Slug,
    pub description: Option<String>,
    pub billing_email: Option<Email>,
}

impl NewTeam {
    pub fn parse(
        name: &str,
        slug: &str,
        description: Option<&str>,
        billing_email: Option<&str>,
    ) -> Result<Self, Error> {
        Ok(Self {
            name: parse_team_name(name)?,
            slug: Slug::team(slug)?,
            description: description.map(parse_description).transpose()?,
            billing_email: billing_email
                .filter(|e| !e.trim().is_empty())
                .map(parse_billing_email)
                .transpose()?,
        })
    }
}

/// What `team_update` changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct TeamUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub billing_email: Option<Email>,
    pub avatar_url: Option<String>,
}

impl TeamUpdate {
    pub fn parse(
        name: Option<&str>,
        description: Option<&str>,
        billing_email: Option<&str>,
        avatar_url: Option<&str>,
    ) -> Result<Self, Error> {
        Ok(Self {
            name: name.map(parse_team_name).transpose()?,
            description: description.map(parse_description).transpose()?,
            billing_email: billing_email.map(parse_billing_email).transpose()?,
            avatar_url: avatar_url.map(parse_avatar_url).transpose()?,
        })
    }
}

fn parse_team_name(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if (2..=100).contains(&name.chars().count()) {
        Ok(name.to_owned())
    } else {
        Err(Error::invalid("name", "must be 2 to 100 characters"))
    }
}

fn parse_description(raw: &str) -> Result<String, Error> {
    let description = raw.trim();
    if description.chars().count() <= 1000 {
        Ok(description.to_owned())
    } else {
        Err(Error::invalid(
            "description",
            "must be at most 1000 characters",
        ))
    }
}

fn parse_billing_email(raw: &str) -> Result<Email, Error> {
    Email::parse(raw).map_err(|_| Error::invalid("billing_email", "must be a valid e-mail address"))
}

fn parse_avatar_url(raw: &str) -> Result<String, Error> {
    let url = raw.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && !url.chars().any(char::is_whitespace);
    if ok {
        Ok(url.to_owned())
    } else {
        Err(Error::invalid(
            "avatar_url",
            "must be an http(s) URL of at most 2048 characters",
        ))
    }
}

/// A team role named in a request body (`field`), e.g. a member's new role.
pub fn parse_team_role(field: &str, raw: &str) -> Result<TeamRole, Error> {
    raw.trim()
        .parse()
        .map_err(|message: String| Error::invalid(field, message))
}

/// A team's version for `ETag`/`If-Match`: its last change, in microseconds.
pub fn team_version(team: &TeamRow) -> i64 {
    micros(team.updated_at)
}

fn micros(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

impl ControlPlane {
    /// The team `slug`, if `principal` may do `need` in it: 404 for non-members, 403 below
    /// the needed role.
    pub(crate) async fn team_access(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        slug: &str,
        need: TeamNeed,
    ) -> Result<TeamAccess, Error> {
        let hidden = || Error::not_found(ResourceKind::Team, slug);
        let team = teams::find_by_slug(conn, slug, principal.user_id)
            .await?
            .ok_or_else(hidden)?;
        match decide(
            team.role(),
            principal.is_platform_admin(),
            principal.project_cap,
            need,
        ) {
            Ok(role) => Ok(TeamAccess { team, role }),
            Err(Refusal::Hidden) => Err(hidden()),
            Err(Refusal::Insufficient) => Err(Error::Forbidden),
        }
    }

    /// `POST /v1/teams`: any signed-in user who may write (not a read-only account or a
    /// viewer-scoped token); the creator becomes the owner.
    pub async fn team_create(&self, principal: &Principal, new: NewTeam) -> Result<TeamRow, Error> {
        if principal.project_cap == Role::Viewer {
            return Err(Error::Forbidden);
        }
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let id = TeamId::new();
        teams::insert(
            &mut tx,
            &teams::NewTeam {
                id,
                name: &new.name,
                slug: new.slug.as_str(),
                description: new.description.as_deref(),
                billing_email: new.billing_email.as_ref().map(Email::as_str),
            },
        )
        .await?;
        teams::upsert_member(&mut tx, id, principal.user_id, TeamRole::Owner).await?;
        let changes = Changes::new()
            .set("name", &new.name)
            .set("slug", new.slug.as_str())
            .set("description", &new.description)
            .set(
                "billing_email",
                new.billing_email.as_ref().map(Email::as_str),
            );
        audit::record(
            &mut tx,
            principal,
            Entry::new("team.create", "team", id, new.slug.as_str()).changes(changes),
        )
        .await?;
        let team = teams::find_by_slug(&mut tx, new.slug.as_str(), principal.user_id)
            .await?
            .ok_or_else(|| Error::not_found(ResourceKind::Team, new.slug.as_str()))?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a team", e))?;
        tracing::info!(team.id = %id, "created team {}", new.slug);
        Ok(team)
    }

    /// `GET /v1/teams`: the caller's teams, with member counts and roles, in one statement.
    pub async fn team_list(
        &self,
        principal: &Principal,
        page: crate::PageRequest,
    ) -> Result<crate::Page<TeamRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let rows =
            teams::list_for_member(&mut conn, principal.user_id, page.after, page.fetch()).await?;
        Ok(page.finish(rows, |t| t.id))
    }

    /// `GET /v1/teams/:slug`: members (and platform admins).
    pub async fn team_view(&self, principal: &Principal, slug: &str) -> Result<TeamRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        Ok(self
            .team_access(&mut conn, principal, slug, TeamNeed::Read)
            .await?
            .team)
    }

    /// `PATCH /v1/teams/:slug`: owners and admins.
    pub async fn team_update(
        &self,
        principal: &Principal,
        slug: &str,
        update: TeamUpdate,
        if_match: Option<i64>,
    ) -> Result<TeamRow, Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let before = self
            .team_access(&mut tx, principal, slug, TeamNeed::Manage)
            .await?
            .team;
        // Locked, so no other update can slip between this check and ours.
        let current = teams::lock(&mut tx, before.id())
            .await?
            .ok_or_else(|| Error::not_found(ResourceKind::Team, slug))?;
        if if_match.is_some_and(|v| v != micros(current)) {
            return Err(Error::PreconditionFailed);
        }
        let billing_email = update.billing_email.as_ref().map(Email::as_str);
        teams::update(
            &mut tx,
            before.id(),
            &teams::TeamChanges {
                name: update.name.as_deref(),
                description: update.description.as_deref(),
                billing_email,
                avatar_url: update.avatar_url.as_deref(),
            },
        )
        .await?;
        let after = teams::find_by_slug(&mut tx, slug, principal.user_id)
            .await?
            .ok_or_else(|| Error::not_found(ResourceKind::Team, slug))?;
        let changes = Changes::new()
            .diff("name", &before.name, &after.name)
            .diff("description", &before.description, &after.description)
            .diff("billing_email", &before.billing_email, &after.billing_email)
            .diff("avatar_url", &before.avatar_url, &after.avatar_url);
        audit::record(
            &mut tx,
            principal,
            Entry::new("team.update", "team", after.id, &after.slug).changes(changes),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a team update", e))?;
        tracing::info!(team.id = %after.id, "updated team {slug}");
        Ok(after)
    }

    /// `DELETE /v1/teams/:slug`: owners only. Members and invitations go with the team; its
    /// projects stay, without a team.
    pub async fn team_delete(&self, principal: &Principal, slug: &str) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let team = self
            .team_access(&mut tx, principal, slug, TeamNeed::Own)
            .await?
            .team;
        teams::delete(&mut tx, team.id()).await?;
        audit::record(
            &mut tx,
            principal,
            Entry::new("team.delete", "team", team.id, &team.slug)
                .changes(Changes::new().set("name", &team.name)),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a team deletion", e))?;
        tracing::info!(team.id = %team.id, "deleted team {slug}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_members_cannot_see_members_get_their_role() {
        use TeamNeed::*;
        assert_eq!(decide(None, false, Role::Admin, Read), Err(Refusal::Hidden));
        let viewer = Some(TeamRole::Viewer);
        assert_eq!(
            decide(viewer, false, Role::Admin, Read),
            Ok(TeamRole::Viewer)
        );
        assert_eq!(
            decide(viewer, false, Role::Admin, Manage),
            Err(Refusal::Insufficient)
        );
        let admin = Some(TeamRole::Admin);
        assert_eq!(
            decide(admin, false, Role::Admin, Manage),
            Ok(TeamRole::Admin)
        );
        assert_eq!(
            decide(admin, false, Role::Admin, Own),
            Err(Refusal::Insufficient)
        );
        assert_eq!(
            decide(None, true, Role::Admin, Own),
            Ok(TeamRole::Owner),
            "platform admins act as owners"
        );
    }

    #[test]
    fn caps_narrow_the_team_role() {
        let owner = Some(TeamRole::Owner);
        assert_eq!(
            decide(owner, false, Role::Viewer, TeamNeed::Manage),
            Err(Refusal::Insufficient)
        );
        assert_eq!(
            decide(owner, false, Role::Developer, TeamNeed::Read),
            Ok(TeamRole::Member)
        );
        assert_eq!(
            decide(None, true, Role::Developer, TeamNeed::Manage),
            Err(Refusal::Insufficient)
        );
    }

    #[test]
    fn inputs_are_parsed_naming_their_field() {
        let field = |e: Error| match e {
            Error::InvalidInput { field, .. } => field.unwrap_or_default(),
            other => panic!("{other:?}"),
        };
        assert!(NewTeam::parse("Acme", "acme", None, Some("")).is_ok());
        let cases = [
            NewTeam::parse("A", "acme", None, None),
            NewTeam::parse(&"n".repeat(101), "acme", None, None),
            NewTeam::parse("Acme", "-acme", None, None),
            NewTeam::parse("Acme", "acme", Some(&"d".repeat(1001)), None),
            NewTeam::parse("Acme", "acme", None, Some("not-an-email")),
        ];
        let fields: Vec<String> = cases.into_iter().map(|r| field(r.unwrap_err())).collect();
        assert_eq!(
            fields,
            ["name", "name", "slug", "description", "billing_email"]
        );
        let err = TeamUpdate::parse(None, None, None, Some("javascript:alert(1)")).unwrap_err();
        assert_eq!(field(err), "avatar_url");
        assert_eq!(field(parse_team_role("role", "root").unwrap_err()), "role");
        assert_eq!(parse_team_role("role", "owner").unwrap(), TeamRole::Owner);
    }
}
