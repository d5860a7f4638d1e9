//! The `deployments` job: reconciles one deployment, one short step per delivery.
//!
//! - **Cluster**: claim the deployment (one step at a time across replicas), render its objects,
//!   server-side apply them and prune what is no longer desired (only while `pending` or
//!   `applying`), then observe the rollout: complete → `running`; image pull or crash-loop
//!   failures → `failed` at once; still progressing → look again in a few seconds
//!   ([`Handled::Later`], never a blocking wait) until the rollout deadline → `timed_out`.
//!   A failure may roll back automatically to the release that ran before.
//! - **Render** (`switchyard dev` without a cluster): write the objects as YAML under the data
//!   directory; the deployment runs with health `unknown` and reason `RenderOnly`.
//! - **Unconfigured**: the deployment fails naming `ENCLII_KUBE_CONFIG`.
//!
//! The Ingress carries the service's verified domains in the environment, as they are when the
//! deployment is planned. `deployment.refresh` (a variable or a verified domain changed) applies
//! the objects of an applied deployment again, without changing its phase.
//!
//! Every phase change is guarded, so a redelivered message never moves a deployment backwards.

use std::{path::PathBuf, time::Duration};

use switchyard_core::{DeployPlan, DeploymentDispatch, Progress};
use switchyard_domain::{DeploymentId, DeploymentPhase, Error};
use switchyard_k8s::{
    Desired, RenderSettings,
    cluster::{Cluster, ClusterError, Rollout},
    write_manifests,
};
use switchyard_queue::{Handled, Job, JobError, Message};

/// Where deployments go.
#[derive(Debug, Clone)]
pub enum DeployTarget {
    /// A Kubernetes API server (`ENCLII_KUBE_CONFIG`, `KUBECONFIG` or in-cluster).
    Cluster(Cluster),
    /// Render mode: `DIR/manifests/<namespace>/<kind>-<name>.yaml`.
    Render { dir: PathBuf },
    /// No cluster and no render directory: deployments fail naming `ENCLII_KUBE_CONFIG`.
    Unconfigured,
}

/// When a failed deployment is rolled back to the release that ran before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRollback {
    Never,
    /// In environments named `production` (the default).
    Production,
    Always,
}

/// How the reconciler paces itself.
#[derive(Debug, Clone)]
pub struct ReconcileSettings {
    /// How often a rollout in progress is looked at.
    pub poll: Duration,
    /// A deployment not `running` this long after it was created times out.
    pub rollout_deadline: Duration,
    pub auto_rollback: AutoRollback,
    pub render: RenderSettings,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(5),
            rollout_deadline: Duration::from_secs(600),
            auto_rollback: AutoRollback::Production,
            render: RenderSettings::default(),
        }
    }
}

pub struct DeploymentsJob {
    dispatch: DeploymentDispatch,
    target: DeployTarget,
    settings: ReconcileSettings,
}

fn progress<'a>(phase: DeploymentPhase, reason: Option<&'a str>, health: &'a str) -> Progress<'a> {
    Progress {
        phase,
        reason,
        message: None,
        health,
        ready_replicas: None,
    }
}

fn domain(e: &Error) -> JobError {
    JobError::from_domain(e)
}

impl DeploymentsJob {
    pub fn new(
        dispatch: DeploymentDispatch,
        target: DeployTarget,
        settings: ReconcileSettings,
    ) -> Self {
        Self {
            dispatch,
            target,
            settings,
        }
    }

