//! The `idempotency_keys` table: one row per (caller scope, `Idempotency-Key`), `pending` while its
//! request runs, then `done` with the response or `withheld` without it. Expired rows count as
//! absent everywhere.

use serde_json::Value;
use sqlx::PgConnection;
use switchyard_domain::Error;
use time::OffsetDateTime;

use super::translate;

/// What identifies a request under a key: the caller's scope, the key, and the request itself.
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub request_hash: &'a str,
}

#[derive(Debug, Clone)]
pub struct IdempotencyKeyRow {
    pub method: String,
    pub path: String,
    pub request_hash: String,
    pub status: String,
    pub response_status: Option<i16>,
    pub response_headers: Value,
    pub response_body: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Claims the key with a `pending` row that expires after `lease_secs`: inserts it, or replaces
/// an expired row. `false` when a live row holds the key.
pub async fn claim(
    conn: &mut PgConnection,
    key: KeyRef<'_>,
    method: &str,
    path: &str,
    lease_secs: f64,
) -> Result<bool, Error> {
    sqlx::query_scalar!(
        r#"insert into idempotency_keys (scope, key, method, path, request_hash, status, expires_at)
           values ($1, $2, $3, $4, $5, 'pending', now() + make_interval(secs => $6))
           on conflict (scope, key) do update
             set method = excluded.method, path = excluded.path,
                 request_hash = excluded.request_hash, status = 'pending',
                 response_status = null, response_headers = '{}', response_body = null,
                 created_at = now(), expires_at = excluded.expires_at
             where idempotency_keys.expires_at <= now()
           returning true as "claimed!""#,
        key.scope,
        key.key,
        method,
        path,
        key.request_hash,
        lease_secs,
    )
    .fetch_optional(conn)
    .await
    .map(|claimed| claimed.is_some())
    .map_err(translate("claiming an idempotency key", &[]))
}

/// The live row holding a key, if any.
pub async fn find(
    conn: &mut PgConnection,
    scope: &str,
    key: &str,
) -> Result<Option<IdempotencyKeyRow>, Error> {
    sqlx::query_as!(
        IdempotencyKeyRow,
        "select method, path, request_hash, status, response_status, response_headers,
                response_body, created_at, expires_at
         from idempotency_keys where scope = $1 and key = $2 and expires_at > now()",
        scope,
        key,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading an idempotency key", &[]))
}

/// The outcome kept for a key: `done` with the response, or `withheld` (status only, no headers or
/// body) when the response carried a secret.
pub struct Completion<'a> {
    pub response_status: i16,
    /// `None` makes the row `withheld`.
    pub response: Option<(&'a Value, &'a [u8])>,
    pub ttl_secs: f64,
}

/// Completes this request's `pending` row; `false` when it no longer holds the key (its lease ran
/// out and another request took it over).
pub async fn complete(
    conn: &mut PgConnection,
    key: KeyRef<'_>,
    completion: &Completion<'_>,
) -> Result<bool, Error> {
    let (status, headers, body) = match completion.response {
        Some((headers, body)) => ("done", Some(headers), Some(body)),
        None => ("withheld", None, None),
    };
    sqlx::query!(
        "update idempotency_keys
         set status = $4, response_status = $5, response_headers = coalesce($6::jsonb, '{}'::jsonb),
             response_body = $7, expires_at = now() + make_interval(secs => $8)
         where scope = $1 and key = $2 and request_hash = $3 and status = 'pending'",
        key.scope,
        key.key,
        key.request_hash,
        status,
        completion.response_status,
        headers,
        body,
        completion.ttl_secs,
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
    .map_err(translate("completing an idempotency key", &[]))
}

/// Deletes this request's `pending` row so the key can be used again.
pub async fn release(conn: &mut PgConnection, key: KeyRef<'_>) -> Result<bool, Error> {
    sqlx::query!(
        "delete from idempotency_keys
         where scope = $1 and key = $2 and request_hash = $3 and status = 'pending'",
        key.scope,
        key.key,
        key.request_hash,
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
    .map_err(translate("releasing an idempotency key", &[]))
}

/// Deletes at most `limit` expired rows; returns how many.
pub async fn delete_expired(conn: &mut PgConnection, limit: i64) -> Result<u64, Error> {
    sqlx::query!(
        "delete from idempotency_keys where ctid = any(array(
             select ctid from idempotency_keys where expires_at <= now() limit $1))",
        limit,
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    .map_err(translate("deleting expired idempotency keys", &[]))
}
