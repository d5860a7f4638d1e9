//! The `env_vars` table: a service's variables, global (`environment_id` null) or for one
//! environment, each value stored only as ciphertext under a versioned data key.

use sqlx::PgConnection;
use switchyard_domain::{EnvVarId, EnvironmentId, Error, ResourceKind, ServiceId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

#[derive(Debug, Clone)]
pub struct EnvVarRow {
    pub id: Uuid,
    pub service_id: Uuid,
    pub environment_id: Option<Uuid>,
    pub key: String,
    pub is_secret: bool,
    pub key_version: i32,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl EnvVarRow {
    pub fn id(&self) -> EnvVarId {
        EnvVarId::from_uuid(self.id)
    }

    pub fn environment_id(&self) -> Option<EnvironmentId> {
        self.environment_id.map(EnvironmentId::from_uuid)
    }
}

/// A value as stored: the data key's version, the nonce and the ciphertext.
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub key_version: i32,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

pub struct NewEnvVar<'a> {
    pub id: EnvVarId,
    pub service_id: ServiceId,
    pub environment_id: Option<EnvironmentId>,
    pub key: &'a str,
    pub is_secret: bool,
    pub value: &'a SealedValue,
}

const DUPLICATE: &[(&str, ResourceKind, &str)] = &[(
    "env_vars_service_environment_key_key",
    ResourceKind::EnvVar,
    "with this key for this environment",
)];

pub async fn insert(conn: &mut PgConnection, new: &NewEnvVar<'_>) -> Result<EnvVarRow, Error> {
    sqlx::query_as!(
        EnvVarRow,
        "insert into env_vars (id, service_id, environment_id, key, is_secret, key_version, nonce, ciphertext)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning id, service_id, environment_id, key, is_secret, key_version, nonce, ciphertext,
                   version, created_at, updated_at",
        new.id.as_uuid(),
        new.service_id.as_uuid(),
        new.environment_id.map(|e| e.as_uuid()),
        new.key,
        new.is_secret,
        new.value.key_version,
        new.value.nonce,
        new.value.ciphertext,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("creating an environment variable", DUPLICATE))
}

/// The variable `id` of `service` (none when it belongs to another service).
pub async fn find(
    conn: &mut PgConnection,
    service: ServiceId,
    id: EnvVarId,
) -> Result<Option<EnvVarRow>, Error> {
    sqlx::query_as!(
        EnvVarRow,
        "select id, service_id, environment_id, key, is_secret, key_version, nonce, ciphertext,
                version, created_at, updated_at
         from env_vars where id = $1 and service_id = $2",
        id.as_uuid(),
        service.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading an environment variable", &[]))
}

/// As `find`, locking the row for an update in this transaction.
pub async fn find_for_update(
    conn: &mut PgConnection,
    service: ServiceId,
    id: EnvVarId,
) -> Result<Option<EnvVarRow>, Error> {
    sqlx::query_as!(
        EnvVarRow,
        "select id, service_id, environment_id, key, is_secret, key_version, nonce, ciphertext,
                version, created_at, updated_at
         from env_vars where id = $1 and service_id = $2 for update",
        id.as_uuid(),
        service.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading an environment variable", &[]))
}

/// One page of every variable of a service (global and per environment), in id order.
pub async fn list(
    conn: &mut PgConnection,
    service: ServiceId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<EnvVarRow>, Error> {
    sqlx::query_as!(
        EnvVarRow,
        "select id, service_id, environment_id, key, is_secret, key_version, nonce, ciphertext,
                version, created_at, updated_at
         from env_vars where service_id = $1 and ($2::uuid is null or id > $2)
         order by id limit $3",
        service.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing environment variables", &[]))
}

/// One page of the variables in effect in `environment`: its own, and the global ones whose key
/// it does not set (the environment's value wins), in id order.
pub async fn list_effective(
    conn: &mut PgConnection,
    service: ServiceId,
    environment: EnvironmentId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<EnvVarRow>, Error> {
    sqlx::query_as!(
        EnvVarRow,
        r#"select id as "id!", service_id as "service_id!", environment_id, key as "key!",
                  is_secret as "is_secret!", key_version as "key_version!", nonce as "nonce!",
                  ciphertext as "ciphertext!", version as "version!",
                  created_at as "created_at!", updated_at as "updated_at!"
           from (select distinct on (key) * from env_vars
                 where service_id = $1 and (environment_id = $2 or environment_id is null)
                 order by key, environment_id nulls last) effective
           where ($3::uuid is null or id > $3)
           order by id limit $4"#,
        service.as_uuid(),
        environment.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing environment variables", &[]))
}

/// The variables of `service` in `environment` (`None`: the global ones) with these keys, locked
/// for an upsert in this transaction.
pub async fn find_keys_for_update(
    conn: &mut PgConnection,
    service: ServiceId,
    environment: Option<EnvironmentId>,
    keys: &[String],
) -> Result<Vec<EnvVarRow>, Error> {
    sqlx::query_as!(
        EnvVarRow,
        "select id, service_id, environment_id, key, is_secret, key_version, nonce, ciphertext,
                version, created_at, updated_at
         from env_vars
         where service_id = $1 and environment_id is not distinct from $2 and key = any($3::text[])
         order by id for update",
        service.as_uuid(),
        environment.map(|e| e.as_uuid()),
        keys,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading environment variables", &[]))
}

/// Replaces key, secrecy and value, and bumps the version.
pub async fn update(
    conn: &mut PgConnection,
    id: EnvVarId,
    key: &str,
    is_secret: bool,
    value: &SealedValue,
) -> Result<EnvVarRow, Error> {
    sqlx::query_as!(
        EnvVarRow,
        "update env_vars set key = $2, is_secret = $3, key_version = $4, nonce = $5,
                ciphertext = $6, version = version + 1, updated_at = now()
         where id = $1
         returning id, service_id, environment_id, key, is_secret, key_version, nonce, ciphertext,
                   version, created_at, updated_at",
        id.as_uuid(),
        key,
        is_secret,
        value.key_version,
        value.nonce,
        value.ciphertext,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("updating an environment variable", DUPLICATE))
}

pub async fn delete(conn: &mut PgConnection, id: EnvVarId) -> Result<bool, Error> {
    let done = sqlx::query!("delete from env_vars where id = $1", id.as_uuid())
        .execute(conn)
        .await
        .map_err(translate("deleting an environment variable", &[]))?;
    Ok(done.rows_affected() == 1)
}

/// Up to `limit` variables sealed under a data key other than `version`, locked for re-sealing.
pub async fn under_other_keys(
    conn: &mut PgConnection,
    version: i32,
    limit: i64,
) -> Result<Vec<EnvVarRow>, Error> {
    sqlx::query_as!(
        EnvVarRow,
        "select id, service_id, environment_id, key, is_secret, key_version, nonce, ciphertext,
                version, created_at, updated_at
         from env_vars where key_version <> $1 order by id limit $2 for update",
        version,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("finding variables to re-seal", &[]))
}

/// Stores the same value sealed anew (key rotation): the version (ETag) does not change.
pub async fn reseal(
    conn: &mut PgConnection,
    id: EnvVarId,
    value: &SealedValue,
) -> Result<(), Error> {
    sqlx::query!(
        "update env_vars set key_version = $2, nonce = $3, ciphertext = $4 where id = $1",
        id.as_uuid(),
        value.key_version,
        value.nonce,
        value.ciphertext,
    )
    .execute(conn)
    .await
    .map_err(translate("re-sealing an environment variable", &[]))?;
    Ok(())
}
