//! The janitor: a periodic sweep that ends work whose result will never come, so nothing stays
//! `building` forever. Idempotent statements, so every replica may run it.

use std::time::Duration;

use switchyard_core::BuildDispatch;
use tokio_util::sync::CancellationToken;

/// What the janitor sweeps and how often.
#[derive(Clone)]
pub struct Janitor {
    pub builds: BuildDispatch,
    /// `ENCLII_BUILD_TIMEOUT`: a release `building` for longer fails with `BuildTimedOut`.
    pub build_timeout: Duration,
    pub interval: Duration,
}

impl Janitor {
    /// Sweeps until `shutdown` is cancelled; a failed sweep is logged and retried next round.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.builds.time_out_builds(self.build_timeout).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("janitor: {n} build(s) timed out"),
                Err(e) => tracing::warn!(error = %e, "janitor sweep failed; retrying next round"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
