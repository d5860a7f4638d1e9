//! `switchyard secrets rotate-key`: re-seals every env var value under a new data key wrapped by
//! the current `ENCLII_ENVVAR_ENCRYPTION_KEY` (see the README for rotating that key itself).

use anyhow::Context as _;

use crate::config::Config;

/// Runs the rotation and returns the report to print.
pub async fn rotate_key(config: &Config, batch: i64, resume: bool) -> anyhow::Result<String> {
    let db = config
        .database
        .as_ref()
        .context("ENCLII_DATABASE_URL (or ENCLII_DB_URL) is not set")?;
    let keys = config
        .envvar_keys
        .keys()
        .context("ENCLII_ENVVAR_ENCRYPTION_KEY is not set: there is nothing to seal with")?;
    let pool = switchyard_db::connect_lazy(db)?;
    let rotation = switchyard_core::rotate_envvar_key(&pool, &keys, batch, resume)
        .await
        .map_err(anyhow::Error::new)
        .context("rotating the env var data key")?;
    Ok(format!(
        "re-sealed {} values under data key {} (wrapped by {}); removed {} unused data keys\n",
        rotation.resealed, rotation.version, rotation.kek_id, rotation.removed_keys
    ))
}
