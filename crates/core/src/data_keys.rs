//! The data keys of env var values (envelope encryption, DESIGN.md §5): `Keyring` unwraps the
//! data keys a use-case needs and seals new values under the newest data key wrapped by the
//! current key-encryption key, creating one when there is none; `rotate_envvar_key` (behind
//! `switchyard secrets rotate-key`) re-seals every value under a new data key.

use std::collections::HashMap;

use secrecy::SecretString;
use switchyard_auth::sealing::{AesKey, KeyEncryptionKeys, SealError, Sealed};
use switchyard_db::repo::{
    env_var_keys::{self, DataKeyRow},
    env_vars::{self, EnvVarRow, SealedValue},
};
use switchyard_db::{PgConnection, PgPool};
use switchyard_domain::Error;
use uuid::Uuid;

use crate::{ControlPlane, auth::db_unavailable};

/// The variable that holds the key-encryption key.
pub const ENCRYPTION_KEY_VAR: &str = "ENCLII_ENVVAR_ENCRYPTION_KEY";

impl ControlPlane {
    /// The key-encryption keys, or 503 naming the variable to set (fail closed: there is no
    /// built-in key).
    pub(crate) fn envvar_keys(&self) -> Result<&KeyEncryptionKeys, Error> {
        self.envvar_keys.as_deref().ok_or_else(missing_key)
    }
}

/// 503 naming the variable to set (fail closed: there is no built-in key).
pub(crate) fn missing_key() -> Error {
    Error::Unavailable {
        message: format!(
            "environment variables need an encryption key: set {ENCRYPTION_KEY_VAR} \
             (32 bytes as base64 or hex)"
        ),
        source: None,
    }
}

fn seal_error(context: impl Into<String>) -> impl FnOnce(SealError) -> Error {
    move |e| match e {
        SealError::UnknownKek { .. } => Error::Unavailable {
            message: format!(
                "{e}: set {ENCRYPTION_KEY_VAR}_PREVIOUS to the key used before, then run \
                 `switchyard secrets rotate-key`"
            ),
            source: None,
        },
        other => Error::internal(context, other),
    }
}

/// Data keys unwrapped for one use-case, by version.
pub(crate) struct Keyring<'a> {
    keks: &'a KeyEncryptionKeys,
    open: HashMap<i32, AesKey>,
}

impl<'a> Keyring<'a> {
    pub(crate) fn new(keks: &'a KeyEncryptionKeys) -> Self {
        Self {
            keks,
            open: HashMap::new(),
        }
    }

    fn unwrap_row(&mut self, row: &DataKeyRow) -> Result<(), Error> {
        let wrapped = Sealed {
            nonce: row.nonce.clone(),
            ciphertext: row.wrapped.clone(),
        };
        let key = self
            .keks
            .unwrap(row.version, &row.kek_id, &wrapped)
            .map_err(seal_error("unwrapping a data key"))?;
        self.open.insert(row.version, key);
        Ok(())
    }

    /// The version new values are sealed under: the newest data key wrapped by the current
    /// key-encryption key, created when there is none (the first write, or the first after the
    /// key-encryption key changed).
    pub(crate) async fn current(&mut self, conn: &mut PgConnection) -> Result<i32, Error> {
        let kek_id = self.keks.current_id();
        if let Some(row) = env_var_keys::newest_for(conn, &kek_id).await? {
            self.unwrap_row(&row)?;
            return Ok(row.version);
        }
        env_var_keys::lock_creation(conn).await?;
        // Another writer may have created it while this one waited for the lock.
        if let Some(row) = env_var_keys::newest_for(conn, &kek_id).await? {
            self.unwrap_row(&row)?;
            return Ok(row.version);
        }
        self.create(conn).await
    }

    /// A new data key, wrapped by the current key-encryption key, under the next version. The
    /// caller holds the creation lock (`current` and `rotate_envvar_key` take it).
    async fn create(&mut self, conn: &mut PgConnection) -> Result<i32, Error> {
        let version = env_var_keys::next_version(conn).await?;
        let key = AesKey::generate();
        let wrapped = self
            .keks
            .wrap(version, &key)
            .map_err(seal_error("wrapping a data key"))?;
        let kek_id = self.keks.current_id();
        env_var_keys::insert(conn, version, &kek_id, &wrapped.nonce, &wrapped.ciphertext).await?;
        self.open.insert(version, key);
        tracing::info!(data_key.version = version, "created data key {version}");
        Ok(version)
    }

