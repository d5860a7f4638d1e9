//! Environment variables of a service: list (the effective set of one environment, where its own
//! variables beat global ones), create, view, update (guarded by `If-Match`), delete, bulk upsert
//! and reveal. A variable is only reachable under its own service (another service's variable id
//! is 404). Values are sealed by `data_keys`; secrets leave only through `env_var_reveal`, which
//! is rate limited and audited with its reason. Audit rows say a value changed, never to what.

use secrecy::SecretString;
use switchyard_db::PgConnection;
use switchyard_db::repo::{
    env_vars::{self, EnvVarRow, NewEnvVar},
    environments,
};
use switchyard_domain::{
    EnvKey, EnvVarCreate, EnvVarId, EnvVarUpdate, EnvironmentId, Error, ResourceKind, ServiceId,
};
use time::OffsetDateTime;

use crate::{
    ControlPlane, Need, Page, PageRequest, Principal, ServiceInProject,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
    data_keys::Keyring,
};

/// An environment variable as callers see it.
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub id: EnvVarId,
    pub service_id: ServiceId,
    /// `None`: every environment of the service.
    pub environment_id: Option<EnvironmentId>,
    pub key: String,
    pub is_secret: bool,
    /// The plain value; `None` for a secret that was not revealed (shown masked).
    pub value: Option<SecretString>,
    /// The ETag.
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One variable in effect for a (service, environment), decrypted, for the renderer.
#[derive(Debug, Clone)]
pub struct EffectiveVar {
    pub key: String,
    pub value: SecretString,
    pub is_secret: bool,
}

