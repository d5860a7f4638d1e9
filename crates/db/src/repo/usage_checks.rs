//! Reads that put the usage ledger next to the deployments table: what a running deployment is
//! billed as, and the disagreements the billing reconciliation corrects.

use serde_json::Value;
use sqlx::{PgConnection, types::Json};
use switchyard_domain::{DeploymentId, Error, ProjectId, ServiceId, ServiceSpec};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

/// A running deployment, with what billing needs to describe it.
#[derive(Debug, Clone)]
pub struct RunningRow {
    pub id: Uuid,
    pub project_id: Uuid,
    pub service_id: Uuid,
    pub environment_id: Uuid,
    /// `<service>/<environment>`.
    pub name: String,
    pub replicas: i32,
    /// The billing snapshot taken when it reached `running` (null for older deployments).
    pub usage: Option<Value>,
    pub spec: Json<ServiceSpec>,
    pub phase_changed_at: OffsetDateTime,
}

/// Stores what deployment `id` is billed as (set when it reaches `running`).
pub async fn set_usage(
    conn: &mut PgConnection,
    id: DeploymentId,
    usage: &Value,
) -> Result<(), Error> {
    sqlx::query!(
        "update deployments set usage = $2 where id = $1",
        id.as_uuid(),
        usage,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("recording a deployment's usage", &[]))
}

/// The running deployments of `project` (of one service when `service` is set), to stop their
/// billing when they are deleted.
pub async fn running(
    conn: &mut PgConnection,
    project: ProjectId,
    service: Option<ServiceId>,
) -> Result<Vec<RunningRow>, Error> {
    sqlx::query_as!(
        RunningRow,
        r#"select d.id, s.project_id, d.service_id, d.environment_id,
                  s.name || '/' || e.name as "name!", d.replicas, d.usage,
                  s.spec as "spec: Json<ServiceSpec>", d.phase_changed_at
           from deployments d
           join services s on s.id = d.service_id
           join environments e on e.id = d.environment_id
           where s.project_id = $1 and ($2::uuid is null or d.service_id = $2)
             and d.phase = 'running'"#,
        project.as_uuid(),
        service.map(|s| s.as_uuid()),
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading running deployments", &[]))
}

/// Deployments running since before `before` that the ledger does not bill: no open compute
/// stretch, no stop recorded, and no usage event of theirs still in the outbox.
pub async fn running_unbilled(
    conn: &mut PgConnection,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<RunningRow>, Error> {
    sqlx::query_as!(
        RunningRow,
        r#"select d.id, s.project_id, d.service_id, d.environment_id,
                  s.name || '/' || e.name as "name!", d.replicas, d.usage,
                  s.spec as "spec: Json<ServiceSpec>", d.phase_changed_at
           from deployments d
           join services s on s.id = d.service_id
           join environments e on e.id = d.environment_id
           where d.phase = 'running' and d.phase_changed_at < $1
             and not exists (select 1 from usage_intervals i
                             where i.resource_id = d.id and i.ended_at is null)
             and not exists (select 1 from usage_events u
                             where u.resource_id = d.id and u.event_type = 'deployment.stopped')
             and not exists (select 1 from outbox o
                             where o.topic = 'usage' and o.aggregate_id = d.id::text
                               and o.handled_at is null and o.dead_at is null)
           order by d.phase_changed_at
           limit $2"#,
        before,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading unbilled deployments", &[]))
}

/// An open compute stretch whose deployment no longer runs (or no longer exists).
#[derive(Debug, Clone)]
pub struct StaleRow {
    pub deployment_id: Uuid,
    pub project_id: Uuid,
    pub resource_name: String,
    /// When the deployment stopped running; `None` when its row is gone.
    pub stopped_at: Option<OffsetDateTime>,
    pub usage: Option<Value>,
}

/// Open compute stretches of deployments not running since before `before` (or deleted), with
/// no usage event of theirs still in the outbox.
pub async fn billed_not_running(
    conn: &mut PgConnection,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<StaleRow>, Error> {
    sqlx::query_as!(
        StaleRow,
        r#"select i.resource_id as deployment_id, i.project_id, i.resource_name,
                  d.phase_changed_at as "stopped_at?", d.usage as "usage?"
           from usage_intervals i
           left join deployments d on d.id = i.resource_id
           where i.resource_type = 'deployment' and i.ended_at is null
             and (d.id is null or (d.phase <> 'running' and d.phase_changed_at < $1))
             and not exists (select 1 from outbox o
                             where o.topic = 'usage' and o.aggregate_id = i.resource_id::text
                               and o.handled_at is null and o.dead_at is null)
           order by i.started_at
           limit $2"#,
        before,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading stale usage intervals", &[]))
}
