//! Dedupe by outbox id around every job: a delivery whose outbox row is already settled (handled
//! or dead: the relay published it twice, or Redis redelivered it after the job finished but
//! before the acknowledgement) is skipped; a finished job stamps `handled_at`; a given-up job stamps
//! `dead_at` and `dead_reason` after the job's own `dead_letter`. This narrows duplicates to a
//! crash between the job's effect and the stamp, so jobs must still be idempotent.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use switchyard_db::{PgPool, repo::outbox};
use switchyard_domain::Error;
use switchyard_queue::{Handled, Job, JobError, Message};

use crate::WorkerMetrics;

pub(crate) struct Deduped {
    inner: Arc<dyn Job>,
    pool: PgPool,
    skipped: Counter,
}

impl Deduped {
    pub(crate) fn new(inner: Arc<dyn Job>, pool: PgPool, metrics: &WorkerMetrics) -> Self {
        let skipped = metrics.skipped(inner.topic());
        Self {
            inner,
            pool,
            skipped,
        }
    }

    async fn conn(&self) -> Result<switchyard_db::PoolConnection, Error> {
        self.pool
            .acquire()
            .await
            .map_err(|e| Error::unavailable("database unavailable", e))
    }
}

#[async_trait::async_trait]
impl Job for Deduped {
    fn topic(&self) -> &'static str {
        self.inner.topic()
    }

    async fn run(&self, message: &Message) -> Result<Handled, JobError> {
        let retry = |e: Error| JobError::from_domain(&e);
        {
            let mut conn = self.conn().await.map_err(retry)?;
            if outbox::is_settled(&mut conn, message.outbox_id)
                .await
                .map_err(retry)?
            {
                self.skipped.inc();
                tracing::debug!(outbox.id = %message.outbox_id, "already handled or dead; skipped");
                return Ok(Handled::Done);
            }
        }
        let handled = self.inner.run(message).await?;
        if handled == Handled::Done {
            let mut conn = self.conn().await.map_err(retry)?;
            outbox::mark_handled(&mut conn, message.outbox_id)
                .await
                .map_err(retry)?;
        }
        Ok(handled)
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), Error> {
        self.inner.dead_letter(message, reason).await?;
        let mut conn = self.conn().await?;
        outbox::mark_dead(&mut conn, message.outbox_id, reason).await
    }
}
