//! The `env_var_keys` table: data keys (DEKs) by version, each stored wrapped by the key-encryption
//! key named by `kek_id`. Rows are never changed; unused ones are deleted after a rotation.

use sqlx::PgConnection;
use switchyard_domain::Error;
use time::OffsetDateTime;

use super::translate;

#[derive(Debug, Clone)]
pub struct DataKeyRow {
    pub version: i32,
    pub kek_id: String,
    pub nonce: Vec<u8>,
    pub wrapped: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// Serialises the creation of data keys until the end of the transaction, so two writers never
/// pick the same next version.
pub async fn lock_creation(conn: &mut PgConnection) -> Result<(), Error> {
    sqlx::query!("select pg_advisory_xact_lock(hashtext('env_var_keys.create'))")
        .execute(conn)
        .await
        .map_err(translate("locking data key creation", &[]))?;
    Ok(())
}

/// The newest data key wrapped by the key-encryption key `kek_id`.
pub async fn newest_for(
    conn: &mut PgConnection,
    kek_id: &str,
) -> Result<Option<DataKeyRow>, Error> {
    sqlx::query_as!(
        DataKeyRow,
        "select version, kek_id, nonce, wrapped, created_at from env_var_keys
         where kek_id = $1 order by version desc limit 1",
        kek_id,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading the current data key", &[]))
}

/// The version the next data key takes.
pub async fn next_version(conn: &mut PgConnection) -> Result<i32, Error> {
    let next =
        sqlx::query_scalar!(r#"select coalesce(max(version), 0) + 1 as "next!" from env_var_keys"#)
            .fetch_one(conn)
            .await
            .map_err(translate("numbering a data key", &[]))?;
    Ok(next)
}

/// Stores data key `version` as wrapped (under `nonce`) by the key named `kek_id`.
pub async fn insert(
    conn: &mut PgConnection,
    version: i32,
    kek_id: &str,
    nonce: &[u8],
    wrapped: &[u8],
) -> Result<DataKeyRow, Error> {
    sqlx::query_as!(
        DataKeyRow,
        "insert into env_var_keys (version, kek_id, nonce, wrapped) values ($1, $2, $3, $4)
         returning version, kek_id, nonce, wrapped, created_at",
        version,
        kek_id,
        nonce,
        wrapped,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("storing a data key", &[]))
}

/// The data keys of `versions`.
pub async fn find_many(
    conn: &mut PgConnection,
    versions: &[i32],
) -> Result<Vec<DataKeyRow>, Error> {
    sqlx::query_as!(
        DataKeyRow,
        "select version, kek_id, nonce, wrapped, created_at from env_var_keys
         where version = any($1::int4[])",
        versions,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading data keys", &[]))
}

/// Deletes every data key no variable uses, except `keep`; returns how many went.
pub async fn delete_unused(conn: &mut PgConnection, keep: i32) -> Result<u64, Error> {
    let done = sqlx::query!(
        "delete from env_var_keys k where k.version <> $1
           and not exists (select 1 from env_vars v where v.key_version = k.version)",
        keep,
    )
    .execute(conn)
    .await
    .map_err(translate("deleting unused data keys", &[]))?;
    Ok(done.rows_affected())
}
