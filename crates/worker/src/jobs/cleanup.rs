//! The jobs that remove what deleted things left in the cluster: `service.deleted` prunes the
//! service's objects from each environment's namespace (volume claims stay: data is never
//! deleted with a service), `project.deleted` deletes the project's namespaces (only those
//! labelled as ours). In render mode the same happens to the YAML files.

use std::path::{Path, PathBuf};

use serde_json::Value;
use switchyard_k8s::{Desired, cluster::NamespaceRemoval, write_manifests};
use switchyard_queue::{Handled, Job, JobError, Message};

use super::deployments::DeployTarget;

fn namespaces(message: &Message) -> Result<Vec<String>, JobError> {
    message
        .payload
        .get("namespaces")
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .ok_or_else(|| JobError::Permanent("the event names no namespaces".to_owned()))
}

fn retry(e: &impl std::fmt::Display) -> JobError {
    JobError::Retry(e.to_string())
}

/// Nothing of `service` in `namespace` is desired any more.
fn nothing(namespace: &str, service: &str) -> Desired {
    Desired {
        objects: Vec::new(),
        namespace: namespace.to_owned(),
        service: service.to_owned(),
    }
}

/// `services`: a deleted service's objects leave every environment.
pub struct ServiceCleanup {
    target: DeployTarget,
}

impl ServiceCleanup {
    pub fn new(target: DeployTarget) -> Self {
        Self { target }
    }
}

#[async_trait::async_trait]
impl Job for ServiceCleanup {
    fn topic(&self) -> &'static str {
        switchyard_core::SERVICES_TOPIC
    }

    async fn run(&self, message: &Message) -> Result<Handled, JobError> {
        if message.payload["type"] != "service.deleted" {
            return Ok(Handled::Done);
        }
        let service = message.payload["name"]
            .as_str()
            .ok_or_else(|| JobError::Permanent("the event names no service".to_owned()))?;
        for namespace in namespaces(message)? {
            let gone = nothing(&namespace, service);
            match &self.target {
                DeployTarget::Cluster(cluster) => {
                    let pruned = cluster.prune(&gone).await.map_err(|e| retry(&e))?;
                    tracing::info!(
                        namespace,
                        service,
                        objects = pruned.len(),
                        "service removed"
                    );
                }
                DeployTarget::Render { dir } => {
                    let dir = dir.clone();
                    tokio::task::spawn_blocking(move || write_manifests(&dir, &gone))
                        .await
                        .map_err(|e| retry(&e))?
                        .map_err(|e| retry(&e))?;
                }
                DeployTarget::Unconfigured => {}
            }
        }
        Ok(Handled::Done)
    }
}

/// `projects`: a deleted project's namespaces go, with everything in them.
pub struct ProjectCleanup {
    target: DeployTarget,
}

impl ProjectCleanup {
    pub fn new(target: DeployTarget) -> Self {
        Self { target }
    }
}

/// Render mode: the namespace's directory of manifests.
fn remove_rendered(dir: &Path, namespace: &str) -> std::io::Result<()> {
    let path: PathBuf = dir.join("manifests").join(namespace);
    match std::fs::remove_dir_all(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[async_trait::async_trait]
impl Job for ProjectCleanup {
    fn topic(&self) -> &'static str {
        switchyard_core::PROJECTS_TOPIC
    }

    async fn run(&self, message: &Message) -> Result<Handled, JobError> {
        if message.payload["type"] != "project.deleted" {
            return Ok(Handled::Done);
        }
        for namespace in namespaces(message)? {
            match &self.target {
                DeployTarget::Cluster(cluster) => {
                    match cluster
                        .delete_managed_namespace(&namespace)
                        .await
                        .map_err(|e| retry(&e))?
                    {
                        NamespaceRemoval::NotOurs => tracing::warn!(
                            namespace,
                            "namespace of a deleted project is not labelled as ours; left alone"
                        ),
                        removal => tracing::info!(namespace, ?removal, "project namespace removed"),
                    }
                }
                DeployTarget::Render { dir } => {
                    let (dir, ns) = (dir.clone(), namespace.clone());
                    tokio::task::spawn_blocking(move || remove_rendered(&dir, &ns))
                        .await
                        .map_err(|e| retry(&e))?
                        .map_err(|e| retry(&e))?;
                }
                DeployTarget::Unconfigured => {}
            }
        }
        Ok(Handled::Done)
    }
}
