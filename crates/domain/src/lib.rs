//! Domain nouns and rules shared by every layer: the one `Error` enum, roles. No I/O lives here.

mod error;
mod role;

pub use error::{Error, ResourceKind};
pub use role::Role;
