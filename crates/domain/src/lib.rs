//! Domain nouns and rules shared by every layer: the one `Error` enum. No I/O lives here.

mod error;

pub use error::{Error, ResourceKind};
