//! The `builds` job: hands a `building` release to Roundhouse (`POST /internal/enqueue`, the
//! original payload and bearer) and records the job id it answers. A 5xx, a timeout or a refused
//! connection is retried with backoff; a 4xx, or no Roundhouse configured, fails the build at
//! once; either way a build that cannot be enqueued ends `failed` with the cause in
//! `error_message`, never `building` forever.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use switchyard_core::BuildDispatch;
use switchyard_domain::{Error, ReleaseId};
use switchyard_queue::{Handled, Job, JobError, Message};

/// Where Roundhouse is and the key it expects.
#[derive(Debug, Clone)]
pub struct Roundhouse {
    /// `ENCLII_ROUNDHOUSE_URL`, without a trailing `/`.
    pub url: String,
    /// `ENCLII_ROUNDHOUSE_API_KEY`, sent as `Authorization: Bearer`.
    pub key: Option<SecretString>,
}

/// How long one enqueue may take (the original's client timeout; under the reclaim idle time).
const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct BuildsJob {
    dispatch: BuildDispatch,
    roundhouse: Option<Roundhouse>,
    client: reqwest::Client,
}

#[derive(Debug, Deserialize)]
struct Enqueued {
    job_id: String,
}

impl BuildsJob {
    /// `roundhouse: None` (no `ENCLII_ROUNDHOUSE_URL`): every build fails naming the variable.
    pub fn new(dispatch: BuildDispatch, roundhouse: Option<Roundhouse>) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .timeout(ENQUEUE_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::internal("building the Roundhouse client", e))?;
        Ok(Self {
            dispatch,
            roundhouse,
            client,
        })
    }

    fn release(message: &Message) -> Result<ReleaseId, JobError> {
        message
            .payload
            .get("release_id")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| JobError::Permanent("the event names no release_id".to_owned()))
    }
}

#[async_trait::async_trait]
impl Job for BuildsJob {
    fn topic(&self) -> &'static str {
        switchyard_core::BUILDS_TOPIC
    }

    async fn run(&self, message: &Message) -> Result<Handled, JobError> {
        let release = Self::release(message)?;
        let Some(request) = self
            .dispatch
            .request(release)
            .await
            .map_err(|e| JobError::from_domain(&e))?
        else {
            return Ok(Handled::Done); // no longer building: a redelivery, or the janitor gave up on it
        };
        let Some(roundhouse) = &self.roundhouse else {
            return Err(JobError::Permanent(
                "no build service is configured: set ENCLII_ROUNDHOUSE_URL".to_owned(),
            ));
        };
        let mut call = self
            .client
            .post(format!("{}/internal/enqueue", roundhouse.url))
            // Roundhouse may dedupe on it; the release id is what a retry repeats.
            .header("Idempotency-Key", release.to_string())
            .json(&request);
        if let Some(key) = &roundhouse.key {
            call = call.bearer_auth(key.expose_secret());
        }
        let response = call
            .send()
            .await
            .map_err(|e| JobError::Retry(format!("Roundhouse did not answer: {e}")))?;
        let status = response.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(JobError::Retry(format!("Roundhouse answered {status}")));
        }
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let excerpt: String = body.chars().take(200).collect();
            return Err(JobError::Permanent(format!(
                "Roundhouse refused the build ({status}): {excerpt}"
            )));
        }
        let enqueued: Enqueued = response
            .json()
            .await
            .map_err(|e| JobError::Retry(format!("Roundhouse's answer has no job_id: {e}")))?;
        self.dispatch
            .enqueued(release, &enqueued.job_id)
            .await
            .map_err(|e| JobError::from_domain(&e))?;
        tracing::info!(release.id = %release, job_id = %enqueued.job_id, "build enqueued at Roundhouse");
        Ok(Handled::Done)
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), Error> {
        let Ok(release) = Self::release(message) else {
            return Ok(());
        };
        self.dispatch
            .abandoned(release, "EnqueueFailed", reason)
            .await
            .map(|_| ())
    }
}
