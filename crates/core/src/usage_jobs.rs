//! What the worker's billing loop needs from the control plane: the reconciliation that
//! compares the ledger's open compute stretches with the deployments table and emits the
//! correcting events (metadata `reason: reconciled`) instead of letting them diverge. The
//! events carry the same deterministic ids as the ones the lifecycle emits, so a correction
//! racing a late real event still counts once. (Comparing with the cluster's live objects comes
//! with the cluster reconciler; today the worker has no cluster connection.)

use std::time::Duration;

use switchyard_billing::{UsageEvent, Workload};
use switchyard_db::{PgPool, repo::usage_checks};
use switchyard_domain::{DeploymentId, Error, ProjectId};
use time::OffsetDateTime;

use crate::{auth::db_unavailable, usage};

/// Disagreements corrected per round.
const BATCH: i64 = 500;

/// The corrections one reconciliation made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Running deployments the ledger did not bill: `deployment.started` emitted.
    pub started: usize,
    /// Open stretches of deployments no longer running: `deployment.stopped` emitted.
    pub stopped: usize,
}

#[derive(Clone)]
pub struct BillingDispatch {
    pool: PgPool,
}

impl BillingDispatch {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Emits the events that make the ledger agree with the deployments table, for
    /// disagreements older than `grace` (younger ones are usually events still on their way).
    pub async fn reconcile(&self, grace: Duration) -> Result<Reconciled, Error> {
        let before = OffsetDateTime::now_utc()
            - time::Duration::try_from(grace).unwrap_or(time::Duration::ZERO);
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        let mut done = Reconciled::default();
        for row in usage_checks::running_unbilled(&mut tx, before, BATCH).await? {
            let workload = usage::workload_of(row.usage.as_ref(), &row.spec.0, row.replicas);
            let event = UsageEvent::deployment_started(
                ProjectId::from_uuid(row.project_id),
                DeploymentId::from_uuid(row.id),
                &row.name,
                &workload,
                row.phase_changed_at,
            )
            .reason("reconciled");
            usage::record(&mut tx, &event).await?;
            done.started += 1;
        }
        for row in usage_checks::billed_not_running(&mut tx, before, BATCH).await? {
            let workload: Workload = row
                .usage
                .and_then(|u| serde_json::from_value(u).ok())
                .unwrap_or(Workload {
                    replicas: 0,
                    cpu_millicores: 0,
                    memory_mb: 0,
                    volumes: Vec::new(),
                });
            let event = UsageEvent::deployment_stopped(
                ProjectId::from_uuid(row.project_id),
                DeploymentId::from_uuid(row.deployment_id),
                &row.resource_name,
                &workload,
                row.stopped_at.unwrap_or_else(OffsetDateTime::now_utc),
                "reconciled",
            );
            usage::record(&mut tx, &event).await?;
            done.stopped += 1;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing usage corrections", e))?;
        Ok(done)
    }
}
