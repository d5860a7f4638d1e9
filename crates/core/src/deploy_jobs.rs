//! What the worker's `deployments` job needs from the control plane: the plan of a deployment
//! that still has work to do (`DeployPlan`), a claim on it, and its phase changes, each a guarded update so a redelivered or stale message cannot move a
//! deployment backwards.

use std::sync::Arc;

use switchyard_auth::sealing::KeyEncryptionKeys;
use switchyard_db::{PgPool, repo::deployments};
use switchyard_domain::{DeploymentId, DeploymentPhase, Error};
use time::OffsetDateTime;

use crate::{DeployPlan, DeploymentRow, auth::db_unavailable};

/// A phase a deployment moves to, with what the reconciler saw.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub phase: DeploymentPhase,
    pub reason: Option<&'a str>,
    pub message: Option<&'a str>,
    /// `unknown`, `healthy` or `unhealthy`.
    pub health: &'a str,
    pub ready_replicas: Option<i32>,
}

/// Who the audit log names for a rollback the platform made.
const AUTO_ROLLBACK_ACTOR: &str = "auto-rollback@system.enclii.dev";

/// One replica's hold on a deployment for one reconcile step (a transaction-scoped advisory
/// lock): released when dropped, also when the worker dies.
pub struct DeploymentClaim {
    tx: switchyard_db::Transaction,
}

impl DeploymentClaim {
    /// Lets go now (dropping lets go too, but only once the connection is next used).
    pub async fn release(self) {
        if let Err(e) = self.tx.rollback().await {
            tracing::warn!(error = %e, "releasing a deployment claim; the connection drops it");
        }
    }
}

/// The control plane's side of the `deployments` job.
#[derive(Clone)]
pub struct DeploymentDispatch {
    pool: PgPool,
    keys: Option<Arc<KeyEncryptionKeys>>,
}

impl DeploymentDispatch {
    pub fn new(pool: PgPool, keys: Option<Arc<KeyEncryptionKeys>>) -> Self {
        Self { pool, keys }
    }

    /// The plan of deployment `id`, or `None` when it has nothing left to do (finished,
    /// superseded, or deleted).
    pub async fn plan(&self, id: DeploymentId) -> Result<Option<DeployPlan>, Error> {
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        let Some(deployment) = deployments::find(&mut conn, id).await? else {
            return Ok(None);
        };
        let Some(phase) = DeploymentPhase::parse(&deployment.phase).filter(|p| p.in_progress())
        else {
            return Ok(None);
        };
        DeployPlan::load(&mut conn, self.keys.as_deref(), deployment, phase)
            .await
            .map(Some)
    }

