//! Repository functions: one statement each, taking `&mut PgConnection` so the caller chooses a
//! pool connection or a transaction. Row structs live next to their functions.

pub mod access;
pub mod api_tokens;
pub mod audit;
pub mod billing_plans;
pub mod dashboard;
pub mod deployments;
pub mod domains;
pub mod env_var_keys;
pub mod env_vars;
pub mod environments;
pub mod github;
pub mod idempotency_keys;
pub mod invitations;
pub mod outbox;
pub mod projects;
pub mod releases;
pub mod services;
pub mod teams;
pub mod usage;
pub mod usage_checks;
pub mod users;

use switchyard_domain::{Error, ResourceKind};

/// Translates a driver error: a violated unique constraint named in `unique` becomes
/// `AlreadyExists`, anything else `Internal` with the statement's `context`.
pub(crate) fn translate(
    context: &'static str,
    unique: &[(&str, ResourceKind, &str)],
) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| {
        if let sqlx::Error::Database(db) = &e
            && let Some(constraint) = db.constraint()
            && let Some((_, kind, name)) = unique.iter().find(|(c, _, _)| *c == constraint)
        {
            return Error::AlreadyExists {
                kind: *kind,
                name: (*name).to_owned(),
            };
        }
        Error::internal(context, e)
    }
}
