//! The `waybill` job: forwards each usage event the ledger recorded for the first time to an
//! external Waybill (`POST {ENCLII_WAYBILL_URL}/internal/events/batch`, `X-API-Key`), as
//! `{"events": [event]}`. A 5xx, 429, timeout or refused connection is retried; a 4xx is
//! dead-lettered with Waybill's answer. Delivery is at least once (a crash between Waybill's
//! answer and the outbox stamp repeats it); each event carries its ledger `id`.

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
        let body = serde_json::json!({ "events": [message.payload] });
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
