//! What the worker's billing loop needs from the control plane: the reconciliation that
//! compares the ledger's open compute stretches with the deployments table and emits the
//! correcting events (metadata `reason: reconciled`) instead of letting them diverge. A
//! correction has an id of its own, stable per fact corrected (see
//! [`UsageEvent::reconciled`]): it never collides with a lifecycle event already recorded (whose
//! id would make it a no-op) and making it twice still records it once. (Comparing with the
//! cluster's live objects comes with the cluster reconciler; today the worker has no cluster
//! connection.)

use std::time::Duration;

use switchyard_billing::{EventType, UsageEvent, Workload, event::volume_resource_id};
use switchyard_db::{PgPool, repo::usage_checks};
use switchyard_domain::{DeploymentId, Error, ProjectId};

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
    ///
    /// A running deployment the ledger does not bill gets a `deployment.started` dated when it
    /// started running, but never before the ledger started tracking usage (`usage_tracking`,
    /// when the ledger's migration ran): time before billing existed is not billed. Its volumes
    /// get a `volume.resized`, which opens a stretch for a volume the ledger does not know, and
    /// a deployment that ran before billing existed gets the billing snapshot it never had. An
    /// open stretch of a deployment that stopped running is closed when it stopped (now, if
    /// its row is gone), never before the stretch started.
    pub async fn reconcile(&self, grace: Duration) -> Result<Reconciled, Error> {
        let grace = grace.as_secs_f64();
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        let mut done = Reconciled::default();
        for row in usage_checks::running_unbilled(&mut tx, grace, BATCH).await? {
            let workload = usage::workload_of(row.usage.as_ref(), &row.spec.0, row.replicas);
            if row.usage.is_none() {
                let snapshot = serde_json::to_value(&workload)
                    .map_err(|e| Error::internal("encoding a deployment's usage", e))?;
                usage_checks::set_usage(&mut tx, DeploymentId::from_uuid(row.id), &snapshot)
                    .await?;
            }
            let project = ProjectId::from_uuid(row.project_id);
            let id = DeploymentId::from_uuid(row.id);
            let event = UsageEvent::deployment_started(project, id, &row.name, &workload, row.at)
                .reconciled("");
            usage::record(&mut tx, &event).await?;
            for v in &workload.volumes {
                let resource = volume_resource_id(row.service_id, row.environment_id, &v.name);
                let label = format!("{}/{}", row.name, v.name);
                let kind = EventType::VolumeResized;
                let opened =
                    UsageEvent::volume(kind, project, resource, &label, v.size_mb, row.at, id)
                        .reconciled(&id.to_string());
                usage::record(&mut tx, &opened).await?;
            }
            done.started += 1;
        }
        for row in usage_checks::billed_not_running(&mut tx, grace, BATCH).await? {
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
                row.stop_at,
                "reconciled",
            )
            .reconciled(&row.start_event.to_string());
            usage::record(&mut tx, &event).await?;
            done.stopped += 1;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing usage corrections", e))?;
        Ok(done)
    }
}
