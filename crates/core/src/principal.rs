//! Who is calling: a user, through a session token or an API token, with the role that applies
//! to this request (an API token's scopes can only narrow its owner's role).

use switchyard_domain::{ApiTokenId, Role, SessionId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    Session(SessionId),
    ApiToken(ApiTokenId),
    /// A Janua access token (nothing of ours to revoke).
    External,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub email: String,
    /// The effective role for this request.
    pub role: Role,
    pub kind: PrincipalKind,
}

impl Principal {
    pub fn session_id(&self) -> Option<SessionId> {
        match self.kind {
            PrincipalKind::Session(id) => Some(id),
            PrincipalKind::ApiToken(_) | PrincipalKind::External => None,
        }
    }
}
