//! The outbox relay: claims a batch of unpublished outbox rows (oldest first, `for update skip
//! locked`, so replicas share the work), publishes each to its topic's stream and marks the
//! published ones in the same transaction. When Redis fails the rest of the batch stays
//! unpublished (the failure is counted on the row) and the relay backs off; a crash after `XADD`
//! but before the commit republishes the row later, which consumers dedupe by outbox id.

use std::{sync::Arc, time::Duration};

use switchyard_db::{PgPool, repo::outbox};
use switchyard_domain::Error;
use switchyard_queue::{Outgoing, Redis};
use tokio_util::sync::CancellationToken;

use crate::WorkerMetrics;

pub(crate) struct Relay {
    pub(crate) pool: PgPool,
    pub(crate) redis: Redis,
    pub(crate) batch: i64,
    pub(crate) poll: Duration,
    pub(crate) stream_max_len: usize,
    pub(crate) metrics: Arc<WorkerMetrics>,
}

impl Relay {
    pub(crate) async fn run(self, shutdown: CancellationToken) {
        let mut failures: u32 = 0;
        while !shutdown.is_cancelled() {
            let pause = match self.relay_batch().await {
                // A full batch: more rows are probably waiting.
                Ok(n) if i64::try_from(n).unwrap_or(i64::MAX) >= self.batch => {
                    failures = 0;
                    continue;
                }
                Ok(_) => {
                    if failures > 0 {
                        tracing::info!("outbox relay publishing again");
                    }
                    failures = 0;
                    self.poll
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    if failures == 1 {
                        tracing::warn!(
                            error = &e as &dyn std::error::Error,
                            "outbox relay cannot publish; events stay in the outbox and are retried"
                        );
                    }
                    self.poll
                        .saturating_mul(1 << failures.min(5))
                        .min(Duration::from_secs(5))
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {},
                () = shutdown.cancelled() => {},
            }
        }
    }

    /// Publishes one batch; returns how many rows it published.
    async fn relay_batch(&self) -> Result<usize, Error> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| Error::unavailable("database unavailable", e))?;
        let rows = outbox::claim_unpublished(&mut tx, self.batch).await?;
        let mut published = Vec::with_capacity(rows.len());
        let mut failure = None;
        for row in &rows {
            let event = Outgoing {
                outbox_id: row.id,
                topic: &row.topic,
                payload: &row.payload,
                trace_context: &row.trace_context,
            };
            match self.redis.publish(&event, self.stream_max_len).await {
                Ok(()) => {
                    published.push(row.id);
                    self.metrics.published(&row.topic);
                }
                Err(e) => {
                    outbox::record_publish_failure(&mut tx, row.id, &error_chain(&e)).await?;
                    self.metrics.publish_failed(&row.topic);
                    failure = Some(e);
                    break;
                }
            }
        }
        outbox::mark_published(&mut tx, &published).await?;
        tx.commit()
            .await
            .map_err(|e| Error::unavailable("database unavailable", e))?;
        match failure {
            Some(e) => Err(e),
            None => Ok(published.len()),
        }
    }
}

/// The error with its causes, for the row's `last_error`.
fn error_chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
