//! Domain nouns and rules shared by every layer: the one `Error` enum, typed IDs, roles, validated
//! user input. No I/O lives here.

mod error;
mod id;
mod role;
mod slug;
mod team;
mod user;

pub use error::{Error, ResourceKind};
pub use id::{
    ApiTokenId, AuditId, EnvironmentId, InvitationId, ProjectId, SessionId, TeamId, UserId,
};
pub use role::Role;
pub use slug::{EnvName, Slug, parse_namespace};
pub use team::TeamRole;
pub use user::{Email, Password, parse_name};
