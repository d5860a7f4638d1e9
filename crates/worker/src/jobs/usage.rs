//! The `usage` job: the billing consumer. Records each usage event in the ledger once (the
//! event id is the key; a redelivery or a replayed outbox row finds it there and changes
//! nothing), which also rebuilds the resource's stretches and marks the hours to re-aggregate.

use switchyard_billing::{Ledger, UsageEvent};
use switchyard_queue::{Handled, Job, JobError, Message};

pub struct UsageJob {
    ledger: Ledger,
}

impl UsageJob {
    pub fn new(ledger: Ledger) -> Self {
        Self { ledger }
    }
}

#[async_trait::async_trait]
impl Job for UsageJob {
    fn topic(&self) -> &'static str {
        switchyard_core::USAGE_TOPIC
    }

    async fn run(&self, message: &Message) -> Result<Handled, JobError> {
        let event: UsageEvent = serde_json::from_value(message.payload.clone())
            .map_err(|e| JobError::Permanent(format!("not a usage event: {e}")))?;
        let new = self
            .ledger
            .record(&event)
            .await
            .map_err(|e| JobError::from_domain(&e))?;
        tracing::debug!(usage.event = %event.id, new, "usage event {}", event.event_type);
        Ok(Handled::Done)
    }
}
