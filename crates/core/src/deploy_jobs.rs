//! What the worker's `deployments` job needs from the control plane: everything a deployment
//! renders from (`DeployPlan`, loaded only while the deployment still has work to do), and its
//! phase changes, each a guarded update so a redelivered or stale message cannot move a
//! deployment backwards.

use std::{collections::BTreeMap, sync::Arc};

use secrecy::SecretString;
use switchyard_auth::sealing::KeyEncryptionKeys;
use switchyard_db::{
    PgPool,
    repo::{deployments, domains, environments, releases},
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
    /// The verified custom domains of the service in this environment: (host, wants TLS), by
    /// host. Read when the deployment is planned, so a domain change reaches the cluster with
    /// the next deployment.
    pub domains: Vec<(String, bool)>,
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

/// Who the audit log names for a rollback the platform made.
const AUTO_ROLLBACK_ACTOR: &str = "auto-rollback@system.enclii.dev";

/// One replica's hold on a deployment for one reconcile step (a transaction-scoped advisory
/// lock): released when dropped, also when the worker dies.
pub struct DeploymentClaim {
    tx: switchyard_db::Transaction,
}

impl DeploymentClaim {
    /// Lets go now (dropping lets go too, but only once the connection is next used).
    pub async fn release(self) {
        if let Err(e) = self.tx.rollback().await {
            tracing::warn!(error = %e, "releasing a deployment claim; the connection drops it");
        }
    }
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
        let hosts = domains::verified_hosts(&mut conn, deployment.service_id(), env.id()).await?;
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
            domains: hosts,
            created_at: deployment.created_at,
            deployment,
        }))
    }

    /// Deployment `id` for one reconcile step, or `None` while another replica holds it.
    pub async fn claim(&self, id: DeploymentId) -> Result<Option<DeploymentClaim>, Error> {
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        Ok(deployments::try_lock(&mut tx, id)
            .await?
            .then_some(DeploymentClaim { tx }))
    }

    /// The janitor's sweep: deployments on their way that nobody looked at for `idle` (their
    /// message was lost with Redis, say) get a new `deployments` event. Returns how many.
    pub async fn requeue_stalled(&self, idle: std::time::Duration) -> Result<usize, Error> {
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        let cutoff = OffsetDateTime::now_utc()
            - time::Duration::try_from(idle).unwrap_or(time::Duration::MAX);
        let stalled = deployments::stalled(&mut tx, cutoff, 100).await?;
        for id in &stalled {
            crate::deployments::request_reconcile(&mut tx, *id).await?;
            deployments::touch(&mut tx, *id).await?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing re-enqueued deployments", e))?;
        Ok(stalled.len())
    }

    /// Moves deployment `id` to `progress.phase` if it is still on its way (a finished or
    /// superseded deployment is never moved). Reaching `running` supersedes the deployment
    /// that ran before it in the same environment, and emits their usage events
    /// (`deployment.started`, `deployment.stopped`, `volume.*`), in the same transaction.
    /// Returns whether it moved.
    pub async fn advance(&self, id: DeploymentId, progress: &Progress<'_>) -> Result<bool, Error> {
        self.end_or_advance(id, progress, false)
            .await
            .map(|(moved, _)| moved)
    }

    /// Ends deployment `id` in `progress.phase` (`failed` or `timed_out`) and, with
    /// `roll_back`, creates in the same transaction a new deployment of the release that ran
    /// before it there (unless someone deployed since, or nothing ran before). Returns that
    /// rollback.
    pub async fn fail(
        &self,
        id: DeploymentId,
        progress: &Progress<'_>,
        roll_back: bool,
    ) -> Result<Option<DeploymentRow>, Error> {
        self.end_or_advance(id, progress, roll_back)
            .await
            .map(|(_, rollback)| rollback)
    }

    async fn end_or_advance(
        &self,
        id: DeploymentId,
        progress: &Progress<'_>,
        roll_back: bool,
    ) -> Result<(bool, Option<DeploymentRow>), Error> {
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
        let mut rollback = None;
        if let Some(row) = &moved {
            if progress.phase == DeploymentPhase::Running {
                let superseded = deployments::supersede_older(&mut tx, row, true).await?;
                crate::usage::deployment_running(&mut tx, row, &superseded).await?;
            } else if roll_back && !progress.phase.in_progress() {
                rollback = roll_back_from(&mut tx, row).await?;
            }
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a deployment phase", e))?;
        Ok((moved.is_some(), rollback))
    }
}

/// After `failed` ended: a new deployment of the release that ran before it in the same
/// environment, in the caller's transaction, unless a newer deployment exists there already or
/// nothing ran before.
async fn roll_back_from(
    tx: &mut switchyard_db::PgConnection,
    failed: &DeploymentRow,
) -> Result<Option<DeploymentRow>, Error> {
    let newest = deployments::list(tx, failed.service_id(), None, 1).await?;
    if newest
        .first()
        .is_some_and(|n| n.id != failed.id && n.environment_id == failed.environment_id)
    {
        return Ok(None); // someone deployed since: theirs wins
    }
    let Some(previous) = deployments::last_ran(
        tx,
        failed.service_id(),
        failed.environment_id(),
        failed.id(),
    )
    .await?
    .filter(|p| p.release_id != failed.release_id) else {
        return Ok(None);
    };
    let rollback = crate::deployments::enqueue(
        tx,
        &deployments::NewDeployment {
            id: DeploymentId::new(),
            service_id: failed.service_id(),
            environment_id: failed.environment_id(),
            release_id: previous.release_id(),
            replicas: previous.replicas,
            triggered_by: None,
            rolled_back_from: Some(failed.id()),
        },
    )
    .await?;
    let found = crate::services::load(tx, failed.service_id(), false).await?;
    crate::audit::record_system(
        tx,
        AUTO_ROLLBACK_ACTOR,
        crate::audit::Entry::new(
            "deployment.auto_rollback",
            "deployment",
            rollback.id,
            &found.service.spec.0.name,
        )
        .project(found.project.id())
        .environment(Some(failed.environment_id()))
        .changes(
            crate::audit::Changes::new()
                .set("rolled_back_from", failed.id.to_string())
                .set("reason", failed.reason.as_deref().unwrap_or("failed")),
        ),
    )
    .await?;
    Ok(Some(rollback))
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
