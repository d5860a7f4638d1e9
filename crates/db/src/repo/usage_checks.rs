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
    /// The time of the event the row is read for, on the database's clock: for [`running`],
    /// when its billing stops (this transaction's time, never before it started running); for
    /// [`running_unbilled`], when its billing starts (when it started running, never before
    /// the ledger started tracking usage).
    pub at: OffsetDateTime,
}

/// The database's clock: this transaction's time, the one phase changes are stamped with. Usage
/// events are dated with it, never with the application's clock.
pub async fn now(conn: &mut PgConnection) -> Result<OffsetDateTime, Error> {
    sqlx::query_scalar!(r#"select now() as "now!""#)
        .fetch_one(conn)
        .await
        .map_err(translate("reading the database clock", &[]))
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
                  s.spec as "spec: Json<ServiceSpec>", d.phase_changed_at,
                  greatest(now(), d.phase_changed_at) as "at!"
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

/// Deployments running for more than `grace_secs` (on the database's clock) that the ledger
/// does not bill: no open compute stretch, no stop recorded, and no usage event of theirs still
/// in the outbox.
pub async fn running_unbilled(
    conn: &mut PgConnection,
    grace_secs: f64,
    limit: i64,
) -> Result<Vec<RunningRow>, Error> {
    sqlx::query_as!(
        RunningRow,
        r#"select d.id, s.project_id, d.service_id, d.environment_id,
                  s.name || '/' || e.name as "name!", d.replicas, d.usage,
                  s.spec as "spec: Json<ServiceSpec>", d.phase_changed_at,
                  greatest(d.phase_changed_at,
                           coalesce((select since from usage_tracking), now())) as "at!"
           from deployments d
           join services s on s.id = d.service_id
           join environments e on e.id = d.environment_id
           where d.phase = 'running' and d.phase_changed_at < now() - $1 * interval '1 second'
             and not exists (select 1 from usage_intervals i
                             where i.resource_id = d.id and i.ended_at is null)
             and not exists (select 1 from usage_events u
                             where u.resource_id = d.id and u.event_type = 'deployment.stopped')
             and not exists (select 1 from outbox o
                             where o.topic = 'usage' and o.aggregate_id = d.id::text
                               and o.handled_at is null and o.dead_at is null)
           order by d.phase_changed_at
           limit $2"#,
        grace_secs,
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
    /// The event that opened the stretch.
    pub start_event: Uuid,
    /// When to close it, on the database's clock: when the deployment stopped running (now
    /// when its row is gone), never before the stretch started.
    pub stop_at: OffsetDateTime,
    pub usage: Option<Value>,
}

/// Open compute stretches of deployments not running for more than `grace_secs` (or deleted),
/// with no usage event of theirs still in the outbox.
pub async fn billed_not_running(
    conn: &mut PgConnection,
    grace_secs: f64,
    limit: i64,
) -> Result<Vec<StaleRow>, Error> {
    sqlx::query_as!(
        StaleRow,
        r#"select i.resource_id as deployment_id, i.project_id, i.resource_name, i.start_event,
                  greatest(coalesce(d.phase_changed_at, now()), i.started_at) as "stop_at!",
                  d.usage as "usage?"
           from usage_intervals i
           left join deployments d on d.id = i.resource_id
           where i.resource_type = 'deployment' and i.ended_at is null
             and (d.id is null
                  or (d.phase <> 'running'
                      and d.phase_changed_at < now() - $1 * interval '1 second'))
             and not exists (select 1 from outbox o
                             where o.topic = 'usage' and o.aggregate_id = i.resource_id::text
                               and o.handled_at is null and o.dead_at is null)
           order by i.started_at
           limit $2"#,
        grace_secs,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading stale usage intervals", &[]))
}
