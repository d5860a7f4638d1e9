//! Status sync: the leader reads, every `interval`, what the cluster shows of each running
//! deployment and records it (`health`, `ready_replicas`, and why it is unhealthy), so
//! `GET /v1/services/:id/status` notices a crash loop or a Deployment deleted by hand after the
//! rollout ended, and bills an autoscaled service at the replicas its autoscaler chose
//! (`deployment.scaled`). It only reads the cluster and never changes a deployment's phase.

use std::time::Duration;

use switchyard_core::DeploymentDispatch;
use switchyard_db::repo::deployments::{Observed, RunningRow};
use switchyard_domain::{DeploymentId, Error};
use switchyard_k8s::cluster::{Cluster, Rollout};
use tokio_util::sync::CancellationToken;

/// Running deployments read per page.
const PAGE: i64 = 100;

#[derive(Clone)]
pub struct StatusSync {
    pub dispatch: DeploymentDispatch,
    pub cluster: Cluster,
    pub interval: Duration,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Synced {
    pub observed: usize,
    pub changed: usize,
}

/// What a running deployment's rollout state means for its health.
fn observed(rollout: &Rollout) -> Observed<'_> {
    let ready = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    match rollout {
        Rollout::Complete { ready: n, .. } => Observed {
            health: "healthy",
            ready_replicas: ready(*n),
            reason: None,
        },
        // Pods being replaced (a node drained, the autoscaler at work): healthy while some
        // serve, with the count telling how many.
        Rollout::Progressing { ready: n, .. } => Observed {
            health: if *n > 0 { "healthy" } else { "unhealthy" },
            ready_replicas: ready(*n),
            reason: (*n == 0).then_some("NoPodReady"),
        },
        Rollout::Failed { reason, .. } => Observed {
            health: "unhealthy",
            ready_replicas: 0,
            reason: Some(reason),
        },
        Rollout::Missing => Observed {
            health: "unhealthy",
            ready_replicas: 0,
            reason: Some("DeploymentMissing"),
        },
    }
}

impl StatusSync {
    /// One pass over every running deployment. A deployment the cluster cannot be asked about
    /// right now is skipped (the next round tries again); a database failure ends the pass.
    pub async fn sync(&self) -> Result<Synced, Error> {
        let mut synced = Synced::default();
        let mut after = None;
        loop {
            let page = self.dispatch.running(after, PAGE).await?;
            for row in &page {
                if self.sync_one(row).await? {
                    synced.changed += 1;
                }
                synced.observed += 1;
            }
            match page.last() {
                Some(last) if page.len() == usize::try_from(PAGE).unwrap_or(usize::MAX) => {
                    after = Some(last.id);
                }
                _ => return Ok(synced),
            }
        }
    }

    async fn sync_one(&self, row: &RunningRow) -> Result<bool, Error> {
        let id = DeploymentId::from_uuid(row.id);
        let rollout = match self
            .cluster
            .observe(&row.namespace, &row.service, &row.id.to_string())
            .await
        {
            Ok(rollout) => rollout,
            Err(e) => {
                tracing::debug!(deployment.id = %id, error = %e, "status sync could not read the cluster");
                return Ok(false);
            }
        };
        let seen = observed(&rollout);
        // The replicas the autoscaler chose, for an autoscaled service (billed when changed).
        let replicas = match rollout {
            _ if !row.autoscaled => None,
            Rollout::Complete { replicas, .. } => Some(replicas),
            Rollout::Progressing { desired, .. } => Some(desired),
            Rollout::Failed { .. } | Rollout::Missing => None,
        };
        let changed = self.dispatch.record_health(row, &seen, replicas).await?;
        if changed {
            tracing::info!(
                deployment.id = %id,
                health = seen.health,
                ready = seen.ready_replicas,
                reason = seen.reason.unwrap_or(""),
                "deployment health changed"
            );
        }
        Ok(changed)
    }

    /// Syncs every `interval` until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.sync().await {
                tracing::warn!(error = %e, "status sync failed; retrying next round");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
