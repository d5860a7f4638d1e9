//! `GET /v1/services/:id/builds/:build_id/status` and `GET /v1/builds/:commit_sha/status`: the
//! original `UnifiedBuildStatus` (build and deployment stages and one overall status), now
//! authenticated and limited to what the caller can read.

use axum::extract::State;
use serde::Serialize;
use switchyard_core::{BuildRef, BuildStatus};
use switchyard_domain::{DeploymentPhase, GitSha, ServiceId};
use utoipa::ToSchema;

use super::dto::ReleaseView;
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path},
    routes::{auth::dto::rfc3339, deployments::dto::DeploymentView},
};

/// Roundhouse's part: the release.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoundhouseStatus {
    release: ReleaseView,
    /// `building`, `ready` or `failed`.
    status: String,
    image_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    has_sbom: bool,
    has_signature: bool,
}

/// The newest deployment of the release.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeploymentProgress {
    deployment: DeploymentView,
    /// `pending`, `running` or `failed`.
    status: &'static str,
    health: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BuildStage {
    /// `Container Build` or `Deployment`.
    name: &'static str,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    /// The build's logs, when Roundhouse gave a link.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// One service's build of one commit.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnifiedBuildStatus {
    commit_sha: String,
    service_id: String,
    service_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    roundhouse: Option<RoundhouseStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment: Option<DeploymentProgress>,
    /// `pending`, `building`, `ready`, `deploying`, `running` or `failed`.
    overall_status: &'static str,
    stages: Vec<BuildStage>,
}

/// `{commit_sha, services}`; `services` is `null` when nothing matches, as in the original.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CommitBuilds {
    commit_sha: String,
    services: Option<Vec<UnifiedBuildStatus>>,
}

/// The original's rule: any failure fails the whole; then the furthest stage reached.
fn overall(build: Option<&str>, deploy: Option<&str>) -> &'static str {
    match (build, deploy) {
        (Some("failed"), _) | (_, Some("failed")) => "failed",
        (_, Some("running")) => "running",
        (_, Some(_)) => "deploying",
        (Some("ready"), None) => "ready",
        (Some("building"), None) => "building",
        _ => "pending",
    }
}

impl UnifiedBuildStatus {
    fn new(status: BuildStatus, asked: &str) -> Self {
        let mut stages = Vec::new();
        let roundhouse = status.release.map(|r| {
            let failed = r.status == "failed";
            stages.push(BuildStage {
                name: "Container Build",
                status: r.status.clone(),
                started_at: Some(rfc3339(r.created_at)),
                completed_at: r.completed_at.map(rfc3339),
                error_message: r.error_message.clone().filter(|_| failed),
                url: r.logs_url.clone(),
            });
            RoundhouseStatus {
                status: r.status.clone(),
                image_uri: r.image_uri.clone(),
                error_message: r.error_message.clone().filter(|_| failed),
                has_sbom: r.has_sbom,
                has_signature: r.image_signature.is_some(),
                release: r.into(),
            }
        });
        let deployment = status.deployment.map(|d| {
            let phase = DeploymentPhase::parse(&d.phase);
            let view = DeploymentView::from(d);
            let failed = view.status == "failed";
            stages.push(BuildStage {
                name: "Deployment",
                status: view.status.to_owned(),
                started_at: Some(view.created_at.clone()),
                completed_at: phase
                    .filter(|p| !p.in_progress())
                    .map(|_| view.updated_at.clone()),
                error_message: view.error_message.clone().filter(|_| failed),
                url: None,
            });
            DeploymentProgress {
                status: view.status,
                health: view.health.clone(),
                error_message: view.error_message.clone().filter(|_| failed),
                deployment: view,
            }
        });
        let overall_status = overall(
            roundhouse.as_ref().map(|r| r.status.as_str()),
            deployment.as_ref().map(|d| d.status),
        );
        Self {
            commit_sha: roundhouse
                .as_ref()
                .map_or_else(|| asked.to_owned(), |r| r.release.git_sha().to_owned()),
            service_id: status.service_id.to_string(),
            service_name: status.service_name,
            roundhouse,
            deployment,
            overall_status,
            stages,
        }
    }
}

/// A service's build of a commit (a full or abbreviated SHA, or a release id). A commit with no
/// build yet answers `overall_status: "pending"`, which the UI polls for.
#[utoipa::path(get, path = "/v1/services/{id}/builds/{build_id}/status", tag = "builds",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("build_id" = String, Path, description = "Commit SHA (7–40 hex digits) or release id"),
    ),
    responses(
        (status = 200, description = "Where the build is", body = UnifiedBuildStatus),
        (status = 400, description = "build_id is neither a SHA nor a release id", body = Problem),
        (status = 404, description = "No such service you can see, or no such release of it", body = Problem),
    ))]
pub(crate) async fn build_status(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((id, build_id)): Path<(ServiceId, String)>,
) -> Result<Json<UnifiedBuildStatus>, ApiError> {
    let build = BuildRef::parse(&build_id)?;
    let status = state.cp.build_status(&principal, id, &build).await?;
    Ok(Json(UnifiedBuildStatus::new(
        status,
        &build_id.to_ascii_lowercase(),
    )))
}

/// Every service you can read that built a commit (full or abbreviated SHA).
#[utoipa::path(get, path = "/v1/builds/{commit_sha}/status", tag = "builds",
    security(("bearer" = [])),
    params(("commit_sha" = String, Path, description = "7–40 hex digits")),
    responses(
        (status = 200, description = "The builds of the commit", body = CommitBuilds),
        (status = 400, description = "Not a SHA", body = Problem),
        (status = 401, description = "Not signed in", body = Problem),
    ))]
pub(crate) async fn commit_status(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(commit_sha): Path<String>,
) -> Result<Json<CommitBuilds>, ApiError> {
    let sha = GitSha::parse(&commit_sha)?;
    let found = state.cp.builds_of_commit(&principal, &sha).await?;
    let services = (!found.is_empty()).then(|| {
        found
            .into_iter()
            .map(|s| UnifiedBuildStatus::new(s, sha.as_str()))
            .collect()
    });
    Ok(Json(CommitBuilds {
        commit_sha: sha.as_str().to_owned(),
        services,
    }))
}

#[cfg(test)]
mod tests {
    use super::overall;

    #[test]
    fn overall_follows_the_furthest_stage_and_any_failure() {
        assert_eq!(overall(None, None), "pending");
        assert_eq!(overall(Some("building"), None), "building");
        assert_eq!(overall(Some("ready"), None), "ready");
        assert_eq!(overall(Some("failed"), None), "failed");
        assert_eq!(overall(Some("ready"), Some("pending")), "deploying");
        assert_eq!(overall(Some("ready"), Some("running")), "running");
        assert_eq!(overall(Some("ready"), Some("failed")), "failed");
    }
}
