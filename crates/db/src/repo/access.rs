//! `project_access` grants and the rows the policy function reads to decide what a user may do
//! in a project.

use sqlx::PgConnection;
use switchyard_domain::{EnvironmentId, Error, ProjectId, Role, UserId};
use uuid::Uuid;

use super::translate;

/// One source of power over a project: a direct grant (maybe limited to one environment) or the
/// user's membership in the project's team (`team_role` set, `role` empty).
#[derive(Debug, Clone)]
pub struct GrantRow {
    pub role: String,
    pub environment_id: Option<Uuid>,
    pub team: bool,
}

/// Everything that gives `user` power over `project`.
pub async fn grants(
    conn: &mut PgConnection,
    user: UserId,
    project: ProjectId,
) -> Result<Vec<GrantRow>, Error> {
    sqlx::query_as!(
        GrantRow,
        r#"select role as "role!", environment_id, false as "team!"
             from project_access where user_id = $1 and project_id = $2
           union all
           select m.role, null, true
             from projects p join team_members m on m.team_id = p.team_id
            where p.id = $2 and m.user_id = $1"#,
        user.as_uuid(),
        project.as_uuid(),
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading project grants", &[]))
}

pub struct NewGrant {
    pub user_id: UserId,
    pub project_id: ProjectId,
    pub environment_id: Option<EnvironmentId>,
    pub role: Role,
    pub granted_by: UserId,
}

/// Grants (or changes) a role.
pub async fn upsert(conn: &mut PgConnection, grant: &NewGrant) -> Result<(), Error> {
    sqlx::query!(
        "insert into project_access (id, user_id, project_id, environment_id, role, granted_by)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (user_id, project_id, coalesce(environment_id, '00000000-0000-0000-0000-000000000000'))
         do update set role = excluded.role, granted_by = excluded.granted_by",
        Uuid::now_v7(),
        grant.user_id.as_uuid(),
        grant.project_id.as_uuid(),
        grant.environment_id.map(|e| e.as_uuid()),
        grant.role.as_str(),
        grant.granted_by.as_uuid(),
    )
    .execute(conn)
    .await
    .map_err(translate("granting project access", &[]))?;
    Ok(())
}
