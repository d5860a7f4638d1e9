//! Who is calling: a user, through a session token or an API token, with the role that applies
//! to this request (an API token's scopes can only narrow its owner's role), and where the call
//! came from (for the audit log).

use switchyard_domain::{ApiTokenId, Role, SessionId, UserId};

use crate::UserRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    Session(SessionId),
    ApiToken(ApiTokenId),
    /// A Janua access token (nothing of ours to revoke).
    External,
}

/// Where a request came from, recorded with every audit row. Set by the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub email: String,
    /// The effective platform role for this request.
    pub role: Role,
    /// The most this request may do inside a project, whatever the user's project role: `viewer`
    /// for read-only accounts, the highest scope of a scoped API token, else `admin`.
    pub project_cap: Role,
    pub kind: PrincipalKind,
    pub origin: Origin,
}

impl Principal {
    /// `user` calling through `kind`; `scopes` are the API token's (empty otherwise).
    pub(crate) fn new(user: &UserRow, kind: PrincipalKind, scopes: &[String]) -> Self {
        let account_cap = if user.role() == Role::Viewer {
            Role::Viewer
        } else {
            Role::Admin
        };
        Self {
            user_id: user.id(),
            email: user.email.clone(),
            role: crate::api_tokens::effective_role(user.role(), scopes),
            project_cap: crate::api_tokens::effective_role(account_cap, scopes),
            kind,
            origin: Origin::default(),
        }
    }

    pub fn session_id(&self) -> Option<SessionId> {
        match self.kind {
            PrincipalKind::Session(id) => Some(id),
            PrincipalKind::ApiToken(_) | PrincipalKind::External => None,
        }
    }

    /// Platform admins see and manage every project.
    pub fn is_platform_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
