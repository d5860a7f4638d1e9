//! Where a commit is on its way to production: its release (Roundhouse's build) and that
//! release's newest deployment, for one service or for every service the caller can see.

use switchyard_db::repo::{deployments, projects, releases};
use switchyard_domain::{Error, GitSha, ReleaseId, ResourceKind, ServiceId};

use crate::{
    ControlPlane, DeploymentRow, Principal, ReleaseRow, auth::db_unavailable, policy::Need,
};

/// How a build is named in `GET /v1/services/:id/builds/:build_id/status`: the original
/// accepted a release id or a commit SHA (full or abbreviated).
#[derive(Debug, Clone)]
pub enum BuildRef {
    Release(ReleaseId),
    Commit(GitSha),
}

impl BuildRef {
    /// A UUID names a release; anything else must be a SHA (400 otherwise).
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw.parse::<uuid::Uuid>() {
            Ok(id) => Ok(Self::Release(ReleaseId::from_uuid(id))),
            Err(_) => GitSha::parse(raw).map(Self::Commit),
        }
    }
}

/// One service's build of a commit. `release` is `None` when the commit was not built yet (the
/// original answered `overall_status: "pending"` then, which the UI polls for); a release id that
/// is not this service's is a 404.
#[derive(Debug, Clone)]
pub struct BuildStatus {
    pub service_id: ServiceId,
    pub service_name: String,
    pub release: Option<ReleaseRow>,
    pub deployment: Option<DeploymentRow>,
}

/// At most this many services answer `GET /v1/builds/:sha/status`.
pub const MAX_SERVICES_PER_COMMIT: i64 = 100;

impl ControlPlane {
    /// `GET /v1/services/:id/builds/:build_id/status`.
    pub async fn build_status(
        &self,
        principal: &Principal,
        service_id: ServiceId,
        build: &BuildRef,
    ) -> Result<BuildStatus, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let found = self
            .service_authorized(&mut conn, principal, service_id, Need::Read, false)
            .await?;
        let release = match build {
            BuildRef::Commit(sha) => releases::latest_of_commit(&mut conn, service_id, sha).await?,
            // A release of another service is no build of this one.
            BuildRef::Release(id) => Some(
                releases::find(&mut conn, *id)
                    .await?
                    .filter(|r| r.service_id() == service_id)
                    .ok_or_else(|| Error::not_found(ResourceKind::Release, id.to_string()))?,
            ),
        };
        let deployment = match &release {
            Some(r) => deployments::latest_of_release(&mut conn, r.id()).await?,
            None => None,
        };
        Ok(BuildStatus {
            service_id,
            service_name: found.service.spec.0.name,
            release,
            deployment,
        })
    }

    /// `GET /v1/builds/:sha/status`: every service the caller can read with a build of `sha`.
    pub async fn builds_of_commit(
        &self,
        principal: &Principal,
        sha: &GitSha,
    ) -> Result<Vec<BuildStatus>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let visible = if principal.is_platform_admin() {
            None
        } else {
            Some(projects::visible_ids(&mut conn, principal.user_id).await?)
        };
        let candidates = releases::latest_per_service_of_commit(
            &mut conn,
            sha,
            visible.as_deref(),
            MAX_SERVICES_PER_COMMIT,
        )
        .await?;
        // The visibility filter above is a prefilter; the policy still decides each service
        // (a scoped token or an environment-only grant may read less).
        let mut out = Vec::with_capacity(candidates.len());
        for release in candidates {
            let found = match self
                .service_authorized(
                    &mut conn,
                    principal,
                    release.service_id(),
                    Need::Read,
                    false,
                )
                .await
            {
                Ok(found) => found,
                Err(Error::NotFound { .. } | Error::Forbidden) => continue,
                Err(other) => return Err(other),
            };
            let deployment = deployments::latest_of_release(&mut conn, release.id()).await?;
            out.push(BuildStatus {
                service_id: found.service.id(),
                service_name: found.service.spec.0.name,
                release: Some(release),
                deployment,
            });
        }
        Ok(out)
    }
}
