//! Projects: create (the creator becomes project admin), list what the caller can see, view,
//! delete (its namespaces are cleaned up by the worker through an outbox event).

use serde_json::json;
use switchyard_db::repo::{access, deployments, environments, outbox, projects, teams};
use switchyard_domain::{Error, ProjectId, ResourceKind, Role, Slug};

use crate::{
    ControlPlane, Need, Page, PageRequest, Principal, ProjectRow,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
};

/// Topic of the events that make the worker change the cluster for a project.
pub const PROJECTS_TOPIC: &str = "projects";

/// What `project_create` needs, already parsed.
#[derive(Debug)]
pub struct NewProject {
    pub name: String,
    pub slug: Slug,
    pub description: String,
    /// The team that owns the project; its members get their team role in it.
    pub team: Option<Slug>,
}

impl NewProject {
    pub fn parse(
        name: &str,
        slug: &str,
        description: Option<&str>,
        team: Option<&str>,
    ) -> Result<Self, Error> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "must be 1 to 100 characters"));
        }
        let description = description.unwrap_or_default().trim();
        if description.chars().count() > 1000 {
            return Err(Error::invalid(
                "description",
                "must be at most 1000 characters",
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            slug: Slug::project(slug)?,
            description: description.to_owned(),
            team: team.map(Slug::team).transpose()?,
        })
    }
}

impl ControlPlane {
    /// `POST /v1/projects`: developers and admins may create; the creator becomes project admin.
    pub async fn project_create(
        &self,
        principal: &Principal,
        new: NewProject,
    ) -> Result<ProjectRow, Error> {
        if principal.role < Role::Developer || principal.project_cap < Role::Admin {
            return Err(Error::Forbidden);
        }
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let team_id = match &new.team {
            None => None,
            Some(slug) => {
                let team = teams::find_by_slug(&mut tx, slug.as_str(), principal.user_id)
                    .await?
                    .filter(|t| t.role().is_some() || principal.is_platform_admin())
                    .ok_or_else(|| Error::not_found(ResourceKind::Team, slug.as_str()))?;
                if !(team.role().is_some_and(|r| r.manages()) || principal.is_platform_admin()) {
                    return Err(Error::Forbidden);
                }
                Some(team.id())
            }
        };
        let project = projects::insert(
            &mut tx,
            &projects::NewProject {
                id: ProjectId::new(),
                name: &new.name,
                slug: new.slug.as_str(),
                description: &new.description,
                team_id,
                created_by: principal.user_id,
            },
        )
        .await?;
        access::upsert(
            &mut tx,
            &access::NewGrant {
                user_id: principal.user_id,
                project_id: project.id(),
                environment_id: None,
                role: Role::Admin,
                granted_by: principal.user_id,
            },
        )
        .await?;
        let changes = Changes::new()
            .set("name", &project.name)
            .set("slug", &project.slug)
            .set("team", new.team.as_ref().map(Slug::as_str));
        audit::record(
            &mut tx,
            principal,
            Entry::new("project.create", "project", project.id, &project.slug)
                .project(project.id())
                .changes(changes),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a project", e))?;
        tracing::info!(project.id = %project.id, "created project {}", project.slug);
        Ok(project)
    }

    /// `GET /v1/projects`: the projects the caller can see.
    pub async fn project_list(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> Result<Page<ProjectRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let rows = projects::list_visible(
            &mut conn,
            principal.user_id,
            principal.is_platform_admin(),
            page.after,
            page.fetch(),
        )
        .await?;
        Ok(page.finish(rows, |p| p.id))
    }

    /// `GET /v1/projects/:slug`.
    pub async fn project_view(
        &self,
        principal: &Principal,
        slug: &str,
    ) -> Result<ProjectRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        Ok(self
            .authorize(&mut conn, principal, slug, None, Need::Read)
            .await?
            .project)
    }

    /// `DELETE /v1/projects/:slug`: project admins only. Refused (409) while deployments are
    /// running or on their way unless `force`. Removes the project's rows and asks the worker
    /// (outbox topic `projects`) to delete its namespaces.
    pub async fn project_delete(
        &self,
        principal: &Principal,
        slug: &str,
        force: bool,
    ) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let project = self
            .authorize(&mut tx, principal, slug, None, Need::Manage)
            .await?
            .project;
        let active = deployments::count_active_in_project(&mut tx, project.id()).await?;
        if active > 0 && !force {
            return Err(Error::Conflict {
                message: format!(
                    "project {slug} has {active} running deployment(s); stop them or delete with ?force=true"
                ),
            });
        }
        let namespaces = environments::namespaces(&mut tx, project.id()).await?;
        crate::usage::deleting(&mut tx, project.id(), None).await?;
        if !projects::delete(&mut tx, project.id()).await? {
            return Err(Error::not_found(ResourceKind::Project, slug));
        }
        outbox::insert(
            &mut tx,
            &outbox::NewEvent {
                topic: PROJECTS_TOPIC,
                aggregate_id: &project.id.to_string(),
                payload: &json!({
                    "type": "project.deleted",
                    "project_id": project.id,
                    "slug": project.slug,
                    "namespaces": namespaces,
                }),
            },
        )
        .await?;
        audit::record(
            &mut tx,
            principal,
            Entry::new("project.delete", "project", project.id, &project.slug)
                .project(project.id())
                .changes(Changes::new().set("namespaces", &namespaces)),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a project deletion", e))?;
        tracing::info!(project.id = %project.id, "deleted project {slug}");
        Ok(())
    }
}