    /// The plan of deployment `id` for a refresh: `None` unless it was applied already
    /// (`rolling_out` or `running`) and is still the newest deployment of its service in its
    /// environment (re-applying an older one would undo the newer one's rollout).
    pub async fn plan_applied(&self, id: DeploymentId) -> Result<Option<DeployPlan>, Error> {
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        let Some(deployment) = deployments::find(&mut conn, id).await? else {
            return Ok(None);
        };
        let phase = DeploymentPhase::parse(&deployment.phase)
            .filter(|p| matches!(p, DeploymentPhase::RollingOut | DeploymentPhase::Running));
        let newest = deployments::newest_per_environment(
            &mut conn,
            deployment.service_id(),
            Some(deployment.environment_id()),
        )
        .await?;
        match phase {
            Some(phase) if newest.first().is_some_and(|(n, _)| *n == deployment.id) => {
                DeployPlan::load(&mut conn, self.keys.as_deref(), deployment, phase)
                    .await
                    .map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Deployment `id` for one reconcile step, or `None` while another replica holds it.
    pub async fn claim(&self, id: DeploymentId) -> Result<Option<DeploymentClaim>, Error> {
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        Ok(deployments::try_lock(&mut tx, id)
            .await?
            .then_some(DeploymentClaim { tx }))
    }

    /// One page of running deployments a cluster runs (by id, after `after`), for the
    /// status sync.
    pub async fn running(
        &self,
        after: Option<uuid::Uuid>,
        limit: i64,
    ) -> Result<Vec<deployments::RunningRow>, Error> {
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        deployments::running_page(&mut conn, after, limit).await
    }

    /// Records what the cluster shows of running deployment `row` (health, ready pods, why it
    /// is unhealthy) and, when the autoscaler changed its replicas (`replicas`), bills the new
    /// count (`deployment.scaled`), in one transaction; returns whether anything changed. A
    /// deployment no longer running is left alone.
    pub async fn record_health(
        &self,
        row: &deployments::RunningRow,
        seen: &deployments::Observed<'_>,
        replicas: Option<u32>,
    ) -> Result<bool, Error> {
        let id = DeploymentId::from_uuid(row.id);
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        let mut changed = deployments::set_health(&mut tx, id, seen).await?;
        if let Some(replicas) = replicas
            && let Some(deployment) = deployments::find(&mut tx, id)
                .await?
                .filter(|d| d.phase == DeploymentPhase::Running.as_str())
        {
            changed |= crate::usage::deployment_replicas(
                &mut tx,
                &deployment,
                row.usage.as_ref(),
                replicas,
            )
            .await?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a deployment's health", e))?;
        Ok(changed)
    }

    /// The janitor's sweep: deployments on their way that nobody looked at for `idle` (their
    /// message was lost with Redis, say) get a new `deployments` event. Returns how many.
    pub async fn requeue_stalled(&self, idle: std::time::Duration) -> Result<usize, Error> {
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        let cutoff = OffsetDateTime::now_utc()
            - time::Duration::try_from(idle).unwrap_or(time::Duration::MAX);
        let stalled = deployments::stalled(&mut tx, cutoff, 100).await?;
        for id in &stalled {
            crate::deployments::request_reconcile(&mut tx, *id).await?;
            deployments::touch(&mut tx, *id).await?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing re-enqueued deployments", e))?;
        Ok(stalled.len())
    }

    /// Moves deployment `id` to `progress.phase` if it is still on its way (a finished or
    /// superseded deployment is never moved). Reaching `running` supersedes the deployment
    /// that ran before it in the same environment, and emits their usage events
    /// (`deployment.started`, `deployment.stopped`, `volume.*`), in the same transaction.
    /// Returns whether it moved.
    pub async fn advance(&self, id: DeploymentId, progress: &Progress<'_>) -> Result<bool, Error> {
        self.end_or_advance(id, progress, false)
            .await
            .map(|(moved, _)| moved)
    }

    /// Ends deployment `id` in `progress.phase` (`failed` or `timed_out`) and, with
    /// `roll_back`, creates in the same transaction a new deployment of the release that ran
    /// before it there (unless someone deployed since, or nothing ran before). Returns that
    /// rollback.
    pub async fn fail(
        &self,
        id: DeploymentId,
        progress: &Progress<'_>,
        roll_back: bool,
    ) -> Result<Option<DeploymentRow>, Error> {
        self.end_or_advance(id, progress, roll_back)
            .await
            .map(|(_, rollback)| rollback)
    }

    async fn end_or_advance(
        &self,
        id: DeploymentId,
        progress: &Progress<'_>,
        roll_back: bool,
    ) -> Result<(bool, Option<DeploymentRow>), Error> {
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        let from: Vec<&str> = DeploymentPhase::ALL
            .into_iter()
            .filter(|p| p.in_progress())
            .map(DeploymentPhase::as_str)
            .collect();
        let moved = deployments::set_phase(
            &mut tx,
            id,
            &from,
            &deployments::PhaseChange {
                phase: progress.phase.as_str(),
                reason: progress.reason,
                error_message: progress.message,
                health: progress.health,
                ready_replicas: progress.ready_replicas,
            },
        )
        .await?;
        let mut rollback = None;
        if let Some(row) = &moved {
            if progress.phase == DeploymentPhase::Running {
                let superseded = deployments::supersede_older(&mut tx, row, true).await?;
                crate::usage::deployment_running(&mut tx, row, &superseded).await?;
            } else if roll_back && !progress.phase.in_progress() {
                rollback = roll_back_from(&mut tx, row).await?;
            }
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a deployment phase", e))?;
        Ok((moved.is_some(), rollback))
    }
}

/// After `failed` ended: a new deployment of the release that ran before it in the same
/// environment, in the caller's transaction, unless a newer deployment exists there already or
/// nothing ran before.
async fn roll_back_from(
    tx: &mut switchyard_db::PgConnection,
    failed: &DeploymentRow,
) -> Result<Option<DeploymentRow>, Error> {
    let newest = deployments::list(tx, failed.service_id(), None, 1).await?;
    if newest
        .first()
        .is_some_and(|n| n.id != failed.id && n.environment_id == failed.environment_id)
    {
        return Ok(None); // someone deployed since: theirs wins
    }
    let Some(previous) = deployments::last_ran(
        tx,
        failed.service_id(),
        failed.environment_id(),
        failed.id(),
    )
    .await?
    .filter(|p| p.release_id != failed.release_id) else {
        return Ok(None);
    };
    let rollback = crate::deployments::enqueue(
        tx,
        &deployments::NewDeployment {
            id: DeploymentId::new(),
            service_id: failed.service_id(),
            environment_id: failed.environment_id(),
            release_id: previous.release_id(),
            replicas: previous.replicas,
            triggered_by: None,
            rolled_back_from: Some(failed.id()),
        },
    )
    .await?;
    let found = crate::services::load(tx, failed.service_id(), false).await?;
    crate::audit::record_system(
        tx,
        AUTO_ROLLBACK_ACTOR,
        crate::audit::Entry::new(
            "deployment.auto_rollback",
            "deployment",
            rollback.id,
            &found.service.spec.0.name,
        )
        .project(found.project.id())
        .environment(Some(failed.environment_id()))
        .changes(
            crate::audit::Changes::new()
                .set("rolled_back_from", failed.id.to_string())
                .set("reason", failed.reason.as_deref().unwrap_or("failed")),
        ),
    )
    .await?;
    Ok(Some(rollback))
}
