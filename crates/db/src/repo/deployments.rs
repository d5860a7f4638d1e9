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
    pub ready_replicas: i32,
    pub rolled_back_from: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl DeploymentRow {
    pub fn id(&self) -> DeploymentId {
        DeploymentId::from_uuid(self.id)
    }

    pub fn service_id(&self) -> ServiceId {
        ServiceId::from_uuid(self.service_id)
    }

    pub fn environment_id(&self) -> EnvironmentId {
        EnvironmentId::from_uuid(self.environment_id)
    }

    pub fn release_id(&self) -> ReleaseId {
        ReleaseId::from_uuid(self.release_id)
    }
}

pub struct NewDeployment {
    pub id: DeploymentId,
    pub service_id: ServiceId,
    pub environment_id: EnvironmentId,
    pub release_id: ReleaseId,
    pub replicas: i32,
    pub triggered_by: Option<UserId>,
    /// The deployment a rollback replaces.
    pub rolled_back_from: Option<DeploymentId>,
}

/// Inserts a pending deployment with the environment's next sequence number. Two concurrent
/// inserts into one environment collide on the unique sequence; the loser's transaction fails
/// and is retried by its caller.
pub async fn insert(conn: &mut PgConnection, new: &NewDeployment) -> Result<DeploymentRow, Error> {
    sqlx::query_as!(
        DeploymentRow,
        "insert into deployments (id, service_id, environment_id, release_id, sequence, replicas,
                                  triggered_by, rolled_back_from)
         values ($1, $2, $3, $4,
                 (select coalesce(max(sequence), 0) + 1 from deployments where environment_id = $3),
                 $5, $6, $7)
         returning id, service_id, environment_id, release_id, sequence, replicas, phase, reason,
                   error_message, health, ready_replicas, rolled_back_from, created_at, updated_at",
        new.id.as_uuid(),
        new.service_id.as_uuid(),
        new.environment_id.as_uuid(),
        new.release_id.as_uuid(),
        new.replicas,
        new.triggered_by.map(|u| u.as_uuid()),
        new.rolled_back_from.map(|d| d.as_uuid()),
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
                error_message, health, ready_replicas, rolled_back_from, created_at, updated_at
         from deployments where release_id = $1
         order by created_at desc, id desc
         limit 1",
        release.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading deployments", &[]))
}

