//! The one policy function: what a caller may do in a project. Every project-scoped use-case
//! calls `ControlPlane::authorize`; nothing else reads grants.
//!
//! Power in a project comes from platform admin (everything), direct `project_access` grants
//! (project-wide, or limited to one environment) and membership of the project's team (owner and
//! admin → admin, member → developer, viewer → viewer). The highest applicable role wins, then
//! the request's `project_cap` (read-only account, scoped API token) lowers it. No power at all
//! reads as "no such project" (404) so other tenants' projects cannot be discovered; power below
//! what the action needs is 403.

use switchyard_db::PgConnection;
use switchyard_db::repo::{access, access::GrantRow, projects, projects::ProjectRow};
use switchyard_domain::{EnvironmentId, Error, ResourceKind, Role, TeamRole};

use crate::{ControlPlane, Principal};

/// What an action needs, named by what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read the project and its resources (project viewer).
    Read,
    /// Change resources, deploy, reveal secrets (project developer).
    Write,
    /// Delete the project, manage access (project admin).
    Manage,
}

impl Need {
    fn role(self) -> Role {
        match self {
            Self::Read => Role::Viewer,
            Self::Write => Role::Developer,
            Self::Manage => Role::Admin,
        }
    }
}

/// A project the caller may act on, with the role they act with.
#[derive(Debug, Clone)]
pub struct Authorized {
    pub project: ProjectRow,
    pub role: Role,
}

/// Why access is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a member at all: the project is invisible.
    Hidden,
    /// A member without enough power.
    Insufficient,
}

/// The decision, pure: `grants` are everything that gives the caller power over the project,
/// `environment` the environment the action touches (if any).
pub(crate) fn decide(
    principal: &Principal,
    grants: &[GrantRow],
    environment: Option<EnvironmentId>,
    need: Need,
) -> Result<Role, Refusal> {
    let from_grants = grants
        .iter()
        .filter_map(|g| grant_role(g, environment))
        .max();
    let role = if principal.is_platform_admin() {
        Some(Role::Admin)
    } else {
        from_grants
    };
    let role = role.ok_or(Refusal::Hidden)?.min(principal.project_cap);
    if role >= need.role() {
        Ok(role)
    } else {
        Err(Refusal::Insufficient)
    }
}

/// The role one grant gives for an action on `environment` (None: the project itself).
fn grant_role(grant: &GrantRow, environment: Option<EnvironmentId>) -> Option<Role> {
    if grant.team {
        return grant
            .role
            .parse::<TeamRole>()
            .ok()
            .map(TeamRole::project_role);
    }
    let role = grant.role.parse::<Role>().ok()?;
    match (grant.environment_id, environment) {
        (None, _) => Some(role),
        (Some(granted), Some(wanted)) if granted == wanted.as_uuid() => Some(role),
        // A grant on one environment makes the project visible, read-only.
        (Some(_), _) => Some(Role::Viewer),
    }
}

impl ControlPlane {
    /// The project `slug`, if `principal` may do `need` in it (on `environment`, when the action
    /// touches one).
    pub(crate) async fn authorize(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        slug: &str,
        environment: Option<EnvironmentId>,
        need: Need,
    ) -> Result<Authorized, Error> {
        let hidden = || Error::not_found(ResourceKind::Project, slug);
        let project = projects::find_by_slug(conn, slug)
            .await?
            .ok_or_else(hidden)?;
        self.authorize_row(conn, principal, project, environment, need, hidden)
            .await
    }

    /// As `authorize`, for a project reached through one of its resources; `hidden` is the
    /// error a non-member gets (naming what they asked for, never the project).
    pub(crate) async fn authorize_row(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        project: ProjectRow,
        environment: Option<EnvironmentId>,
        need: Need,
        hidden: impl FnOnce() -> Error,
    ) -> Result<Authorized, Error> {
        let grants = access::grants(conn, principal.user_id, project.id()).await?;
        match decide(principal, &grants, environment, need) {
            Ok(role) => Ok(Authorized { project, role }),
            Err(Refusal::Hidden) => Err(hidden()),
            Err(Refusal::Insufficient) => Err(Error::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use switchyard_domain::UserId;
    use uuid::Uuid;

    use super::*;
    use crate::{Origin, PrincipalKind};

    fn principal(role: Role, cap: Role) -> Principal {
        Principal {
            user_id: UserId::new(),
            email: "p@example.com".into(),
            role,
            project_cap: cap,
            kind: PrincipalKind::External,
            origin: Origin::default(),
        }
    }

    fn direct(role: &str, env: Option<Uuid>) -> GrantRow {
        GrantRow {
            role: role.into(),
            environment_id: env,
            team: false,
        }
    }

    fn team(role: &str) -> GrantRow {
        GrantRow {
            role: role.into(),
            environment_id: None,
            team: true,
        }
    }

    #[test]
    fn non_members_cannot_see_members_get_what_their_role_allows() {
        let dev = principal(Role::Developer, Role::Admin);
        assert_eq!(decide(&dev, &[], None, Need::Read), Err(Refusal::Hidden));
        let viewer = [direct("viewer", None)];
        assert_eq!(decide(&dev, &viewer, None, Need::Read), Ok(Role::Viewer));
        assert_eq!(
            decide(&dev, &viewer, None, Need::Write),
            Err(Refusal::Insufficient)
        );
        let admin = [direct("admin", None)];
        assert_eq!(decide(&dev, &admin, None, Need::Manage), Ok(Role::Admin));
    }

    #[test]
    fn team_roles_map_and_the_highest_grant_wins() {
        let dev = principal(Role::Developer, Role::Admin);
        assert_eq!(
            decide(&dev, &[team("member")], None, Need::Write),
            Ok(Role::Developer)
        );
        assert_eq!(
            decide(&dev, &[team("member")], None, Need::Manage),
            Err(Refusal::Insufficient)
        );
        assert_eq!(
            decide(
                &dev,
                &[team("owner"), direct("viewer", None)],
                None,
                Need::Manage
            ),
            Ok(Role::Admin)
        );
        assert_eq!(
            decide(&dev, &[team("viewer")], None, Need::Write),
            Err(Refusal::Insufficient)
        );
    }

    #[test]
    fn environment_grants_apply_to_their_environment_only() {
        let dev = principal(Role::Developer, Role::Admin);
        let staging = Uuid::now_v7();
        let grants = [direct("developer", Some(staging))];
        let env = |id| Some(EnvironmentId::from_uuid(id));
        assert_eq!(
            decide(&dev, &grants, env(staging), Need::Write),
            Ok(Role::Developer)
        );
        assert_eq!(
            decide(&dev, &grants, env(Uuid::now_v7()), Need::Write),
            Err(Refusal::Insufficient)
        );
        assert_eq!(decide(&dev, &grants, None, Need::Read), Ok(Role::Viewer));
    }

    #[test]
    fn caps_narrow_and_platform_admins_see_everything() {
        let admin = principal(Role::Admin, Role::Admin);
        assert_eq!(decide(&admin, &[], None, Need::Manage), Ok(Role::Admin));
        let scoped = principal(Role::Developer, Role::Viewer);
        let owner = [direct("admin", None)];
        assert_eq!(decide(&scoped, &owner, None, Need::Read), Ok(Role::Viewer));
        assert_eq!(
            decide(&scoped, &owner, None, Need::Write),
            Err(Refusal::Insufficient)
        );
        let scoped_admin = principal(Role::Viewer, Role::Viewer);
        assert_eq!(
            decide(&scoped_admin, &[], None, Need::Read),
            Err(Refusal::Hidden),
            "a scoped admin token is not a platform admin"
        );
    }
}
