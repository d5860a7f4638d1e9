//! The `waybill` job: forwards each usage event the ledger recorded for the first time to an
//! external Waybill (`POST {ENCLII_WAYBILL_URL}/internal/events/batch`, `X-API-Key`), as
//! `{"events": [event]}`. A 5xx, 429, timeout or refused connection is retried; a 4xx is
//! dead-lettered with Waybill's answer. Delivery is at least once (a crash between Waybill's
//! answer and the outbox stamp, or a redelivered stream entry, sends it again), so every
//! delivery of an event carries the same stable id, the ledger's: as `id` and, because
//! Waybill's request type has no `id` field and keeps `metadata` as given, as
//! `metadata.event_id`, which is what Waybill must dedupe on.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use switchyard_queue::{Handled, Job, JobError, Message};

/// Where Waybill is and the key it expects.
#[derive(Debug, Clone)]
pub struct Waybill {
    /// `ENCLII_WAYBILL_URL`, without a trailing `/`.
    pub url: String,
    /// `ENCLII_WAYBILL_API_KEY`, sent as `X-API-Key`.
    pub key: Option<SecretString>,
}

const TIMEOUT: Duration = Duration::from_secs(15);

pub struct WaybillJob {
    waybill: Waybill,
    client: reqwest::Client,
}

impl WaybillJob {
    pub fn new(waybill: Waybill) -> Result<Self, switchyard_domain::Error> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| switchyard_domain::Error::internal("building the Waybill client", e))?;
        Ok(Self { waybill, client })
    }
}

#[async_trait::async_trait]
impl Job for WaybillJob {
    fn topic(&self) -> &'static str {
        switchyard_billing::WAYBILL_TOPIC
    }

    async fn run(&self, message: &Message) -> Result<Handled, JobError> {
        let body = serde_json::json!({ "events": [with_event_id(&message.payload)?] });
        let mut call = self
            .client
            .post(format!("{}/internal/events/batch", self.waybill.url))
            .json(&body);
        if let Some(key) = &self.waybill.key {
            call = call.header("X-API-Key", key.expose_secret());
        }
        let response = call
            .send()
            .await
            .map_err(|e| JobError::Retry(format!("Waybill did not answer: {e}")))?;
        let status = response.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(JobError::Retry(format!("Waybill answered {status}")));
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let excerpt: String = text.chars().take(200).collect();
            return Err(JobError::Permanent(format!(
                "Waybill refused the event ({status}): {excerpt}"
            )));
        }
        Ok(Handled::Done)
    }
}

/// `event` with its ledger id copied to `metadata.event_id`.
fn with_event_id(event: &serde_json::Value) -> Result<serde_json::Value, JobError> {
    let id = event
        .get("id")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| JobError::Permanent("a usage event without its id".to_owned()))?
        .to_owned();
    let mut event = event.clone();
    match event.get_mut("metadata") {
        Some(serde_json::Value::Object(metadata)) => {
            metadata.insert("event_id".to_owned(), id.into());
        }
        _ => event["metadata"] = serde_json::json!({ "event_id": id }),
    }
    Ok(event)
}
