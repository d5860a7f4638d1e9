//! Services of a project: create (one or in bulk), list, view, patch (a JSON merge patch over the
//! current spec, validated as a whole, guarded by `If-Match`), delete (the worker removes its
//! objects through an outbox event).

use serde_json::{Value, json};
use switchyard_db::repo::{environments, outbox, projects, services};
use switchyard_domain::{Error, ResourceKind, ServiceId, ServiceSpec, merge_patch};

use crate::{
    ControlPlane, Need, Page, PageRequest, Principal, ProjectRow, ServiceRow,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
};

/// Topic of the events that make the worker remove a deleted service's objects.
pub const SERVICES_TOPIC: &str = "services";

/// At most this many services per bulk request (the original's limit).
pub const MAX_BULK: usize = 20;

/// A service with the project it belongs to.
#[derive(Debug, Clone)]
pub struct ServiceInProject {
    pub service: ServiceRow,
    pub project: ProjectRow,
}

/// One item of a bulk creation that failed.
#[derive(Debug)]
pub struct BulkFailure {
    pub name: String,
    pub error: Error,
}

/// The environment auto-deploy targets when the request names none: `production`, else `prod`,
/// else the project's first environment, else `production` (the original's rule).
fn default_auto_deploy_env(names: &[String]) -> String {
    ["production", "prod"]
        .iter()
        .find(|n| names.iter().any(|e| e == *n))
        .map(|n| (*n).to_owned())
        .or_else(|| names.first().cloned())
        .unwrap_or_else(|| "production".to_owned())
}

/// The spec a create body describes: the body over the defaults. The UI's `build_config.port`
/// (which the original ignored) is taken as the service port.
fn spec_from_body(mut body: Value, envs: &[String]) -> Result<ServiceSpec, Error> {
    let object = body
        .as_object_mut()
        .ok_or_else(|| Error::invalid("body", "must be a JSON object"))?;
    if let Some(port) = object
        .get_mut("build_config")
        .and_then(Value::as_object_mut)
        .and_then(|b| b.remove("port"))
    {
        object.entry("port").or_insert(port);
    }
    if !object.contains_key("auto_deploy_env") {
        object.insert(
            "auto_deploy_env".into(),
            default_auto_deploy_env(envs).into(),
        );
    }
    ServiceSpec::from_json(body)
}

pub(crate) async fn load(
    conn: &mut switchyard_db::PgConnection,
    id: ServiceId,
    lock: bool,
) -> Result<ServiceInProject, Error> {
    let hidden = || Error::not_found(ResourceKind::Service, id.to_string());
    let service = if lock {
        services::find_for_update(conn, id).await?
    } else {
        services::find(conn, id).await?
    }
    .ok_or_else(hidden)?;
    let project = projects::find(conn, service.project_id())
        .await?
        .ok_or_else(hidden)?;
    Ok(ServiceInProject { service, project })
}

