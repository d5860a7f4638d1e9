//! Where env var values arrive or leave in the clear: the bulk upsert of the CLI's
//! `secrets set` (one transaction, all or nothing), revealing one secret (rate limited per caller,
//! audited with the caller's reason), and the decrypted set in effect for the renderer.

use std::collections::HashMap;

use switchyard_db::repo::env_vars::{self, NewEnvVar};
use switchyard_domain::{EnvVarBulk, EnvVarId, EnvironmentId, Error, ServiceId};

use crate::{
    ControlPlane, EffectiveVar, EnvVar, Need, Principal,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
    data_keys::Keyring,
    env_vars::view,
    rate_limit::ENV_VAR_REVEAL,
};

impl ControlPlane {
    /// `POST /v1/services/:id/env-vars/bulk`: creates or replaces each variable (by key, in
    /// `bulk.environment_id` or globally) in one transaction, recorded as one audit row naming
    /// the keys. Returns the variables as stored, masked, in request order.
    pub async fn env_var_bulk_upsert(
        &self,
        principal: &Principal,
        id: ServiceId,
        bulk: EnvVarBulk,
    ) -> Result<Vec<EnvVar>, Error> {
        let mut ring = Keyring::new(self.envvar_keys()?);
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let env = bulk.environment_id;
        let service = self
            .env_var_service(&mut tx, principal, id, env, Need::Write)
            .await?;
        let keys: Vec<String> = bulk
            .variables
            .iter()
            .map(|v| v.key.as_str().to_owned())
            .collect();
        let existing: HashMap<String, _> = env_vars::find_keys_for_update(&mut tx, id, env, &keys)
            .await?
            .into_iter()
            .map(|row| (row.key.clone(), row))
            .collect();
        let version = ring.current(&mut tx).await?;
        let (mut created, mut updated, mut stored) = (Vec::new(), Vec::new(), Vec::new());
        for variable in &bulk.variables {
            let key = variable.key.as_str();
            let row = match existing.get(key) {
                Some(row) => {
                    let sealed = ring.seal(version, row.id, key, variable.value.secret())?;
                    updated.push(key);
                    env_vars::update(&mut tx, row.id(), key, variable.is_secret, &sealed).await?
                }
                None => {
                    let var = EnvVarId::new();
                    let sealed = ring.seal(version, var.as_uuid(), key, variable.value.secret())?;
                    created.push(key);
                    let new = NewEnvVar {
                        id: var,
                        service_id: id,
                        environment_id: env,
                        key,
                        is_secret: variable.is_secret,
                        value: &sealed,
                    };
                    env_vars::insert(&mut tx, &new).await?
                }
            };
            stored.push(view(&ring, row, false)?);
        }
        let changes = Changes::new()
            .set("environment_id", env)
            .set("created", &created)
            .set("updated", &updated)
            .secret("values");
        audit::record(
            &mut tx,
            principal,
            Entry::new(
                "env_var.bulk_upsert",
                "env_var",
                id,
                &service.service.spec.name,
            )
            .project(service.project.id())
            .environment(env)
            .changes(changes),
        )
        .await?;
        crate::deployments::refresh_applied(&mut tx, id, env).await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing environment variables", e))?;
        tracing::info!(service.id = %id, "upserted {} environment variables", stored.len());
        Ok(stored)
    }

    /// `POST /v1/services/:id/env-vars/:var_id/reveal` (developers): the plain value, at most
    /// 30 times a minute per caller, each time audited with who asked, from where and why.
    pub async fn env_var_reveal(
        &self,
        principal: &Principal,
        (id, var): (ServiceId, EnvVarId),
        reason: Option<String>,
    ) -> Result<EnvVar, Error> {
        let mut ring = Keyring::new(self.envvar_keys()?);
        self.rate_limit(&ENV_VAR_REVEAL, &principal.user_id.to_string())
            .await?;
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let (service, row) = self
            .env_var_authorized(&mut tx, principal, (id, var), Need::Write, false)
            .await?;
        ring.load(&mut tx, [&row]).await?;
        let mut entry = Entry::new("env_var.reveal", "env_var", var, &row.key)
            .project(service.project.id())
            .environment(row.environment_id())
            .changes(Changes::new().flag("is_secret", None, row.is_secret));
        if let Some(reason) = reason {
            entry = entry.metadata("reason", reason);
        }
        audit::record(&mut tx, principal, entry).await?;
        let revealed = view(&ring, row, true)?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a reveal", e))?;
        tracing::info!(env_var.id = %var, "revealed environment variable {}", revealed.key);
        Ok(revealed)
    }

    /// The variables in effect for `service` in `environment`, decrypted (its own beat global
    /// ones of the same key), in key order. For the renderer: no caller to authorize.
    pub async fn effective_env(
        &self,
        service: ServiceId,
        environment: EnvironmentId,
    ) -> Result<Vec<EffectiveVar>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        effective_env(&mut conn, self.envvar_keys.as_deref(), service, environment).await
    }
}

/// The variables in effect for `service` in `environment`, decrypted, in key order. Without
/// `keys` only a service with no variables has its (empty) answer; otherwise 503 naming the key.
pub(crate) async fn effective_env(
    conn: &mut switchyard_db::PgConnection,
    keys: Option<&switchyard_auth::sealing::KeyEncryptionKeys>,
    service: ServiceId,
    environment: EnvironmentId,
) -> Result<Vec<EffectiveVar>, Error> {
    let mut rows = env_vars::list_effective(conn, service, environment, None, i64::MAX).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys = keys.ok_or_else(crate::data_keys::missing_key)?;
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let mut ring = Keyring::new(keys);
    ring.load(conn, &rows).await?;
    rows.into_iter()
        .map(|row| {
            Ok(EffectiveVar {
                value: ring.open(&row)?,
                key: row.key,
                is_secret: row.is_secret,
            })
        })
        .collect()
}
