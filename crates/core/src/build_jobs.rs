//! What the worker's `builds` job needs from the control plane: the Roundhouse enqueue request
//! of a release still `building`, and recording the outcome (the job id, or a failure that names
//! its cause so it is visible on the release).

use serde::Serialize;
use serde_json::Value;
use switchyard_db::repo::releases;
use switchyard_domain::{Error, ReleaseId, ReleaseStatus};

use switchyard_db::PgPool;

use crate::auth::db_unavailable;

/// The body of Roundhouse's `POST /internal/enqueue` (the original contract).
#[derive(Debug, Clone, Serialize)]
pub struct EnqueueRequest {
    pub release_id: String,
    pub service_id: String,
    pub service_name: String,
    pub project_id: String,
    pub git_repo: String,
    pub git_sha: String,
    pub git_branch: String,
    pub build_config: Value,
    pub callback_url: String,
    pub priority: i32,
}

/// The control plane's side of the `builds` job. Needs no caller: it only reads the release
/// and records what Roundhouse answered.
#[derive(Clone)]
pub struct BuildDispatch {
    pool: PgPool,
    /// Our base URL as Roundhouse reaches it (`ENCLII_SELF_URL`).
    self_url: String,
}

impl BuildDispatch {
    pub fn new(pool: PgPool, self_url: String) -> Self {
        Self { pool, self_url }
    }

    /// The enqueue request for `release`, or `None` when there is nothing to build any more (the
    /// release is gone or no longer `building`: a redelivered event).
    pub async fn request(&self, release: ReleaseId) -> Result<Option<EnqueueRequest>, Error> {
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        let Some(row) = releases::find(&mut conn, release).await? else {
            return Ok(None);
        };
        if ReleaseStatus::parse(&row.status) != Some(ReleaseStatus::Building) {
            return Ok(None);
        }
        let found = crate::services::load(&mut conn, row.service_id(), false).await?;
        let spec = &found.service.spec.0;
        let mut build_config = serde_json::to_value(&spec.build_config)
            .map_err(|e| Error::internal("serialising a build config", e))?;
        if let Some(config) = build_config.as_object_mut() {
            config
                .entry("context")
                .or_insert_with(|| Value::from(spec.app_path.clone()));
            config
                .entry("build_args")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
        }
        let base = self.self_url.trim_end_matches('/');
        Ok(Some(EnqueueRequest {
            release_id: row.id.to_string(),
            service_id: row.service_id.to_string(),
            service_name: spec.name.clone(),
            project_id: found.project.id.to_string(),
            git_repo: spec.git_repo.clone(),
            git_sha: row.git_sha,
            git_branch: row.git_branch,
            build_config,
            callback_url: format!("{base}/v1/callbacks/build-complete"),
            priority: 1,
        }))
    }

    /// Roundhouse accepted the build as `job_id`.
    pub async fn enqueued(&self, release: ReleaseId, job_id: &str) -> Result<(), Error> {
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        releases::set_job_id(&mut conn, release, job_id).await
    }

    /// The build cannot happen: the release becomes `failed` with `reason` (machine-readable)
    /// and `message` (for people). No effect once the release has left `building`.
    pub async fn abandoned(
        &self,
        release: ReleaseId,
        reason: &str,
        message: &str,
    ) -> Result<bool, Error> {
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        let failed = releases::mark_failed(&mut conn, release, None, reason, message).await?;
        if failed {
            tracing::warn!(release.id = %release, reason, "build abandoned: {message}");
        }
        Ok(failed)
    }

    /// The janitor's sweep: releases still `building` after `timeout` become `failed` with reason
    /// `BuildTimedOut` (a callback that never came, a build Roundhouse lost). Returns how many.
    pub async fn time_out_builds(&self, timeout: std::time::Duration) -> Result<usize, Error> {
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        let cutoff = time::OffsetDateTime::now_utc()
            - time::Duration::try_from(timeout).unwrap_or(time::Duration::MAX);
        let message = format!(
            "no build result within {} minutes (ENCLII_BUILD_TIMEOUT)",
            timeout.as_secs() / 60
        );
        let failed = releases::fail_stuck(&mut conn, cutoff, "BuildTimedOut", &message).await?;
        for id in &failed {
            tracing::warn!(release.id = %id, "build timed out");
        }
        Ok(failed.len())
    }
}
