//! What a job handler sees and implements: [`Message`] (one delivery of an outbox event),
//! [`Handled`] (done, or check again later), [`JobError`] (retry later or give up) and the
//! [`Job`] trait.
//!
//! Delivery is **at least once**: the relay may publish an outbox row twice (it crashed between
//! `XADD` and marking the row published) and a consumer that crashes mid-job has its entries
//! reclaimed and run again. Every job must therefore be idempotent by `outbox_id` or by a state
//! guard (re-read the resource, do nothing when the work is already done).

use switchyard_domain::Error;
use uuid::Uuid;

use crate::stream::RawEntry;

/// One delivery of an outbox event.
#[derive(Debug, Clone)]
pub struct Message {
    /// The outbox row's id: the dedupe key.
    pub outbox_id: Uuid,
    pub topic: String,
    pub payload: serde_json::Value,
    /// 1 for the first try; the consumer gives up after `max_attempts`.
    pub attempt: u32,
    /// W3C trace context of the transaction that wrote the event (`traceparent`, `tracestate`).
    pub trace_context: serde_json::Value,
}

impl Message {
    /// Parses a stream entry; the error says what is wrong with it (it is dead-lettered).
    pub(crate) fn from_entry(entry: &RawEntry) -> Result<Self, String> {
        let field = |name: &str| {
            entry
                .fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let outbox_id = field("id")
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| format!("entry {} has no valid `id` field", entry.id))?;
        let topic = field("topic").unwrap_or_default().to_owned();
        let payload = field("payload")
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| format!("entry {} has a `payload` that is not JSON: {e}", entry.id))?
            .unwrap_or(serde_json::Value::Null);
        let attempt = field("attempt")
            .and_then(|a| a.parse().ok())
            .unwrap_or(1u32)
            .max(1);
        let trace_context = field("trace")
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        Ok(Self {
            outbox_id,
            topic,
            payload,
            attempt,
            trace_context,
        })
    }
}

/// How a delivery ended when the job did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// The work is done: the entry is acknowledged.
    Done,
    /// Not done yet and nothing is wrong (a rollout still progressing): run the same message
    /// again after this long, without counting an attempt. The job decides when to stop.
    Later(std::time::Duration),
}

/// Why a job did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (a peer or dependency is down, a conflict): retried with
    /// exponential backoff until the maximum number of attempts, then dead-lettered.
    #[error("{0}")]
    Retry(String),
    /// Will never succeed (the payload is invalid, the resource is in a state that forbids the
    /// work): dead-lettered at once.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// A retryable error from a domain error: `Unavailable` and `Internal` are worth retrying,
    /// everything else (not found, invalid, conflict) is permanent.
    pub fn from_domain(error: &Error) -> Self {
        let reason = match error {
            Error::Internal { context, .. } => format!("internal error while {context}"),
            other => other.to_string(),
        };
        match error {
            Error::Unavailable { .. } | Error::Internal { .. } | Error::RateLimited { .. } => {
                Self::Retry(reason)
            }
            _ => Self::Permanent(reason),
        }
    }
}

/// A handler for the events of one topic. Register it with the worker
/// (`Worker::with_job(Arc::new(MyJob { .. }))`); one consumer per topic runs it with bounded
/// concurrency.
#[async_trait::async_trait]
pub trait Job: Send + Sync + 'static {
    /// The outbox topic this job consumes (stream `enclii:<topic>`).
    fn topic(&self) -> &'static str;

    /// Does the work for one delivery. Must be idempotent (see the module docs).
    async fn run(&self, message: &Message) -> Result<Handled, JobError>;

    /// Called once the consumer gives up on `message` (a permanent error, or the last attempt
    /// failed), before it goes to the dead-letter stream, so the owner of the resource can make
    /// the failure visible (e.g. mark a release `failed` with `reason`). May be called again for
    /// the same message if the worker crashes before the entry is buried, so it must be
    /// idempotent too. An error leaves the entry pending; it is reclaimed and buried later.
    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), Error> {
        let _ = (message, reason);
        Ok(())
    }
}