    fn deployment(message: &Message) -> Result<DeploymentId, JobError> {
        message
            .payload
            .get("deployment_id")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| JobError::Permanent("the event names no deployment_id".to_owned()))
    }

    async fn advance(&self, id: DeploymentId, progress: Progress<'_>) -> Result<(), JobError> {
        self.dispatch
            .advance(id, &progress)
            .await
            .map(drop)
            .map_err(|e| domain(&e))
    }

    /// Ends the deployment in `phase` (`failed` or `timed_out`) and, where configured, rolls
    /// back to the release that ran before it.
    async fn fail(
        &self,
        plan: &DeployPlan,
        phase: DeploymentPhase,
        reason: &str,
        message: &str,
    ) -> Result<Handled, JobError> {
        let id = plan.deployment.id();
        tracing::warn!(deployment.id = %id, reason, "deployment failed: {message}");
        let roll_back = match self.settings.auto_rollback {
            AutoRollback::Never => false,
            AutoRollback::Production => plan.environment_name == "production",
            AutoRollback::Always => true,
        };
        let ended = Progress {
            message: Some(message),
            ..progress(phase, Some(reason), "unhealthy")
        };
        let rollback = self
            .dispatch
            .fail(id, &ended, roll_back)
            .await
            .map_err(|e| domain(&e))?;
        if let Some(rollback) = rollback {
            tracing::info!(deployment.id = %id, rollback.id = %rollback.id, "rolling back automatically");
        }
        Ok(Handled::Done)
    }

    /// The plan's objects; `None` when they cannot be rendered (the deployment failed with
    /// `RenderFailed`: the service's settings need a change, retrying will not help).
    async fn render_or_fail(&self, plan: &DeployPlan) -> Result<Option<Desired>, JobError> {
        match plan.desired(&self.settings.render) {
            Ok(desired) => Ok(Some(desired)),
            Err(e) => {
                let reason = "RenderFailed";
                self.fail(plan, DeploymentPhase::Failed, reason, &e.to_string())
                    .await?;
                Ok(None)
            }
        }
    }

    async fn render_only(&self, plan: &DeployPlan, dir: PathBuf) -> Result<Handled, JobError> {
        let id = plan.deployment.id();
        let Some(desired) = self.render_or_fail(plan).await? else {
            return Ok(Handled::Done);
        };
        let written = tokio::task::spawn_blocking(move || write_manifests(&dir, &desired))
            .await
            .map_err(|e| JobError::Retry(format!("writing manifests was interrupted: {e}")))?
            .map_err(|e| JobError::Retry(format!("cannot write manifests: {e}")))?;
        tracing::info!(deployment.id = %id, files = written.len(), "deployment rendered");
        self.advance(
            id,
            Progress {
                ready_replicas: Some(0),
                ..progress(DeploymentPhase::Running, Some("RenderOnly"), "unknown")
            },
        )
        .await?;
        Ok(Handled::Done)
    }

    /// A cluster call's failure: retried when the API server may answer later; otherwise the
    /// deployment fails with the API server's words.
    async fn cluster_failed(
        &self,
        plan: &DeployPlan,
        e: ClusterError,
    ) -> Result<Handled, JobError> {
        if e.is_retryable() {
            return Err(JobError::Retry(e.to_string()));
        }
        let reason = match e {
            ClusterError::Rejected { .. } => "ApplyRejected",
            _ => "ClusterMisconfigured",
        };
        self.fail(plan, DeploymentPhase::Failed, reason, &e.to_string())
            .await
    }

    async fn reconcile(&self, cluster: &Cluster, plan: &DeployPlan) -> Result<Handled, JobError> {
        let id = plan.deployment.id();
        let Some(claim) = self.dispatch.claim(id).await.map_err(|e| domain(&e))? else {
            return Ok(Handled::Later(self.settings.poll)); // another replica is on it
        };
        let step = self.step(cluster, plan).await;
        claim.release().await;
        step
    }

    /// One reconcile step of a claimed deployment.
    async fn step(&self, cluster: &Cluster, plan: &DeployPlan) -> Result<Handled, JobError> {
        let id = plan.deployment.id();
        if matches!(
            plan.phase,
            DeploymentPhase::Pending | DeploymentPhase::Applying
        ) {
            let Some(desired) = self.render_or_fail(plan).await? else {
                return Ok(Handled::Done);
            };
            self.advance(id, progress(DeploymentPhase::Applying, None, "unknown"))
                .await?;
            let report = match cluster.apply(&desired).await {
                Ok(report) => report,
                Err(e) => return self.cluster_failed(plan, e).await,
            };
            if report.disabled {
                // `enclii.dev/reconcile: disabled`: hand-managed, nothing was written.
                let reason = Some("ReconcileDisabled");
                self.advance(id, progress(DeploymentPhase::Running, reason, "unknown"))
                    .await?;
                return Ok(Handled::Done);
            }
            if let Err(e) = cluster.prune(&desired).await {
                return self.cluster_failed(plan, e).await;
            }
            tracing::info!(deployment.id = %id, written = report.applied.len(), unchanged = report.unchanged, "applied");
            self.advance(id, progress(DeploymentPhase::RollingOut, None, "unknown"))
                .await?;
        }
        let rollout = match cluster
            .observe(&plan.namespace, &plan.spec.name, &id.to_string())
            .await
        {
            Ok(rollout) => rollout,
            Err(e) => return self.cluster_failed(plan, e).await,
        };
        self.settle(plan, rollout).await
    }

    /// `deployment.refresh`: applies an applied deployment's objects again (a variable or a
    /// verified domain changed), without changing its phase. Pods roll when the config
    /// checksum changed; the rollout watch or the status sync sees them.
    async fn refresh(&self, id: DeploymentId) -> Result<Handled, JobError> {
        let Some(plan) = self
            .dispatch
            .plan_applied(id)
            .await
            .map_err(|e| domain(&e))?
        else {
            return Ok(Handled::Done); // superseded since, or a newer one is on its way
        };
        let desired = match plan.desired(&self.settings.render) {
            Ok(desired) => desired,
            Err(e) => {
                // The deployment keeps running as it was applied; the next deploy fails on
                // this with `RenderFailed`, naming it.
                tracing::warn!(deployment.id = %id, "cannot refresh: {e}");
                return Ok(Handled::Done);
            }
        };
        match &self.target {
            DeployTarget::Cluster(cluster) => {
                let Some(claim) = self.dispatch.claim(id).await.map_err(|e| domain(&e))? else {
                    return Ok(Handled::Later(self.settings.poll));
                };
                let applied = Self::reapply(cluster, &desired).await;
                claim.release().await;
                let report = applied.map_err(|e| match e {
                    e if e.is_retryable() => JobError::Retry(e.to_string()),
                    e => JobError::Permanent(e.to_string()),
                })?;
                tracing::info!(deployment.id = %id, written = report.applied.len(), unchanged = report.unchanged, "refreshed");
            }
            DeployTarget::Render { dir } => {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || write_manifests(&dir, &desired))
                    .await
                    .map_err(|e| {
                        JobError::Retry(format!("writing manifests was interrupted: {e}"))
                    })?
                    .map_err(|e| JobError::Retry(format!("cannot write manifests: {e}")))?;
                tracing::info!(deployment.id = %id, "refreshed (rendered)");
            }
            DeployTarget::Unconfigured => {}
        }
        Ok(Handled::Done)
    }

    async fn reapply(
        cluster: &Cluster,
        desired: &Desired,
    ) -> Result<switchyard_k8s::cluster::ApplyReport, ClusterError> {
        let report = cluster.apply(desired).await?;
        if !report.disabled {
            cluster.prune(desired).await?;
        }
        Ok(report)
    }

    /// What an observed rollout means for the deployment.
    async fn settle(&self, plan: &DeployPlan, rollout: Rollout) -> Result<Handled, JobError> {
        let id = plan.deployment.id();
        let ready = match rollout {
            Rollout::Complete { ready, .. } => {
                let running = Progress {
                    ready_replicas: Some(i32::try_from(ready).unwrap_or(i32::MAX)),
                    ..progress(DeploymentPhase::Running, None, "healthy")
                };
                self.advance(id, running).await?;
                return Ok(Handled::Done);
            }
            Rollout::Failed { reason, message } => {
                return self
                    .fail(plan, DeploymentPhase::Failed, &reason, &message)
                    .await;
            }
            Rollout::Progressing { ready, .. } => ready,
            Rollout::Missing => 0,
        };
        let age = time::OffsetDateTime::now_utc() - plan.created_at;
        if age > self.settings.rollout_deadline {
            let message = format!(
                "not running {} s after it was created ({ready} of {} pods ready)",
                self.settings.rollout_deadline.as_secs(),
                plan.deployment.replicas
            );
            return self
                .fail(
                    plan,
                    DeploymentPhase::TimedOut,
                    "ProgressDeadlineExceeded",
                    &message,
                )
                .await;
        }
        let rolling = Progress {
            ready_replicas: Some(i32::try_from(ready).unwrap_or(i32::MAX)),
            ..progress(DeploymentPhase::RollingOut, None, "unknown")
        };
        self.advance(id, rolling).await?;
        Ok(Handled::Later(self.settings.poll))
    }
}

