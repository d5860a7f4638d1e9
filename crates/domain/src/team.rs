//! Team roles, ordered by power (`viewer < member < admin < owner`), and the project role a
//! team role grants on the team's projects.

use std::{fmt, str::FromStr};

use crate::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TeamRole {
    Viewer,
    Member,
    Admin,
    Owner,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    /// What membership grants on the team's projects.
    pub fn project_role(self) -> Role {
        match self {
            Self::Viewer => Role::Viewer,
            Self::Member => Role::Developer,
            Self::Admin | Self::Owner => Role::Admin,
        }
    }

    /// Owners and admins manage the team (members, invitations, settings).
    pub fn manages(self) -> bool {
        self >= Self::Admin
    }
}

impl fmt::Display for TeamRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TeamRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Self::Viewer),
            "member" => Ok(Self::Member),
            "admin" => Ok(Self::Admin),
            "owner" => Ok(Self::Owner),
            other => Err(format!(
                "unknown team role {other:?} (expected owner, admin, member or viewer)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_roles_map_to_project_roles() {
        assert_eq!(TeamRole::Owner.project_role(), Role::Admin);
        assert_eq!(TeamRole::Admin.project_role(), Role::Admin);
        assert_eq!(TeamRole::Member.project_role(), Role::Developer);
        assert_eq!(TeamRole::Viewer.project_role(), Role::Viewer);
        assert!(TeamRole::Admin.manages() && !TeamRole::Member.manages());
        for r in [
            TeamRole::Viewer,
            TeamRole::Member,
            TeamRole::Admin,
            TeamRole::Owner,
        ] {
            assert_eq!(r.as_str().parse::<TeamRole>(), Ok(r));
        }
        assert!("superadmin".parse::<TeamRole>().is_err());
    }
}
