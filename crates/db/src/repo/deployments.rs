//! The `deployments` table: a release placed in an environment, numbered per environment.

use sqlx::PgConnection;
use switchyard_domain::{DeploymentId, EnvironmentId, Error, ReleaseId, ServiceId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

#[derive(Debug, Clone)]
pub struct DeploymentRow {
    pub id: Uuid,
    pub service_id: Uuid,
    pub environment_id: Uuid,
    pub release_id: Uuid,
    pub sequence: i64,
    pub replicas: i32,
    pub phase: String,
    pub reason: Option<String>,
    pub error_message: Option<String>,
    pub health: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub struct NewDeployment {
    pub id: DeploymentId,
    pub service_id: ServiceId,
    pub environment_id: EnvironmentId,
    pub release_id: ReleaseId,
    pub replicas: i32,
    pub triggered_by: Option<UserId>,
}

/// Inserts a pending deployment with the environment's next sequence number. Two concurrent
/// inserts into one environment collide on the unique sequence; the loser's transaction fails
/// and is retried by its caller.
pub async fn insert(conn: &mut PgConnection, new: &NewDeployment) -> Result<DeploymentRow, Error> {
    sqlx::query_as!(
        DeploymentRow,
        "insert into deployments (id, service_id, environment_id, release_id, sequence, replicas, triggered_by)
         values ($1, $2, $3, $4,
                 (select coalesce(max(sequence), 0) + 1 from deployments where environment_id = $3),
                 $5, $6)
         returning id, service_id, environment_id, release_id, sequence, replicas, phase, reason,
                   error_message, health, created_at, updated_at",
        new.id.as_uuid(),
        new.service_id.as_uuid(),
        new.environment_id.as_uuid(),
        new.release_id.as_uuid(),
        new.replicas,
        new.triggered_by.map(|u| u.as_uuid()),
    )
    .fetch_one(conn)
    .await
    .map_err(translate("creating a deployment", &[]))
}

/// Deployments of a release (auto-deploy creates at most one per environment and release).
pub async fn exists_for(
    conn: &mut PgConnection,
    release: ReleaseId,
    environment: EnvironmentId,
) -> Result<bool, Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from deployments where release_id = $1 and environment_id = $2) as "exists!""#,
        release.as_uuid(),
        environment.as_uuid(),
    )
    .fetch_one(conn)
    .await
    .map_err(translate("reading deployments", &[]))
}

/// Deployments of `project` that are in the cluster (applying, rolling out or running).
pub async fn count_active_in_project(
    conn: &mut PgConnection,
    project: switchyard_domain::ProjectId,
) -> Result<i64, Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "count!" from deployments d join services s on s.id = d.service_id
           where s.project_id = $1 and d.phase in ('applying', 'rolling_out', 'running')"#,
        project.as_uuid(),
    )
    .fetch_one(conn)
    .await
    .map_err(translate("counting deployments", &[]))
}

/// The newest deployment of a release, in any environment.
pub async fn latest_of_release(
    conn: &mut PgConnection,
    release: ReleaseId,
) -> Result<Option<DeploymentRow>, Error> {
    sqlx::query_as!(
        DeploymentRow,
        "select id, service_id, environment_id, release_id, sequence, replicas, phase, reason,
                error_message, health, created_at, updated_at
         from deployments where release_id = $1
         order by created_at desc, id desc
         limit 1",
        release.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading deployments", &[]))
}