    /// Unwraps the data keys of `rows` not yet open.
    pub(crate) async fn load<'r>(
        &mut self,
        conn: &mut PgConnection,
        rows: impl IntoIterator<Item = &'r EnvVarRow>,
    ) -> Result<(), Error> {
        let mut missing: Vec<i32> = rows
            .into_iter()
            .map(|r| r.key_version)
            .filter(|v| !self.open.contains_key(v))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        for row in env_var_keys::find_many(conn, &missing).await? {
            self.unwrap_row(&row)?;
        }
        Ok(())
    }

    fn key(&self, version: i32) -> Result<&AesKey, Error> {
        self.open.get(&version).ok_or_else(|| Error::Internal {
            context: format!("data key {version} was not loaded"),
            source: None,
        })
    }

    /// `value` of the variable `key` in row `row`, sealed under data key `version`.
    pub(crate) fn seal(
        &self,
        version: i32,
        row: Uuid,
        key: &str,
        value: &SecretString,
    ) -> Result<SealedValue, Error> {
        let sealed = self
            .key(version)?
            .seal_value(row, key, value)
            .map_err(seal_error("sealing a value"))?;
        Ok(SealedValue {
            key_version: version,
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
        })
    }

    /// The plain value of `row` (its data key must be loaded).
    pub(crate) fn open(&self, row: &EnvVarRow) -> Result<SecretString, Error> {
        let sealed = Sealed {
            nonce: row.nonce.clone(),
            ciphertext: row.ciphertext.clone(),
        };
        self.key(row.key_version)?
            .open_value(row.id, &row.key, &sealed)
            .map_err(seal_error(format!(
                "decrypting environment variable {}",
                row.id
            )))
    }
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The data key every value is now sealed under.
    pub version: i32,
    /// The fingerprint of the key-encryption key that wraps it.
    pub kek_id: String,
    pub resealed: u64,
    /// Data keys removed because nothing used them any more.
    pub removed_keys: u64,
}

/// Re-seals every env var value under one data key wrapped by the current key-encryption key,
/// `batch` rows per transaction. A new data key is created unless `resume` is set and the
/// newest data key is already wrapped by the current key (then an interrupted rotation goes
/// on where it stopped). Running it again is harmless. Afterwards the data keys no value
/// uses are deleted, so `ENCLII_ENVVAR_ENCRYPTION_KEY_PREVIOUS` can be dropped. A free
/// function: `switchyard secrets rotate-key` needs only the database and the keys.
pub async fn rotate_envvar_key(
    pool: &PgPool,
    keks: &KeyEncryptionKeys,
    batch: i64,
    resume: bool,
) -> Result<Rotation, Error> {
    let mut ring = Keyring::new(keks);
    let mut tx = pool.begin().await.map_err(db_unavailable)?;
    env_var_keys::lock_creation(&mut tx).await?;
    let version = match env_var_keys::newest_for(&mut tx, &keks.current_id()).await? {
        Some(row) if resume && env_var_keys::next_version(&mut tx).await? == row.version + 1 => {
            ring.unwrap_row(&row)?;
            row.version
        }
        _ => ring.create(&mut tx).await?,
    };
    tx.commit()
        .await
        .map_err(|e| Error::internal("committing a data key", e))?;
    let mut resealed = 0;
    loop {
        let mut tx = pool.begin().await.map_err(db_unavailable)?;
        let rows = env_vars::under_other_keys(&mut tx, version, batch.max(1)).await?;
        if rows.is_empty() {
            break;
        }
        ring.load(&mut tx, &rows).await?;
        for row in &rows {
            let value = ring.open(row)?;
            let sealed = ring.seal(version, row.id, &row.key, &value)?;
            env_vars::reseal(&mut tx, row.id(), &sealed).await?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing re-sealed values", e))?;
        resealed += rows.len() as u64;
        tracing::info!(
            data_key.version = version,
            "re-sealed {resealed} values so far"
        );
    }
    let mut conn = pool.acquire().await.map_err(db_unavailable)?;
    let removed_keys = env_var_keys::delete_unused(&mut conn, version).await?;
    Ok(Rotation {
        version,
        kek_id: keks.current_id(),
        resealed,
        removed_keys,
    })
}
