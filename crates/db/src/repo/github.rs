//! The `github_deliveries` table, and the services a push to a repository concerns.

use sqlx::{PgConnection, types::Json};
use switchyard_domain::{Error, ProjectId, ServiceSpec};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{services::ServiceRow, translate};

#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub delivery_id: String,
    pub event: String,
    pub repository: Option<String>,
    pub git_ref: Option<String>,
    pub git_sha: Option<String>,
    pub action: String,
    pub matched: i32,
    pub release_ids: Vec<Uuid>,
    pub received_at: OffsetDateTime,
}

pub struct NewDelivery<'a> {
    pub delivery_id: &'a str,
    pub event: &'a str,
    pub repository: Option<&'a str>,
    pub git_ref: Option<&'a str>,
    pub git_sha: Option<&'a str>,
    pub action: &'a str,
    pub release_ids: &'a [Uuid],
    pub project_ids: &'a [Uuid],
}

/// Records a delivery; false when it was recorded before (a redelivery). Concurrent inserts of
/// one id wait for each other, so exactly one wins.
pub async fn insert(conn: &mut PgConnection, new: &NewDelivery<'_>) -> Result<bool, Error> {
    let done = sqlx::query!(
        "insert into github_deliveries
             (delivery_id, event, repository, git_ref, git_sha, action, matched, release_ids, project_ids)
         values ($1, $2, $3, $4, $5, $6, cardinality($7::uuid[]), $7, $8)
         on conflict (delivery_id) do nothing",
        new.delivery_id,
        new.event,
        new.repository,
        new.git_ref,
        new.git_sha,
        new.action,
        new.release_ids,
        new.project_ids,
    )
    .execute(conn)
    .await
    .map_err(translate("recording a GitHub delivery", &[]))?;
    Ok(done.rows_affected() == 1)
}

pub async fn find(
    conn: &mut PgConnection,
    delivery_id: &str,
) -> Result<Option<DeliveryRow>, Error> {
    sqlx::query_as!(
        DeliveryRow,
        "select id, delivery_id, event, repository, git_ref, git_sha, action, matched, release_ids,
                received_at
         from github_deliveries where delivery_id = $1",
        delivery_id,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a GitHub delivery", &[]))
}

/// The deliveries that concerned `project`, newest first.
pub async fn list_for_project(
    conn: &mut PgConnection,
    project: ProjectId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, Error> {
    sqlx::query_as!(
        DeliveryRow,
        "select id, delivery_id, event, repository, git_ref, git_sha, action, matched, release_ids,
                received_at
         from github_deliveries
         where project_ids @> array[$1::uuid]
           and ($2::uuid is null
                or (received_at, id) < (select c.received_at, c.id from github_deliveries c where c.id = $2))
         order by received_at desc, id desc
         limit $3",
        project.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing GitHub deliveries", &[]))
}

/// Services whose repository is one of `urls` (exact spellings: the caller passes variants).
pub async fn services_of_repos(
    conn: &mut PgConnection,
    urls: &[String],
) -> Result<Vec<ServiceRow>, Error> {
    sqlx::query_as!(
        ServiceRow,
        r#"select id, project_id, spec as "spec: Json<ServiceSpec>", version, created_at, updated_at
           from services where git_repo = any($1) order by id"#,
        urls,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("finding services by repository", &[]))
}
