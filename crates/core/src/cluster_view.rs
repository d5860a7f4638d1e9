//! `ClusterView`: what the API process may read of where deployments go (DESIGN.md §3: only
//! the worker changes the cluster). A connected cluster through its read-only
//! [`ClusterReader`]; in render mode, the manifests the worker wrote; otherwise nothing, and
//! every read answers 503 naming `ENCLII_KUBE_CONFIG`.

use std::path::PathBuf;

use serde_json::Value;
use switchyard_domain::Error;
use switchyard_k8s::{
    RenderSettings,
    cluster::{ClusterError, ClusterReader},
    read_manifests,
};

/// Where the live state of deployments can be read.
#[derive(Debug, Clone, Default)]
pub enum ClusterView {
    /// A Kubernetes API server, read-only.
    Cluster(ClusterReader),
    /// Render mode: `DIR/manifests/...` as the worker wrote them.
    Render { dir: PathBuf },
    /// No cluster and no render directory.
    #[default]
    Unconfigured,
}

/// How the control plane renders and reads deployments.
#[derive(Debug, Clone, Default)]
pub struct DeploySettings {
    pub view: ClusterView,
    /// The worker's render settings, so a dry run and a drift check render the same objects.
    pub render: RenderSettings,
}

const SETTING: &str = "ENCLII_KUBE_CONFIG";

impl ClusterView {
    /// The live objects of `service` in `namespace`: read from the cluster, or in render mode
    /// from the manifests on disk.
    pub async fn live_objects(&self, namespace: &str, service: &str) -> Result<Vec<Value>, Error> {
        match self {
            Self::Cluster(reader) => reader
                .live_objects(namespace, service)
                .await
                .map_err(cluster_error),
            Self::Render { dir } => {
                let (dir, namespace) = (dir.clone(), namespace.to_owned());
                let read = tokio::task::spawn_blocking(move || read_manifests(&dir, &namespace))
                    .await
                    .map_err(|e| Error::internal("reading rendered manifests", e))?;
                read.map_err(|e| Error::internal("reading rendered manifests", e))
            }
            Self::Unconfigured => Err(Error::not_configured("a Kubernetes cluster", SETTING)),
        }
    }

    /// The cluster to read pods from: render mode runs none.
    pub fn pods(&self) -> Result<&ClusterReader, Error> {
        match self {
            Self::Cluster(reader) => Ok(reader),
            Self::Render { .. } => Err(Error::Unavailable {
                message: format!(
                    "render mode runs no pods, so there are no logs: set {SETTING} to deploy to \
                     a cluster"
                ),
                source: None,
            }),
            Self::Unconfigured => Err(Error::not_configured("a Kubernetes cluster", SETTING)),
        }
    }
}

/// A failed read: 503 with the API server's words (they name objects, never Secret values).
pub fn cluster_error(e: ClusterError) -> Error {
    Error::Unavailable {
        message: e.to_string(),
        source: None,
    }
}
