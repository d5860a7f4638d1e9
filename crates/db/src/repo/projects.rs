//! The `projects` table, and which projects a user can see (direct grants, team membership).

use sqlx::PgConnection;
use switchyard_domain::{Error, ProjectId, ResourceKind, TeamId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub team_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl ProjectRow {
    pub fn id(&self) -> ProjectId {
        ProjectId::from_uuid(self.id)
    }
}

pub struct NewProject<'a> {
    pub id: ProjectId,
    pub name: &'a str,
    pub slug: &'a str,
    pub description: &'a str,
    pub team_id: Option<TeamId>,
    pub created_by: UserId,
}

pub async fn insert(conn: &mut PgConnection, new: &NewProject<'_>) -> Result<ProjectRow, Error> {
    sqlx::query_as!(
        ProjectRow,
        "insert into projects (id, name, slug, description, team_id, created_by)
         values ($1, $2, $3, $4, $5, $6)
         returning id, name, slug, description, team_id, created_at, updated_at",
        new.id.as_uuid(),
        new.name,
        new.slug,
        new.description,
        new.team_id.map(|t| t.as_uuid()),
        new.created_by.as_uuid(),
    )
    .fetch_one(conn)
    .await
    .map_err(translate(
        "creating a project",
        &[("projects_slug_key", ResourceKind::Project, "with this slug")],
    ))
}

pub async fn find_by_slug(
    conn: &mut PgConnection,
    slug: &str,
) -> Result<Option<ProjectRow>, Error> {
    sqlx::query_as!(
        ProjectRow,
        "select id, name, slug, description, team_id, created_at, updated_at
         from projects where slug = $1",
        slug,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a project", &[]))
}

pub async fn find(conn: &mut PgConnection, id: ProjectId) -> Result<Option<ProjectRow>, Error> {
    sqlx::query_as!(
        ProjectRow,
        "select id, name, slug, description, team_id, created_at, updated_at
         from projects where id = $1",
        id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a project", &[]))
}

/// One page of the projects `user` can see (all of them when `all`), in id (= creation) order,
/// after the id `after`.
pub async fn list_visible(
    conn: &mut PgConnection,
    user: UserId,
    all: bool,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ProjectRow>, Error> {
    sqlx::query_as!(
        ProjectRow,
        "select p.id, p.name, p.slug, p.description, p.team_id, p.created_at, p.updated_at
         from projects p
         where ($2 or exists (select 1 from project_access a where a.project_id = p.id and a.user_id = $1)
                or exists (select 1 from team_members m where m.team_id = p.team_id and m.user_id = $1))
           and ($3::uuid is null or p.id > $3)
         order by p.id
         limit $4",
        user.as_uuid(),
        all,
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing projects", &[]))
}

/// The ids of every project `user` can see (through a grant or a team).
pub async fn visible_ids(conn: &mut PgConnection, user: UserId) -> Result<Vec<Uuid>, Error> {
    sqlx::query_scalar!(
        r#"select project_id as "id!" from project_access where user_id = $1
           union
           select p.id from projects p join team_members m on m.team_id = p.team_id
           where m.user_id = $1"#,
        user.as_uuid(),
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing visible projects", &[]))
}

pub async fn delete(conn: &mut PgConnection, id: ProjectId) -> Result<bool, Error> {
    let done = sqlx::query!("delete from projects where id = $1", id.as_uuid())
        .execute(conn)
        .await
        .map_err(translate("deleting a project", &[]))?;
    Ok(done.rows_affected() == 1)
}
