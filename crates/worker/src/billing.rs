//! The billing loop: every `interval`, aggregates the hours that ended (and the hours late
//! events made stale) and reconciles the ledger with the deployments table. Run by the leader
//! only; both are idempotent, so a brief overlap during a failover is harmless.

use std::time::Duration;

use switchyard_billing::Ledger;
use switchyard_core::BillingDispatch;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct BillingLoop {
    pub ledger: Ledger,
    pub dispatch: BillingDispatch,
    pub interval: Duration,
    /// Disagreements younger than this are left alone (events still on their way).
    pub grace: Duration,
}

impl BillingLoop {
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.ledger.sweep(time::OffsetDateTime::now_utc()).await {
                Ok(s) if s.hours + s.reaggregated > 0 => tracing::info!(
                    hours = s.hours,
                    reaggregated = s.reaggregated,
                    "billing: usage aggregated"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "usage aggregation failed; retrying next round")
                }
            }
            match self.dispatch.reconcile(self.grace).await {
                Ok(r) if r.started + r.stopped > 0 => tracing::warn!(
                    started = r.started,
                    stopped = r.stopped,
                    "billing: the ledger disagreed with the deployments table; corrected"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "usage reconciliation failed; retrying next round")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
