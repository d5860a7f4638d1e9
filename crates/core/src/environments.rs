//! Environments of a project: create (namespace `enclii-<slug>-<name>` unless given, always a
//! DNS label), list, view, and every environment the caller can see.

use switchyard_db::repo::{environments, projects};
use switchyard_domain::{EnvName, EnvironmentId, Error, ProjectId, ResourceKind, parse_namespace};

use crate::{
    ControlPlane, EnvironmentRow, Need, Page, PageRequest, Principal,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
};

impl ControlPlane {
    /// `POST /v1/projects/:slug/environments` (project developers).
    pub async fn environment_create(
        &self,
        principal: &Principal,
        slug: &str,
        name: &str,
        kube_namespace: Option<&str>,
    ) -> Result<EnvironmentRow, Error> {
        let name = EnvName::parse(name)?;
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let project = self
            .authorize(&mut tx, principal, slug, None, Need::Write)
            .await?
            .project;
        let namespace = match kube_namespace.map(str::trim).filter(|n| !n.is_empty()) {
            Some(given) => parse_namespace(given, "kube_namespace")?,
            None => parse_namespace(
                &name.default_namespace(&switchyard_domain::Slug::project(&project.slug)?),
                "name",
            )?,
        };
        let env = environments::insert(
            &mut tx,
            &environments::NewEnvironment {
                id: EnvironmentId::new(),
                project_id: project.id(),
                name: name.as_str(),
                kube_namespace: &namespace,
            },
        )
        .await?;
        audit::record(
            &mut tx,
            principal,
            Entry::new("environment.create", "environment", env.id, &env.name)
                .project(project.id())
                .changes(Changes::new().set("kube_namespace", &env.kube_namespace)),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing an environment", e))?;
        tracing::info!(environment.id = %env.id, "created environment {} of {slug}", env.name);
        Ok(env)
    }

    /// `GET /v1/projects/:slug/environments`.
    pub async fn environment_list(
        &self,
        principal: &Principal,
        slug: &str,
        page: PageRequest,
    ) -> Result<Page<EnvironmentRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let project = self
            .authorize(&mut conn, principal, slug, None, Need::Read)
            .await?
            .project;
        let rows = environments::list(&mut conn, project.id(), page.after, page.fetch()).await?;
        Ok(page.finish(rows, |e| e.id))
    }

    /// `GET /v1/projects/:slug/environments/:env_name`.
    pub async fn environment_view(
        &self,
        principal: &Principal,
        slug: &str,
        name: &str,
    ) -> Result<EnvironmentRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let project = self
            .authorize(&mut conn, principal, slug, None, Need::Read)
            .await?
            .project;
        environments::find_by_name(&mut conn, project.id(), name)
            .await?
            .ok_or_else(|| Error::not_found(ResourceKind::Environment, name))
    }

    /// `GET /v1/environments[?project_id=]`: one project's environments, or those of every
    /// project the caller can see.
    pub async fn environment_list_visible(
        &self,
        principal: &Principal,
        project: Option<ProjectId>,
        page: PageRequest,
    ) -> Result<Page<EnvironmentRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let rows = match project {
            Some(id) => {
                let hidden = || Error::not_found(ResourceKind::Project, id.to_string());
                let row = projects::find(&mut conn, id).await?.ok_or_else(hidden)?;
                self.authorize_row(&mut conn, principal, row, None, Need::Read, hidden)
                    .await?;
                environments::list(&mut conn, id, page.after, page.fetch()).await?
            }
            None => {
                environments::list_visible(
                    &mut conn,
                    principal.user_id,
                    principal.is_platform_admin(),
                    page.after,
                    page.fetch(),
                )
                .await?
            }
        };
        Ok(page.finish(rows, |e| e.id))
    }
}
