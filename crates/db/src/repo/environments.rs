//! The `environments` table.

use sqlx::PgConnection;
use switchyard_domain::{EnvironmentId, Error, ProjectId, ResourceKind, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

#[derive(Debug, Clone)]
pub struct EnvironmentRow {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub kube_namespace: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl EnvironmentRow {
    pub fn id(&self) -> EnvironmentId {
        EnvironmentId::from_uuid(self.id)
    }
}

pub struct NewEnvironment<'a> {
    pub id: EnvironmentId,
    pub project_id: ProjectId,
    pub name: &'a str,
    pub kube_namespace: &'a str,
}

pub async fn insert(
    conn: &mut PgConnection,
    new: &NewEnvironment<'_>,
) -> Result<EnvironmentRow, Error> {
    sqlx::query_as!(
        EnvironmentRow,
        "insert into environments (id, project_id, name, kube_namespace)
         values ($1, $2, $3, $4)
         returning id, project_id, name, kube_namespace, created_at, updated_at",
        new.id.as_uuid(),
        new.project_id.as_uuid(),
        new.name,
        new.kube_namespace,
    )
    .fetch_one(conn)
    .await
    .map_err(translate(
        "creating an environment",
        &[
            (
                "environments_project_name_key",
                ResourceKind::Environment,
                "with this name",
            ),
            (
                "environments_kube_namespace_key",
                ResourceKind::Environment,
                "with this namespace",
            ),
        ],
    ))
}

pub async fn find(
    conn: &mut PgConnection,
    id: EnvironmentId,
) -> Result<Option<EnvironmentRow>, Error> {
    sqlx::query_as!(
        EnvironmentRow,
        "select id, project_id, name, kube_namespace, created_at, updated_at
         from environments where id = $1",
        id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading an environment", &[]))
}

pub async fn find_by_name(
    conn: &mut PgConnection,
    project: ProjectId,
    name: &str,
) -> Result<Option<EnvironmentRow>, Error> {
    sqlx::query_as!(
        EnvironmentRow,
        "select id, project_id, name, kube_namespace, created_at, updated_at
         from environments where project_id = $1 and name = $2",
        project.as_uuid(),
        name,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading an environment", &[]))
}

/// One page of a project's environments in id (= creation) order.
pub async fn list(
    conn: &mut PgConnection,
    project: ProjectId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<EnvironmentRow>, Error> {
    sqlx::query_as!(
        EnvironmentRow,
        "select id, project_id, name, kube_namespace, created_at, updated_at
         from environments where project_id = $1 and ($2::uuid is null or id > $2)
         order by id limit $3",
        project.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing environments", &[]))
}

/// One page of the environments of every project `user` can see (all when `all`).
pub async fn list_visible(
    conn: &mut PgConnection,
    user: UserId,
    all: bool,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<EnvironmentRow>, Error> {
    sqlx::query_as!(
        EnvironmentRow,
        "select e.id, e.project_id, e.name, e.kube_namespace, e.created_at, e.updated_at
         from environments e join projects p on p.id = e.project_id
         where ($2 or exists (select 1 from project_access a where a.project_id = p.id and a.user_id = $1)
                or exists (select 1 from team_members m where m.team_id = p.team_id and m.user_id = $1))
           and ($3::uuid is null or e.id > $3)
         order by e.id limit $4",
        user.as_uuid(),
        all,
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing environments", &[]))
}

/// The namespaces of a project (to clean up after it is deleted).
pub async fn namespaces(conn: &mut PgConnection, project: ProjectId) -> Result<Vec<String>, Error> {
    sqlx::query_scalar!(
        "select kube_namespace from environments where project_id = $1 order by kube_namespace",
        project.as_uuid(),
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing namespaces", &[]))
}