#[async_trait::async_trait]
impl Job for DeploymentsJob {
    fn topic(&self) -> &'static str {
        switchyard_core::DEPLOYMENTS_TOPIC
    }

    async fn run(&self, message: &Message) -> Result<Handled, JobError> {
        let id = Self::deployment(message)?;
        if message.payload.get("type").and_then(|t| t.as_str()) == Some(switchyard_core::REFRESH) {
            return self.refresh(id).await;
        }
        let Some(plan) = self.dispatch.plan(id).await.map_err(|e| domain(&e))? else {
            return Ok(Handled::Done); // finished or superseded: a redelivery, or a newer one won
        };
        match &self.target {
            DeployTarget::Cluster(cluster) => self.reconcile(cluster, &plan).await,
            DeployTarget::Render { dir } => self.render_only(&plan, dir.clone()).await,
            DeployTarget::Unconfigured => {
                self.fail(
                    &plan,
                    DeploymentPhase::Failed,
                    "ClusterNotConfigured",
                    "no Kubernetes cluster is configured: set ENCLII_KUBE_CONFIG (or run \
                     `switchyard dev`, which renders manifests instead)",
                )
                .await
            }
        }
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), Error> {
        let Ok(id) = Self::deployment(message) else {
            return Ok(());
        };
        let failed = Progress {
            message: Some(reason),
            ..progress(
                DeploymentPhase::Failed,
                Some("ReconcileFailed"),
                "unhealthy",
            )
        };
        self.dispatch.advance(id, &failed).await.map(drop)
    }
}
