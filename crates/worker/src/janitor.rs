//! The janitor: a periodic sweep that ends work whose result will never come, so nothing stays
//! `building` forever, and deletes outbox rows settled long ago. Run by the leader only; its
//! statements are idempotent anyway, so a brief overlap of two leaders during a failover is
//! harmless.

use std::time::Duration;

use switchyard_core::{BuildDispatch, DeploymentDispatch};
use switchyard_db::{PgPool, repo::outbox};
use switchyard_domain::Error;
use tokio_util::sync::CancellationToken;

/// How long a handled or dead-lettered outbox row is kept (for `outbox` forensics) before the
/// janitor deletes it.
pub const OUTBOX_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long a deployment in progress may go unobserved before the janitor re-enqueues it: a
/// rollout is looked at every few seconds, so minutes of silence mean its message was lost.
pub const DEPLOYMENT_IDLE: Duration = Duration::from_secs(120);

/// Rows deleted per statement, so a large backlog never holds one long lock.
const PRUNE_BATCH: i64 = 1_000;

/// What the janitor sweeps and how often.
#[derive(Clone)]
pub struct Janitor {
    pub pool: PgPool,
    pub builds: BuildDispatch,
    pub deployments: DeploymentDispatch,
    /// A deployment on its way that nobody looked at for this long gets a new event (its
    /// message was lost): [`DEPLOYMENT_IDLE`].
    pub deployment_idle: Duration,
    /// `ENCLII_BUILD_TIMEOUT`: a release `building` for longer fails with `BuildTimedOut`.
    pub build_timeout: Duration,
    /// Settled outbox rows older than this are deleted ([`OUTBOX_RETENTION`]).
    pub outbox_retention: Duration,
    pub interval: Duration,
}

impl Janitor {
    /// Deletes outbox rows handled or dead-lettered more than `outbox_retention` ago; returns
    /// how many. Unpublished and unhandled rows stay whatever their age.
    pub async fn prune_outbox(&self) -> Result<u64, Error> {
        let before = time::OffsetDateTime::now_utc()
            - time::Duration::try_from(self.outbox_retention).unwrap_or(time::Duration::MAX);
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| Error::unavailable("database unavailable", e))?;
        let mut total = 0;
        loop {
            let deleted = outbox::prune_settled(&mut conn, before, PRUNE_BATCH).await?;
            total += deleted;
            if deleted < PRUNE_BATCH.unsigned_abs() {
                return Ok(total);
            }
        }
    }

    /// Sweeps until `shutdown` is cancelled; a failed sweep is logged and retried next round.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.builds.time_out_builds(self.build_timeout).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("janitor: {n} build(s) timed out"),
                Err(e) => tracing::warn!(error = %e, "janitor sweep failed; retrying next round"),
            }
            match self.deployments.requeue_stalled(self.deployment_idle).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!("janitor: {n} stalled deployment(s) enqueued again"),
                Err(e) => {
                    tracing::warn!(error = %e, "deployment sweep failed; retrying next round")
                }
            }
            match self.prune_outbox().await {
                Ok(0) => {}
                Ok(n) => tracing::info!("janitor: {n} settled outbox row(s) deleted"),
                Err(e) => tracing::warn!(error = %e, "outbox pruning failed; retrying next round"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
