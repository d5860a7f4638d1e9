//! Domain nouns and rules shared by every layer: the one `Error` enum, typed IDs, roles, validated
//! user input. No I/O lives here.

mod error;
mod id;
mod role;
mod user;

pub use error::{Error, ResourceKind};
pub use id::{ApiTokenId, SessionId, UserId};
pub use role::Role;
pub use user::{Email, Password, parse_name};
