//! The `services` table: one validated `ServiceSpec` document per row, `version` as its ETag.

use sqlx::{PgConnection, types::Json};
use switchyard_domain::{Error, ProjectId, ResourceKind, ServiceId, ServiceSpec};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

#[derive(Debug, Clone)]
pub struct ServiceRow {
    pub id: Uuid,
    pub project_id: Uuid,
    pub spec: Json<ServiceSpec>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl ServiceRow {
    pub fn id(&self) -> ServiceId {
        ServiceId::from_uuid(self.id)
    }

    pub fn project_id(&self) -> ProjectId {
        ProjectId::from_uuid(self.project_id)
    }
}

const DUPLICATE: &[(&str, ResourceKind, &str)] = &[(
    "services_project_name_key",
    ResourceKind::Service,
    "with this name in the project",
)];

pub async fn insert(
    conn: &mut PgConnection,
    id: ServiceId,
    project: ProjectId,
    spec: &ServiceSpec,
) -> Result<ServiceRow, Error> {
    sqlx::query_as!(
        ServiceRow,
        r#"insert into services (id, project_id, spec) values ($1, $2, $3)
           returning id, project_id, spec as "spec: Json<ServiceSpec>", version, created_at, updated_at"#,
        id.as_uuid(),
        project.as_uuid(),
        Json(spec) as _,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("creating a service", DUPLICATE))
}

pub async fn find(conn: &mut PgConnection, id: ServiceId) -> Result<Option<ServiceRow>, Error> {
    sqlx::query_as!(
        ServiceRow,
        r#"select id, project_id, spec as "spec: Json<ServiceSpec>", version, created_at, updated_at
           from services where id = $1"#,
        id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a service", &[]))
}

/// The row, locked for an update in this transaction.
pub async fn find_for_update(
    conn: &mut PgConnection,
    id: ServiceId,
) -> Result<Option<ServiceRow>, Error> {
    sqlx::query_as!(
        ServiceRow,
        r#"select id, project_id, spec as "spec: Json<ServiceSpec>", version, created_at, updated_at
           from services where id = $1 for update"#,
        id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a service", &[]))
}

/// One page of a project's services in id (= creation) order.
pub async fn list(
    conn: &mut PgConnection,
    project: ProjectId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ServiceRow>, Error> {
    sqlx::query_as!(
        ServiceRow,
        r#"select id, project_id, spec as "spec: Json<ServiceSpec>", version, created_at, updated_at
           from services where project_id = $1 and ($2::uuid is null or id > $2)
           order by id limit $3"#,
        project.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing services", &[]))
}

/// Replaces the spec and bumps the version.
pub async fn update(
    conn: &mut PgConnection,
    id: ServiceId,
    spec: &ServiceSpec,
) -> Result<ServiceRow, Error> {
    sqlx::query_as!(
        ServiceRow,
        r#"update services set spec = $2, version = version + 1, updated_at = now() where id = $1
           returning id, project_id, spec as "spec: Json<ServiceSpec>", version, created_at, updated_at"#,
        id.as_uuid(),
        Json(spec) as _,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("updating a service", DUPLICATE))
}

pub async fn delete(conn: &mut PgConnection, id: ServiceId) -> Result<bool, Error> {
    let done = sqlx::query!("delete from services where id = $1", id.as_uuid())
        .execute(conn)
        .await
        .map_err(translate("deleting a service", &[]))?;
    Ok(done.rows_affected() == 1)
}
