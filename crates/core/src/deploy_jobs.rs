//! What the worker's `deployments` job needs from the control plane: everything a deployment
//! renders from (`DeployPlan`, loaded only while the deployment still has work to do), and its
//! phase changes, each a guarded update so a redelivered or stale message cannot move a
//! deployment backwards.

use std::{collections::BTreeMap, sync::Arc};

use secrecy::SecretString;
use switchyard_auth::sealing::KeyEncryptionKeys;
use switchyard_db::{
    PgPool,
    repo::{deployments, environments, releases},
};
use switchyard_domain::{
    DeploymentId, DeploymentPhase, EnvironmentId, Error, ProjectId, ReleaseId, ServiceId,
    ServiceSpec,
};
use time::OffsetDateTime;

use crate::{DeploymentRow, auth::db_unavailable, env_var_secrets::effective_env};

/// Everything one deployment renders from, owned.
pub struct DeployPlan {
    pub deployment: DeploymentRow,
    pub phase: DeploymentPhase,
    pub project_id: ProjectId,
    pub project_slug: String,
    pub environment_id: EnvironmentId,
    pub environment_name: String,
    pub namespace: String,
    pub service_id: ServiceId,
    pub spec: ServiceSpec,
    pub release_id: ReleaseId,
    pub version: String,
    pub git_sha: String,
    /// The image to run: pinned to its digest when Roundhouse reported one.
    pub image: String,
    pub env: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretString>,
    pub created_at: OffsetDateTime,
}

/// `uri` pinned to `digest` (`repo:tag` + `sha256:…` → `repo@sha256:…`), so a moved tag never
/// changes what runs; `uri` as it is when it is already pinned or there is no digest.
pub fn pinned_image(uri: &str, digest: Option<&str>) -> String {
    match digest.filter(|d| !uri.contains('@') && d.starts_with("sha256:")) {
        None => uri.to_owned(),
        Some(digest) => {
            let name_start = uri.rfind('/').map_or(0, |i| i + 1);
            let repo = match uri[name_start..].rfind(':') {
                Some(colon) => &uri[..name_start + colon],
                None => uri,
            };
            format!("{repo}@{digest}")
        }
    }
}

/// A phase a deployment moves to, with what the reconciler saw.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub phase: DeploymentPhase,
    pub reason: Option<&'a str>,
    pub message: Option<&'a str>,
    /// `unknown`, `healthy` or `unhealthy`.
    pub health: &'a str,
    pub ready_replicas: Option<i32>,
}

/// The control plane's side of the `deployments` job.
#[derive(Clone)]
pub struct DeploymentDispatch {
    pool: PgPool,
    keys: Option<Arc<KeyEncryptionKeys>>,
}

impl DeploymentDispatch {
    pub fn new(pool: PgPool, keys: Option<Arc<KeyEncryptionKeys>>) -> Self {
        Self { pool, keys }
    }

    /// The plan of deployment `id`, or `None` when it has nothing left to do (finished,
    /// superseded, or deleted).
    pub async fn plan(&self, id: DeploymentId) -> Result<Option<DeployPlan>, Error> {
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        let Some(deployment) = deployments::find(&mut conn, id).await? else {
            return Ok(None);
        };
        let Some(phase) = DeploymentPhase::parse(&deployment.phase).filter(|p| p.in_progress())
        else {
            return Ok(None);
        };
        let found = crate::services::load(&mut conn, deployment.service_id(), false).await?;
        let missing = |what: &str| Error::internal("loading a deployment", format!("no {what}"));
        let env = environments::find(&mut conn, deployment.environment_id())
            .await?
            .ok_or_else(|| missing("environment"))?;
        let release = releases::find(&mut conn, deployment.release_id())
            .await?
            .ok_or_else(|| missing("release"))?;
        let vars = effective_env(
            &mut conn,
            self.keys.as_deref(),
            deployment.service_id(),
            env.id(),
        )
        .await?;
        let (mut plain, mut secrets) = (BTreeMap::new(), BTreeMap::new());
        for var in vars {
            if var.is_secret {
                secrets.insert(var.key, var.value);
            } else {
                use secrecy::ExposeSecret;
                plain.insert(var.key, var.value.expose_secret().to_owned());
            }
        }
        Ok(Some(DeployPlan {
            phase,
            project_id: found.project.id(),
            project_slug: found.project.slug.clone(),
            environment_id: env.id(),
            environment_name: env.name.clone(),
            namespace: env.kube_namespace.clone(),
            service_id: found.service.id(),
            spec: found.service.spec.0.clone(),
            release_id: release.id(),
            version: release.version.clone(),
            git_sha: release.git_sha.clone(),
            image: pinned_image(&release.image_uri, release.image_digest.as_deref()),
            env: plain,
            secrets,
            created_at: deployment.created_at,
            deployment,
        }))
    }

    /// Moves deployment `id` to `progress.phase` if it is still on its way (a finished or
    /// superseded deployment is never moved). Reaching `running` supersedes the deployment
    /// that ran before it in the same environment, and emits their usage events
    /// (`deployment.started`, `deployment.stopped`, `volume.*`), in the same transaction.
    /// Returns whether it moved.
    pub async fn advance(&self, id: DeploymentId, progress: &Progress<'_>) -> Result<bool, Error> {
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        let from: Vec<&str> = DeploymentPhase::ALL
            .into_iter()
            .filter(|p| p.in_progress())
            .map(DeploymentPhase::as_str)
            .collect();
        let moved = deployments::set_phase(
            &mut tx,
            id,
            &from,
            &deployments::PhaseChange {
                phase: progress.phase.as_str(),
                reason: progress.reason,
                error_message: progress.message,
                health: progress.health,
                ready_replicas: progress.ready_replicas,
            },
        )
        .await?;
        if let Some(row) = &moved
            && progress.phase == DeploymentPhase::Running
        {
            let superseded = deployments::supersede_older(&mut tx, row, true).await?;
            crate::usage::deployment_running(&mut tx, row, &superseded).await?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a deployment phase", e))?;
        Ok(moved.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::pinned_image;

    #[test]
    fn images_are_pinned_to_their_digest() {
        let digest = Some("sha256:abc");
        assert_eq!(
            pinned_image("ghcr.io/acme/api:abc1234", digest),
            "ghcr.io/acme/api@sha256:abc"
        );
        assert_eq!(
            pinned_image("localhost:5000/api:v1", digest),
            "localhost:5000/api@sha256:abc",
            "a registry port is not a tag"
        );
        assert_eq!(
            pinned_image("localhost:5000/api", digest),
            "localhost:5000/api@sha256:abc"
        );
        assert_eq!(
            pinned_image("ghcr.io/acme/api@sha256:f00", digest),
            "ghcr.io/acme/api@sha256:f00"
        );
        assert_eq!(
            pinned_image("ghcr.io/acme/api:v1", None),
            "ghcr.io/acme/api:v1"
        );
        assert_eq!(
            pinned_image("ghcr.io/acme/api:v1", Some("md5:x")),
            "ghcr.io/acme/api:v1"
        );
    }
}
