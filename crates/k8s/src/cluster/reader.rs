//! `ClusterReader`: the read-only face of a [`Cluster`], for the API process (DESIGN.md §3:
//! only the worker mutates the cluster). The type has no write method, so a handler cannot
//! apply, prune or delete even by mistake.

use serde_json::Value;

use super::{Cluster, ClusterError, LogFollow, LogOptions, LogSource};

/// Reads a cluster; cannot change it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ClusterReader {
    cluster: Cluster,
}

impl Cluster {
    /// This connection, restricted to reads.
    pub fn reader(&self) -> ClusterReader {
        ClusterReader {
            cluster: self.clone(),
        }
    }
}

impl ClusterReader {
    /// See [`Cluster::live_objects`].
    pub async fn live_objects(
        &self,
        namespace: &str,
        service: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        self.cluster.live_objects(namespace, service).await
    }

    /// See [`Cluster::pod_logs`].
    pub async fn pod_logs(
        &self,
        source: &LogSource,
        options: LogOptions,
    ) -> Result<String, ClusterError> {
        self.cluster.pod_logs(source, options).await
    }

    /// See [`Cluster::follow_logs`].
    pub async fn follow_logs(
        &self,
        source: &LogSource,
        options: LogOptions,
    ) -> Result<LogFollow, ClusterError> {
        self.cluster.follow_logs(source, options).await
    }

    /// The API server's version (`/version`), e.g. `v1.33.9+k3s1`: the health probe.
    pub async fn version(&self) -> Result<String, ClusterError> {
        self.cluster
            .client
            .apiserver_version()
            .await
            .map(|info| info.git_version)
            .map_err(|e| ClusterError::from_kube("read the API server version", e))
    }
}
