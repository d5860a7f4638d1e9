//! The `api_tokens` table. Tokens are found by the SHA-256 of their plaintext only.

use sqlx::PgConnection;
use switchyard_domain::{ApiTokenId, Error, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{translate, users::UserRow};

#[derive(Debug, Clone)]
pub struct ApiTokenRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

pub struct NewApiToken<'a> {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub token_hash: &'a str,
    pub scopes: &'a [String],
    pub expires_at: Option<OffsetDateTime>,
}

pub async fn insert(conn: &mut PgConnection, new: &NewApiToken<'_>) -> Result<ApiTokenRow, Error> {
    sqlx::query_as!(
        ApiTokenRow,
        "insert into api_tokens (id, user_id, name, prefix, token_hash, scopes, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         returning id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at",
        new.id.as_uuid(),
        new.user_id.as_uuid(),
        new.name,
        new.prefix,
        new.token_hash,
        new.scopes,
        new.expires_at,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("creating an API token", &[]))
}

/// Tokens that still work: not revoked and not expired.
pub async fn count_active(conn: &mut PgConnection, user_id: UserId) -> Result<i64, Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "count!" from api_tokens
           where user_id = $1 and revoked_at is null and (expires_at is null or expires_at > now())"#,
        user_id.as_uuid(),
    )
    .fetch_one(conn)
    .await
    .map_err(translate("counting API tokens", &[]))
}

pub async fn list(
    conn: &mut PgConnection,
    user_id: UserId,
    include_revoked: bool,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ApiTokenRow>, Error> {
    sqlx::query_as!(
        ApiTokenRow,
        "select id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at
         from api_tokens where user_id = $1 and ($2 or revoked_at is null)
           and ($3::uuid is null
                or (created_at, id) < (select c.created_at, c.id from api_tokens c where c.id = $3))
         order by created_at desc, id desc
         limit $4",
        user_id.as_uuid(),
        include_revoked,
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing API tokens", &[]))
}

/// One of `user_id`'s tokens; someone else's token is `None`, as if it did not exist.
pub async fn find(
    conn: &mut PgConnection,
    user_id: UserId,
    id: ApiTokenId,
) -> Result<Option<ApiTokenRow>, Error> {
    sqlx::query_as!(
        ApiTokenRow,
        "select id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at
         from api_tokens where id = $1 and user_id = $2",
        id.as_uuid(),
        user_id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading an API token", &[]))
}

/// Revokes one of `user_id`'s live tokens; `false` when there was none.
pub async fn revoke(
    conn: &mut PgConnection,
    user_id: UserId,
    id: ApiTokenId,
) -> Result<bool, Error> {
    sqlx::query!(
        "update api_tokens set revoked_at = now()
         where id = $1 and user_id = $2 and revoked_at is null",
        id.as_uuid(),
        user_id.as_uuid(),
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
    .map_err(translate("revoking an API token", &[]))
}

/// A live (unrevoked, unexpired) token by hash, with its active owner.
pub async fn find_live_by_hash(
    conn: &mut PgConnection,
    token_hash: &str,
) -> Result<Option<(ApiTokenRow, UserRow)>, Error> {
    let row = sqlx::query!(
        r#"select t.id, t.user_id, t.name, t.prefix, t.scopes, t.expires_at, t.last_used_at,
                  t.revoked_at, t.created_at,
                  u.email, u.name as user_name, u.role, u.password_hash, u.active,
                  u.created_at as user_created_at, u.updated_at as user_updated_at, u.last_login_at
           from api_tokens t join users u on u.id = t.user_id
           where t.token_hash = $1 and t.revoked_at is null
             and (t.expires_at is null or t.expires_at > now()) and u.active"#,
        token_hash,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("looking up an API token", &[]))?;
    Ok(row.map(|r| {
        let token = ApiTokenRow {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            created_at: r.created_at,
        };
        let user = UserRow {
            id: r.user_id,
            email: r.email,
            name: r.user_name,
            role: r.role,
            password_hash: r.password_hash,
            active: r.active,
            created_at: r.user_created_at,
            updated_at: r.user_updated_at,
            last_login_at: r.last_login_at,
        };
        (token, user)
    }))
}

pub async fn record_use(conn: &mut PgConnection, id: ApiTokenId) -> Result<(), Error> {
    sqlx::query!(
        "update api_tokens set last_used_at = now() where id = $1",
        id.as_uuid()
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("recording API token use", &[]))
}

/// Whether a token with this hash exists (live or not).
pub async fn exists_by_hash(conn: &mut PgConnection, token_hash: &str) -> Result<bool, Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from api_tokens where token_hash = $1) as "exists!""#,
        token_hash,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("looking up an API token", &[]))
}