fn changes(before: &ServiceSpec, after: &ServiceSpec) -> Changes {
    let (Ok(Value::Object(before)), Ok(Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Changes::new();
    };
    after.iter().fold(Changes::new(), |c, (field, to)| {
        c.diff(field, before.get(field).unwrap_or(&Value::Null), to)
    })
}

impl ControlPlane {
    async fn create_one(
        &self,
        principal: &Principal,
        project: &ProjectRow,
        spec: &ServiceSpec,
    ) -> Result<ServiceRow, Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let row = services::insert(&mut tx, ServiceId::new(), project.id(), spec).await?;
        let changes = Changes::new()
            .set("git_repo", &spec.git_repo)
            .set("app_path", &spec.app_path);
        audit::record(
            &mut tx,
            principal,
            Entry::new("service.create", "service", row.id, &spec.name)
                .project(project.id())
                .changes(changes),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a service", e))?;
        tracing::info!(service.id = %row.id, "created service {} in {}", spec.name, project.slug);
        Ok(row)
    }

    /// The project, for a developer, and its environment names.
    async fn project_for_services(
        &self,
        principal: &Principal,
        slug: &str,
    ) -> Result<(ProjectRow, Vec<String>), Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let project = self
            .authorize(&mut conn, principal, slug, None, Need::Write)
            .await?
            .project;
        let envs = environments::list(&mut conn, project.id(), None, 1000)
            .await?
            .into_iter()
            .map(|e| e.name)
            .collect();
        Ok((project, envs))
    }

    /// `POST /v1/projects/:slug/services` (project developers).
    pub async fn service_create(
        &self,
        principal: &Principal,
        slug: &str,
        body: Value,
    ) -> Result<ServiceRow, Error> {
        let (project, envs) = self.project_for_services(principal, slug).await?;
        let spec = spec_from_body(body, &envs)?;
        self.create_one(principal, &project, &spec).await
    }

    /// `POST /v1/projects/:slug/services/bulk`: each item is created on its own, so one bad item
    /// does not stop the others. `shared` (repository and branch) is merged under every item.
    pub async fn service_create_bulk(
        &self,
        principal: &Principal,
        slug: &str,
        shared: &Value,
        items: Vec<Value>,
    ) -> Result<(Vec<ServiceRow>, Vec<BulkFailure>), Error> {
        if items.is_empty() || items.len() > MAX_BULK {
            return Err(Error::invalid(
                "services",
                format!("must list 1 to {MAX_BULK} services"),
            ));
        }
        let (project, envs) = self.project_for_services(principal, slug).await?;
        let (mut created, mut failed) = (Vec::new(), Vec::new());
        for item in items {
            let name = item["name"].as_str().unwrap_or_default().to_owned();
            let mut body = shared.clone();
            merge_patch(&mut body, &item);
            let result = match spec_from_body(body, &envs) {
                Ok(spec) => self.create_one(principal, &project, &spec).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(row) => created.push(row),
                Err(error @ (Error::Unavailable { .. } | Error::Internal { .. })) => {
                    return Err(error);
                }
                Err(error) => failed.push(BulkFailure { name, error }),
            }
        }
        Ok((created, failed))
    }

    /// `GET /v1/projects/:slug/services`.
    pub async fn service_list(
        &self,
        principal: &Principal,
        slug: &str,
        page: PageRequest,
    ) -> Result<Page<ServiceRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let project = self
            .authorize(&mut conn, principal, slug, None, Need::Read)
            .await?
            .project;
        let rows = services::list(&mut conn, project.id(), page.after, page.fetch()).await?;
        Ok(page.finish(rows, |s| s.id))
    }

    /// The service `id` and its project, if `principal` may do `need` there.
    pub(crate) async fn service_authorized(
        &self,
        conn: &mut switchyard_db::PgConnection,
        principal: &Principal,
        id: ServiceId,
        need: Need,
        lock: bool,
    ) -> Result<ServiceInProject, Error> {
        let hidden = || Error::not_found(ResourceKind::Service, id.to_string());
        let found = load(conn, id, lock).await?;
        let project = self
            .authorize_row(conn, principal, found.project, None, need, hidden)
            .await?
            .project;
        Ok(ServiceInProject {
            service: found.service,
            project,
        })
    }

    /// The service `id` and its project, for the platform's own work (no caller to authorize).
    pub(crate) async fn service_in_project(
        &self,
        conn: &mut switchyard_db::PgConnection,
        id: ServiceId,
    ) -> Result<ServiceInProject, Error> {
        load(conn, id, false).await
    }

    /// `GET /v1/services/:id` and `/settings`.
    pub async fn service_view(
        &self,
        principal: &Principal,
        id: ServiceId,
    ) -> Result<ServiceInProject, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        self.service_authorized(&mut conn, principal, id, Need::Read, false)
            .await
    }

    /// `PATCH /v1/services/:id`: `patch` is merged over the current spec; `if_match` (the
    /// version from an `ETag`) must still be current.
    pub async fn service_update(
        &self,
        principal: &Principal,
        id: ServiceId,
        patch: &Value,
        if_match: Option<i64>,
    ) -> Result<ServiceRow, Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let current = self
            .service_authorized(&mut tx, principal, id, Need::Write, true)
            .await?;
        if if_match.is_some_and(|v| v != current.service.version) {
            return Err(Error::PreconditionFailed);
        }
        let before = &current.service.spec.0;
        let after = before.patched(patch)?;
        let row = services::update(&mut tx, id, &after).await?;
        audit::record(
            &mut tx,
            principal,
            Entry::new("service.update", "service", id, &after.name)
                .project(current.project.id())
                .changes(changes(before, &after)),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a service update", e))?;
        Ok(row)
    }

    /// `DELETE /v1/services/:id` (project admins).
    pub async fn service_delete(&self, principal: &Principal, id: ServiceId) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let current = self
            .service_authorized(&mut tx, principal, id, Need::Manage, true)
            .await?;
        let namespaces = environments::namespaces(&mut tx, current.project.id()).await?;
        crate::usage::deleting(&mut tx, current.project.id(), Some(id)).await?;
        services::delete(&mut tx, id).await?;
        let name = &current.service.spec.name;
        outbox::insert(
            &mut tx,
            &outbox::NewEvent {
                topic: SERVICES_TOPIC,
                aggregate_id: &id.to_string(),
                payload: &json!({
                    "type": "service.deleted",
                    "service_id": id,
                    "project_id": current.project.id,
                    "name": name,
                    "namespaces": namespaces,
                }),
            },
        )
        .await?;
        audit::record(
            &mut tx,
            principal,
            Entry::new("service.delete", "service", id, name).project(current.project.id()),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a service deletion", e))?;
        tracing::info!(service.id = %id, "deleted service {name}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_deploy_env_follows_the_original_preference() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(default_auto_deploy_env(&names(&["dev", "prod"])), "prod");
        assert_eq!(
            default_auto_deploy_env(&names(&["prod", "production"])),
            "production"
        );
        assert_eq!(default_auto_deploy_env(&names(&["dev", "qa"])), "dev");
        assert_eq!(default_auto_deploy_env(&[]), "production");
    }

    #[test]
    fn the_uis_build_config_port_becomes_the_port() {
        let body =
            json!({"name": "web", "git_repo": "https://x/y", "build_config": {"port": 3000}});
        let spec = spec_from_body(body, &[]).unwrap();
        assert_eq!(spec.port, 3000);
        let body = json!({"name": "web", "git_repo": "https://x/y", "port": 8080,
                          "build_config": {"port": 3000}});
        assert_eq!(spec_from_body(body, &[]).unwrap().port, 8080);
    }
}