pub async fn find(
    conn: &mut PgConnection,
    id: DeploymentId,
) -> Result<Option<DeploymentRow>, Error> {
    sqlx::query_as!(
        DeploymentRow,
        "select id, service_id, environment_id, release_id, sequence, replicas, phase, reason,
                error_message, health, ready_replicas, rolled_back_from, created_at, updated_at
         from deployments where id = $1",
        id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a deployment", &[]))
}

/// One page of a service's deployments, newest first, after the deployment `after`.
pub async fn list(
    conn: &mut PgConnection,
    service: ServiceId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DeploymentRow>, Error> {
    sqlx::query_as!(
        DeploymentRow,
        "select id, service_id, environment_id, release_id, sequence, replicas, phase, reason,
                error_message, health, ready_replicas, rolled_back_from, created_at, updated_at
         from deployments
         where service_id = $1
           and ($2::uuid is null
                or (created_at, id) < (select c.created_at, c.id from deployments c where c.id = $2))
         order by created_at desc, id desc
         limit $3",
        service.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing deployments", &[]))
}

/// The newest deployment of `service` that ran in `environment` (running now, or superseded
/// after it ran), other than `except`.
pub async fn last_ran(
    conn: &mut PgConnection,
    service: ServiceId,
    environment: EnvironmentId,
    except: DeploymentId,
) -> Result<Option<DeploymentRow>, Error> {
    sqlx::query_as!(
        DeploymentRow,
        "select id, service_id, environment_id, release_id, sequence, replicas, phase, reason,
                error_message, health, ready_replicas, rolled_back_from, created_at, updated_at
         from deployments
         where environment_id = $2 and service_id = $1 and id <> $3
           and (phase = 'running'
                or (phase = 'superseded' and reason is distinct from 'Cancelled'))
         order by sequence desc
         limit 1",
        service.as_uuid(),
        environment.as_uuid(),
        except.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading deployments", &[]))
}

/// The deployment of `service` running now in `environment` (at most one: reaching
/// `running` supersedes the one before).
pub async fn running_in(
    conn: &mut PgConnection,
    service: ServiceId,
    environment: EnvironmentId,
) -> Result<Option<DeploymentRow>, Error> {
    sqlx::query_as!(
        DeploymentRow,
        "select id, service_id, environment_id, release_id, sequence, replicas, phase, reason,
                error_message, health, ready_replicas, rolled_back_from, created_at, updated_at
         from deployments
         where environment_id = $2 and service_id = $1 and phase = 'running'
         order by sequence desc
         limit 1",
        service.as_uuid(),
        environment.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading the running deployment", &[]))
}

/// The newest deployment of `service` in each environment (in `environment` only, when set),
/// as `(id, phase)`.
pub async fn newest_per_environment(
    conn: &mut PgConnection,
    service: ServiceId,
    environment: Option<EnvironmentId>,
) -> Result<Vec<(Uuid, String)>, Error> {
    let rows = sqlx::query!(
        "select distinct on (environment_id) id, phase
         from deployments
         where service_id = $1 and ($2::uuid is null or environment_id = $2)
         order by environment_id, sequence desc",
        service.as_uuid(),
        environment.map(|e| e.as_uuid()),
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading the newest deployments", &[]))?;
    Ok(rows.into_iter().map(|r| (r.id, r.phase)).collect())
}

/// A running deployment as the status sync reads it.
#[derive(Debug, Clone)]
pub struct RunningRow {
    pub id: Uuid,
    pub namespace: String,
    pub service: String,
    pub health: String,
    pub ready_replicas: i32,
    pub reason: Option<String>,
    /// What it is billed as (null for deployments from before billing).
    pub usage: Option<serde_json::Value>,
    /// The service has `autoscaling`: its live replica count is billed.
    pub autoscaled: bool,
}

/// One page of running deployments, by id after `after`, that a cluster runs: not render
/// mode's (`RenderOnly`) nor hand-managed ones (`ReconcileDisabled`).
pub async fn running_page(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<RunningRow>, Error> {
    sqlx::query_as!(
        RunningRow,
        r#"select d.id, e.kube_namespace as namespace, s.name as service, d.health,
                  d.ready_replicas, d.reason, d.usage,
                  jsonb_typeof(s.spec -> 'autoscaling') = 'object' as "autoscaled!"
           from deployments d
           join environments e on e.id = d.environment_id
           join services s on s.id = d.service_id
           where d.phase = 'running'
             and d.reason is distinct from 'RenderOnly'
             and d.reason is distinct from 'ReconcileDisabled'
             and ($1::uuid is null or d.id > $1)
           order by d.id
           limit $2"#,
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing running deployments", &[]))
}

/// What the status sync saw of a running deployment.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub health: &'a str,
    pub ready_replicas: i32,
    pub reason: Option<&'a str>,
}

/// Records what the cluster shows of deployment `id` if it is still running and something
/// changed; true when it did.
pub async fn set_health(
    conn: &mut PgConnection,
    id: DeploymentId,
    seen: &Observed<'_>,
) -> Result<bool, Error> {
    sqlx::query!(
        "update deployments
            set health = $2, ready_replicas = $3, reason = $4, updated_at = now()
          where id = $1 and phase = 'running'
            and (health, ready_replicas, reason) is distinct from ($2, $3, $4)",
        id.as_uuid(),
        seen.health,
        seen.ready_replicas,
        seen.reason,
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
    .map_err(translate("recording a deployment's health", &[]))
}

/// Moves deployment `id` to `phase` if it is in one of `from`; returns the row when it moved.
pub async fn set_phase(
    conn: &mut PgConnection,
    id: DeploymentId,
    from: &[&str],
    change: &PhaseChange<'_>,
) -> Result<Option<DeploymentRow>, Error> {
    let from: Vec<String> = from.iter().map(|p| (*p).to_owned()).collect();
    sqlx::query_as!(
        DeploymentRow,
        "update deployments
         set phase = $3, reason = $4, error_message = $5, health = $6,
             ready_replicas = coalesce($7, ready_replicas),
             phase_changed_at = case when phase = $3 then phase_changed_at else now() end,
             updated_at = now()
         where id = $1 and phase = any($2)
         returning id, service_id, environment_id, release_id, sequence, replicas, phase, reason,
                   error_message, health, ready_replicas, rolled_back_from, created_at, updated_at",
        id.as_uuid(),
        &from,
        change.phase,
        change.reason,
        change.error_message,
        change.health,
        change.ready_replicas,
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("moving a deployment", &[]))
}

/// A phase change of one deployment.
pub struct PhaseChange<'a> {
    pub phase: &'a str,
    pub reason: Option<&'a str>,
    pub error_message: Option<&'a str>,
    pub health: &'a str,
    /// `None` keeps the last count.
    pub ready_replicas: Option<i32>,
}

/// A deployment [`supersede_older`] ended.
#[derive(Debug, Clone)]
pub struct SupersededRow {
    pub id: Uuid,
    /// It was `running` (reason `Superseded`), not still on its way (reason `Cancelled`).
    pub was_running: bool,
    /// What it was billed as while it ran (`deployments.usage`).
    pub usage: Option<serde_json::Value>,
    pub phase_changed_at: OffsetDateTime,
}

/// Ends the other deployments of `service` in `environment` that `newer` replaces: those still
/// on their way are cancelled (`superseded`, reason `Cancelled`) when they are older; the one
/// running is `superseded` once `newer` runs (`running_too`). Returns the deployments changed.
pub async fn supersede_older(
    conn: &mut PgConnection,
    newer: &DeploymentRow,
    running_too: bool,
) -> Result<Vec<SupersededRow>, Error> {
    sqlx::query_as!(
        SupersededRow,
        r#"update deployments
           set phase = 'superseded',
               reason = case when phase = 'running' then 'Superseded' else 'Cancelled' end,
               phase_changed_at = now(), updated_at = now()
           where environment_id = $1 and service_id = $2 and sequence < $3
             and (phase in ('pending', 'applying', 'rolling_out') or ($4 and phase = 'running'))
           returning id, reason = 'Superseded' as "was_running!", usage, phase_changed_at"#,
        newer.environment_id,
        newer.service_id,
        newer.sequence,
        running_too,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("superseding deployments", &[]))
}

/// Takes deployment `id`'s lock for the rest of the transaction if no one holds it: one
/// reconcile step of a deployment at a time across every worker replica. Released at commit,
/// rollback, or when the connection dies.
pub async fn try_lock(conn: &mut PgConnection, id: DeploymentId) -> Result<bool, Error> {
    sqlx::query_scalar!(
        r#"select pg_try_advisory_xact_lock(hashtextextended($1::text, 7231)) as "locked!""#,
        id.as_uuid().to_string(),
    )
    .fetch_one(conn)
    .await
    .map_err(translate("locking a deployment", &[]))
}

/// Deployments still on their way that nobody has looked at since before `cutoff` and whose
/// event is not waiting in the outbox (so their message was lost): the janitor enqueues them
/// again.
pub async fn stalled(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Uuid>, Error> {
    sqlx::query_scalar!(
        "select d.id from deployments d
         where d.phase in ('pending', 'applying', 'rolling_out') and d.updated_at < $1
           and not exists (select 1 from outbox o
                           where o.topic = 'deployments' and o.aggregate_id = d.id::text
                             and o.published_at is null)
         order by d.updated_at
         limit $2",
        cutoff,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading stalled deployments", &[]))
}

/// Stamps `updated_at` on deployment `id` (the janitor re-enqueued it).
pub async fn touch(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
    sqlx::query!(
        "update deployments set updated_at = now() where id = $1",
        id
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("touching a deployment", &[]))
}