/// `row` as callers see it: its value opened when it is not a secret or `reveal` is set.
pub(crate) fn view(ring: &Keyring<'_>, row: EnvVarRow, reveal: bool) -> Result<EnvVar, Error> {
    let value = if reveal || !row.is_secret {
        Some(ring.open(&row)?)
    } else {
        None
    };
    Ok(EnvVar {
        id: row.id(),
        service_id: ServiceId::from_uuid(row.service_id),
        environment_id: row.environment_id(),
        key: row.key,
        is_secret: row.is_secret,
        value,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Opens the values callers may see in `rows` (the non-secret ones).
pub(crate) async fn views(
    conn: &mut PgConnection,
    ring: &mut Keyring<'_>,
    rows: Vec<EnvVarRow>,
) -> Result<Vec<EnvVar>, Error> {
    ring.load(conn, rows.iter().filter(|r| !r.is_secret))
        .await?;
    rows.into_iter().map(|r| view(ring, r, false)).collect()
}

fn not_found(id: EnvVarId) -> Error {
    Error::not_found(ResourceKind::EnvVar, id.to_string())
}

impl ControlPlane {
    /// The service `id` if `principal` can see it (else 404 naming it), after checking that
    /// `environment` is one of its project's and that `principal` may do `need` there (else
    /// 403).
    pub(crate) async fn env_var_service(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        id: ServiceId,
        environment: Option<EnvironmentId>,
        need: Need,
    ) -> Result<ServiceInProject, Error> {
        let found = self
            .service_authorized(conn, principal, id, Need::Read, false)
            .await?;
        if let Some(env) = environment {
            let in_project = environments::find(conn, env)
                .await?
                .is_some_and(|e| e.project_id == found.project.id);
            if !in_project {
                return Err(Error::invalid(
                    "environment_id",
                    format!("{env} is not an environment of this service's project"),
                ));
            }
        }
        if need != Need::Read {
            let hidden = || Error::not_found(ResourceKind::Service, id.to_string());
            self.authorize_row(
                conn,
                principal,
                found.project.clone(),
                environment,
                need,
                hidden,
            )
            .await?;
        }
        Ok(found)
    }

    /// The variable `var` of service `id` (locked when `lock`), if `principal` may do `need` to
    /// it: 404 for a non-member or a variable of another service, 403 below the role.
    pub(crate) async fn env_var_authorized(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        (id, var): (ServiceId, EnvVarId),
        need: Need,
        lock: bool,
    ) -> Result<(ServiceInProject, EnvVarRow), Error> {
        let found = self
            .service_authorized(conn, principal, id, Need::Read, false)
            .await?;
        let row = if lock {
            env_vars::find_for_update(conn, id, var).await?
        } else {
            env_vars::find(conn, id, var).await?
        }
        .ok_or_else(|| not_found(var))?;
        if need != Need::Read {
            let hidden = || Error::not_found(ResourceKind::Service, id.to_string());
            let env = row.environment_id();
            self.authorize_row(conn, principal, found.project.clone(), env, need, hidden)
                .await?;
        }
        Ok((found, row))
    }

    /// `GET /v1/services/:id/env-vars[?environment_id=]`: every variable of the service, or with
    /// `environment` the set in effect there. Secrets are masked.
    pub async fn env_var_list(
        &self,
        principal: &Principal,
        id: ServiceId,
        environment: Option<EnvironmentId>,
        page: PageRequest,
    ) -> Result<Page<EnvVar>, Error> {
        let mut ring = Keyring::new(self.envvar_keys()?);
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        self.env_var_service(&mut conn, principal, id, environment, Need::Read)
            .await?;
        let rows = match environment {
            Some(env) => {
                env_vars::list_effective(&mut conn, id, env, page.after, page.fetch()).await?
            }
            None => env_vars::list(&mut conn, id, page.after, page.fetch()).await?,
        };
        let rows = page.finish(rows, |r| r.id);
        Ok(Page {
            items: views(&mut conn, &mut ring, rows.items).await?,
            next_cursor: rows.next_cursor,
        })
    }

    /// `POST /v1/services/:id/env-vars` (developers of the environment, or of the project for a
    /// global variable).
    pub async fn env_var_create(
        &self,
        principal: &Principal,
        id: ServiceId,
        new: EnvVarCreate,
    ) -> Result<EnvVar, Error> {
        let mut ring = Keyring::new(self.envvar_keys()?);
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let service = self
            .env_var_service(&mut tx, principal, id, new.environment_id, Need::Write)
            .await?;
        let var = EnvVarId::new();
        let version = ring.current(&mut tx).await?;
        let sealed = ring.seal(version, var.as_uuid(), new.key.as_str(), new.value.secret())?;
        let row = env_vars::insert(
            &mut tx,
            &NewEnvVar {
                id: var,
                service_id: id,
                environment_id: new.environment_id,
                key: new.key.as_str(),
                is_secret: new.is_secret,
                value: &sealed,
            },
        )
        .await?;
        let changes = Changes::new()
            .set("environment_id", new.environment_id)
            .flag("is_secret", None, new.is_secret)
            .secret("value");
        audit::record(
            &mut tx,
            principal,
            Entry::new("env_var.create", "env_var", var, &row.key)
                .project(service.project.id())
                .environment(new.environment_id)
                .changes(changes),
        )
        .await?;
        crate::deployments::refresh_applied(&mut tx, id, new.environment_id).await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing an environment variable", e))?;
        tracing::info!(env_var.id = %var, service.id = %id, "created environment variable {}", row.key);
        view(&ring, row, false)
    }

    /// `GET /v1/services/:id/env-vars/:var_id` (masked when secret).
    pub async fn env_var_view(
        &self,
        principal: &Principal,
        id: ServiceId,
        var: EnvVarId,
    ) -> Result<EnvVar, Error> {
        let mut ring = Keyring::new(self.envvar_keys()?);
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let (_, row) = self
            .env_var_authorized(&mut conn, principal, (id, var), Need::Read, false)
            .await?;
        if !row.is_secret {
            ring.load(&mut conn, [&row]).await?;
        }
        view(&ring, row, false)
    }

    /// `PUT /v1/services/:id/env-vars/:var_id`: key, value and secrecy as given, the rest kept;
    /// `if_match` (the version of an `ETag`) must still be current.
    pub async fn env_var_update(
        &self,
        principal: &Principal,
        (id, var): (ServiceId, EnvVarId),
        update: EnvVarUpdate,
        if_match: Option<i64>,
    ) -> Result<EnvVar, Error> {
        let mut ring = Keyring::new(self.envvar_keys()?);
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let (service, row) = self
            .env_var_authorized(&mut tx, principal, (id, var), Need::Write, true)
            .await?;
        if if_match.is_some_and(|v| v != row.version) {
            return Err(Error::PreconditionFailed);
        }
        let key = update.key.as_ref().map_or(row.key.as_str(), EnvKey::as_str);
        let value = match &update.value {
            Some(value) => value.secret().clone(),
            None => {
                ring.load(&mut tx, [&row]).await?;
                ring.open(&row)?
            }
        };
        let is_secret = update.is_secret.unwrap_or(row.is_secret);
        let version = ring.current(&mut tx).await?;
        let sealed = ring.seal(version, row.id, key, &value)?;
        let updated = env_vars::update(&mut tx, var, key, is_secret, &sealed).await?;
        let mut changes = Changes::new().diff("name", &row.key, &updated.key).flag(
            "is_secret",
            Some(row.is_secret),
            is_secret,
        );
        if update.value.is_some() {
            changes = changes.secret("value");
        }
        audit::record(
            &mut tx,
            principal,
            Entry::new("env_var.update", "env_var", var, &updated.key)
                .project(service.project.id())
                .environment(updated.environment_id())
                .changes(changes),
        )
        .await?;
        crate::deployments::refresh_applied(&mut tx, id, updated.environment_id()).await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing an environment variable update", e))?;
        view(&ring, updated, false)
    }

    /// `DELETE /v1/services/:id/env-vars/:var_id`.
    pub async fn env_var_delete(
        &self,
        principal: &Principal,
        id: ServiceId,
        var: EnvVarId,
    ) -> Result<(), Error> {
        self.envvar_keys()?;
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let (service, row) = self
            .env_var_authorized(&mut tx, principal, (id, var), Need::Write, true)
            .await?;
        env_vars::delete(&mut tx, var).await?;
        let changes = Changes::new()
            .set("environment_id", row.environment_id)
            .flag("is_secret", None, row.is_secret);
        audit::record(
            &mut tx,
            principal,
            Entry::new("env_var.delete", "env_var", var, &row.key)
                .project(service.project.id())
                .environment(row.environment_id())
                .changes(changes),
        )
        .await?;
        crate::deployments::refresh_applied(&mut tx, id, row.environment_id()).await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing an environment variable deletion", e))?;
        tracing::info!(env_var.id = %var, service.id = %id, "deleted environment variable {}", row.key);
        Ok(())
    }
}
