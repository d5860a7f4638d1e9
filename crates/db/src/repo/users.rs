//! The `users` table.

use sqlx::PgConnection;
use switchyard_domain::{Error, ResourceKind, Role, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub last_login_at: Option<OffsetDateTime>,
}

impl UserRow {
    pub fn id(&self) -> UserId {
        UserId::from_uuid(self.id)
    }

    /// The stored role; a value outside the check constraint cannot occur, but reads as viewer.
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::Viewer)
    }
}

/// A user created by local registration.
pub struct NewLocalUser<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

pub async fn insert_local(
    conn: &mut PgConnection,
    new: &NewLocalUser<'_>,
) -> Result<UserRow, Error> {
    sqlx::query_as!(
        UserRow,
        "insert into users (id, email, name, role, password_hash)
         values ($1, $2, $3, $4, $5)
         returning id, email, name, role, password_hash, active, created_at, updated_at, last_login_at",
        new.id.as_uuid(),
        new.email,
        new.name,
        new.role.as_str(),
        new.password_hash,
    )
    .fetch_one(conn)
    .await
    .map_err(translate(
        "creating a user",
        &[("users_email_key", ResourceKind::User, "with this email")],
    ))
}

/// Case-insensitive lookup by e-mail.
pub async fn find_by_email(conn: &mut PgConnection, email: &str) -> Result<Option<UserRow>, Error> {
    sqlx::query_as!(
        UserRow,
        "select id, email, name, role, password_hash, active, created_at, updated_at, last_login_at
         from users where lower(email) = lower($1)",
        email,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a user by email", &[]))
}

pub async fn find(conn: &mut PgConnection, id: UserId) -> Result<Option<UserRow>, Error> {
    sqlx::query_as!(
        UserRow,
        "select id, email, name, role, password_hash, active, created_at, updated_at, last_login_at
         from users where id = $1",
        id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a user", &[]))
}

/// Stamps `last_login_at` and returns the updated user.
pub async fn record_login(conn: &mut PgConnection, id: UserId) -> Result<UserRow, Error> {
    sqlx::query_as!(
        UserRow,
        "update users set last_login_at = now() where id = $1
         returning id, email, name, role, password_hash, active, created_at, updated_at, last_login_at",
        id.as_uuid(),
    )
    .fetch_one(conn)
    .await
    .map_err(translate("recording a login", &[]))
}

/// Creates (or promotes to admin) the user with `email`, without a password: the account the
/// bootstrap API token of `switchyard dev` belongs to.
pub async fn upsert_admin(
    conn: &mut PgConnection,
    id: UserId,
    email: &str,
) -> Result<UserRow, Error> {
    sqlx::query_as!(
        UserRow,
        "insert into users (id, email, name, role) values ($1, $2, 'Bootstrap admin', 'admin')
         on conflict ((lower(email))) do update set role = 'admin', updated_at = now()
         returning id, email, name, role, password_hash, active, created_at, updated_at, last_login_at",
        id.as_uuid(),
        email,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("ensuring the bootstrap admin", &[]))
}

/// The user who signed in before with this identity-provider account.
pub async fn find_by_identity(
    conn: &mut PgConnection,
    issuer: &str,
    subject: &str,
) -> Result<Option<UserRow>, Error> {
    sqlx::query_as!(
        UserRow,
        "select id, email, name, role, password_hash, active, created_at, updated_at, last_login_at
         from users where oidc_issuer = $1 and oidc_subject = $2",
        issuer,
        subject,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a user by identity", &[]))
}

/// Links an identity-provider account to an existing user (found by verified e-mail).
pub async fn link_identity(
    conn: &mut PgConnection,
    id: UserId,
    issuer: &str,
    subject: &str,
) -> Result<UserRow, Error> {
    sqlx::query_as!(
        UserRow,
        "update users set oidc_issuer = $2, oidc_subject = $3, updated_at = now() where id = $1
         returning id, email, name, role, password_hash, active, created_at, updated_at, last_login_at",
        id.as_uuid(),
        issuer,
        subject,
    )
    .fetch_one(conn)
    .await
    .map_err(translate(
        "linking an identity",
        &[("users_oidc_identity_key", ResourceKind::User, "with this identity")],
    ))
}

/// A user created just in time from an identity-provider account.
pub struct NewIdentityUser<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub issuer: &'a str,
    pub subject: &'a str,
}

pub async fn insert_identity(
    conn: &mut PgConnection,
    new: &NewIdentityUser<'_>,
) -> Result<UserRow, Error> {
    sqlx::query_as!(
        UserRow,
        "insert into users (id, email, name, role, oidc_issuer, oidc_subject)
         values ($1, $2, $3, $4, $5, $6)
         returning id, email, name, role, password_hash, active, created_at, updated_at, last_login_at",
        new.id.as_uuid(),
        new.email,
        new.name,
        new.role.as_str(),
        new.issuer,
        new.subject,
    )
    .fetch_one(conn)
    .await
    .map_err(translate(
        "creating a user from an identity",
        &[
            ("users_email_key", ResourceKind::User, "with this email"),
            ("users_oidc_identity_key", ResourceKind::User, "with this identity"),
        ],
    ))
}
