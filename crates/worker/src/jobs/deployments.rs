//! The `deployments` job: reconciles one deployment. It renders the deployment's objects
//! (`switchyard-k8s`; the Ingress from the service's verified domains in the environment) and,
//! in render mode (`switchyard dev` without a cluster), writes them as YAML under the data
//! directory and records the deployment `running` with health `unknown` and reason `RenderOnly`.
//! Without any Kubernetes target the deployment fails naming the setting. Every phase change is
//! guarded, so a redelivered message never moves a deployment backwards.

use std::path::PathBuf;

use switchyard_core::{DeployPlan, DeploymentDispatch, Progress};
use switchyard_domain::{DeploymentId, DeploymentPhase, Error};
use switchyard_k8s::{
    DeploymentRef, Desired, DomainBinding, EnvironmentRef, ProjectRef, ReleaseRef, RenderInput,
    RenderSettings, ServiceRef, render, write_manifests,
};
use switchyard_queue::{Job, JobError, Message};

/// Where deployments go.
#[derive(Debug, Clone)]
pub enum DeployTarget {
    /// Render mode: `DIR/manifests/<namespace>/<kind>-<name>.yaml`.
    Render { dir: PathBuf },
    /// No cluster and no render directory: deployments fail naming `ENCLII_KUBE_CONFIG`.
    Unconfigured,
}

pub struct DeploymentsJob {
    dispatch: DeploymentDispatch,
    target: DeployTarget,
    settings: RenderSettings,
}

impl DeploymentsJob {
    pub fn new(
        dispatch: DeploymentDispatch,
        target: DeployTarget,
        settings: RenderSettings,
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

    fn desired(&self, plan: &DeployPlan) -> Result<Desired, switchyard_k8s::RenderError> {
        let domains: Vec<DomainBinding> = plan
            .domains
            .iter()
            .map(|(host, tls)| DomainBinding {
                host: host.clone(),
                tls: *tls,
            })
            .collect();
        render(&RenderInput {
            project: ProjectRef {
                id: plan.project_id,
                slug: &plan.project_slug,
            },
            environment: EnvironmentRef {
                id: plan.environment_id,
                name: &plan.environment_name,
                namespace: &plan.namespace,
                production: plan.environment_name == "production",
            },
            service: ServiceRef {
                id: plan.service_id,
                spec: &plan.spec,
            },
            release: ReleaseRef {
                id: plan.release_id,
                version: &plan.version,
                git_sha: &plan.git_sha,
                image: &plan.image,
            },
            deployment: DeploymentRef {
                id: plan.deployment.id(),
                replicas: u32::try_from(plan.deployment.replicas).unwrap_or(1),
                created_at: plan.created_at,
            },
            env: &plan.env,
            secrets: &plan.secrets,
            domains: &domains,
            settings: &self.settings,
        })
    }

    async fn advance(&self, id: DeploymentId, progress: Progress<'_>) -> Result<(), JobError> {
        self.dispatch
            .advance(id, &progress)
            .await
            .map(drop)
            .map_err(|e| JobError::from_domain(&e))
    }

    async fn fail(&self, id: DeploymentId, reason: &str, message: &str) -> Result<(), JobError> {
        tracing::warn!(deployment.id = %id, reason, "deployment failed: {message}");
        self.advance(
            id,
            Progress {
                phase: DeploymentPhase::Failed,
                reason: Some(reason),
                message: Some(message),
                health: "unhealthy",
                ready_replicas: None,
            },
        )
        .await
    }
}

#[async_trait::async_trait]
impl Job for DeploymentsJob {
    fn topic(&self) -> &'static str {
        switchyard_core::DEPLOYMENTS_TOPIC
    }

    async fn run(&self, message: &Message) -> Result<(), JobError> {
        let id = Self::deployment(message)?;
        let Some(plan) = self
            .dispatch
            .plan(id)
            .await
            .map_err(|e| JobError::from_domain(&e))?
        else {
            return Ok(()); // finished or superseded: a redelivery, or a newer deployment won
        };
        let DeployTarget::Render { dir } = &self.target else {
            return self
                .fail(
                    id,
                    "ClusterNotConfigured",
                    "no Kubernetes cluster is configured: set ENCLII_KUBE_CONFIG (or run \
                     `switchyard dev`, which renders manifests instead)",
                )
                .await;
        };
        let desired = match self.desired(&plan) {
            Ok(desired) => desired,
            Err(e) => return self.fail(id, "RenderFailed", &e.to_string()).await,
        };
        let dir = dir.clone();
        let written = tokio::task::spawn_blocking(move || write_manifests(&dir, &desired))
            .await
            .map_err(|e| JobError::Retry(format!("writing manifests was interrupted: {e}")))?
            .map_err(|e| JobError::Retry(format!("cannot write manifests: {e}")))?;
        tracing::info!(deployment.id = %id, files = written.len(), "deployment rendered");
        self.advance(
            id,
            Progress {
                phase: DeploymentPhase::Running,
                reason: Some("RenderOnly"),
                message: None,
                health: "unknown",
                ready_replicas: Some(0),
            },
        )
        .await
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), Error> {
        let Ok(id) = Self::deployment(message) else {
            return Ok(());
        };
        self.dispatch
            .advance(
                id,
                &Progress {
                    phase: DeploymentPhase::Failed,
                    reason: Some("ReconcileFailed"),
                    message: Some(reason),
                    health: "unhealthy",
                    ready_replicas: None,
                },
            )
            .await
            .map(drop)
    }
}
