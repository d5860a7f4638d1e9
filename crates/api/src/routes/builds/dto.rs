//! Bodies of the build and release routes (the original `Release` fields, plus the cause of a
//! failure and the Roundhouse job id).

use serde::{Deserialize, Serialize};
use switchyard_core::{CallbackOutcome, ReleaseRow};
use utoipa::ToSchema;

use crate::routes::auth::dto::rfc3339;

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct BuildRequest {
    /// 7 to 40 hex digits (missing: 400 naming `git_sha`).
    #[serde(default)]
    pub(crate) git_sha: String,
    /// Default: the service's `git_branch`.
    pub(crate) git_branch: Option<String>,
}

/// A release. The SBOM text is not included (`GET /v1/releases/{id}/sbom`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReleaseView {
    id: String,
    service_id: String,
    version: String,
    image_uri: String,
    git_sha: String,
    git_branch: String,
    /// `building`, `ready` or `failed`.
    status: String,
    /// Why it failed, machine-readable (`BuildFailed`, `BuildTimedOut`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    /// Roundhouse's job id.
    #[serde(skip_serializing_if = "Option::is_none")]
    job_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_digest: Option<String>,
    has_sbom: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    sbom_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_duration_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl ReleaseView {
    pub(crate) fn git_sha(&self) -> &str {
        &self.git_sha
    }
}

impl From<ReleaseRow> for ReleaseView {
    fn from(r: ReleaseRow) -> Self {
        Self {
            id: r.id.to_string(),
            service_id: r.service_id.to_string(),
            version: r.version,
            image_uri: r.image_uri,
            git_sha: r.git_sha,
            git_branch: r.git_branch,
            status: r.status,
            reason: r.reason,
            error_message: r.error_message,
            job_id: r.job_id,
            image_digest: r.image_digest,
            has_sbom: r.has_sbom,
            sbom_format: r.sbom_format,
            image_signature: r.image_signature,
            build_duration_secs: r.build_duration_secs,
            completed_at: r.completed_at.map(rfc3339),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// `{releases: [...]}`, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReleaseList {
    pub(crate) releases: Vec<ReleaseView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SbomView {
    pub(crate) release_id: String,
    pub(crate) sbom_format: Option<String>,
    /// The SBOM document as Roundhouse produced it.
    pub(crate) sbom: String,
}

/// `{"status":"processed","release_id":…}` (the original's answer) plus what happened.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CallbackProcessed {
    status: &'static str,
    release_id: String,
    /// The release's status now.
    release_status: &'static str,
    /// The release already had this result; nothing changed.
    duplicate: bool,
    /// The deployment auto-deploy created.
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_id: Option<String>,
}

impl From<CallbackOutcome> for CallbackProcessed {
    fn from(o: CallbackOutcome) -> Self {
        Self {
            status: "processed",
            release_id: o.release_id.to_string(),
            release_status: o.status.as_str(),
            duplicate: o.duplicate,
            deployment_id: o.deployment_id.map(|d| d.to_string()),
        }
    }
}
