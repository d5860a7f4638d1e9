//! Reading a service's state back: the rollout of a deployment (`observe`); and removing an
//! environment (`delete_namespace`). Pod logs are in `logs`.

use super::{Cluster, ClusterError, Rollout, apply::known, classify};
use crate::labels::{APP_LABEL, DEPLOYMENT_LABEL, MANAGED_BY, SERVICE_LABEL};

/// What [`Cluster::delete_managed_namespace`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceRemoval {
    Deleted,
    Absent,
    /// Not labelled as ours: left alone.
    NotOurs,
}

impl Cluster {
    /// Reads the Deployment `service` and the pods of deployment `deployment_id` (the
    /// Deployment's selector plus `enclii.dev/deployment=<id>`) and classifies the rollout.
    pub async fn observe(
        &self,
        namespace: &str,
        service: &str,
        deployment_id: &str,
    ) -> Result<Rollout, ClusterError> {
        let Some(deployment) = self
            .get(known("apps/v1", "Deployment")?, namespace, service)
            .await?
        else {
            return Ok(Rollout::Missing);
        };
        let selector = format!(
            "{APP_LABEL}={service},{SERVICE_LABEL}={service},{DEPLOYMENT_LABEL}={deployment_id}"
        );
        let pods = self.list(known("v1", "Pod")?, namespace, &selector).await?;
        Ok(classify(&deployment, &pods))
    }

    /// Deletes the namespace and, with it, everything in it. `false` when it did not exist.
    pub async fn delete_namespace(&self, namespace: &str) -> Result<bool, ClusterError> {
        self.delete(known("v1", "Namespace")?, namespace, namespace)
            .await
    }

    /// Deletes the namespace of a deleted project or environment, but only one carrying our
    /// `enclii.dev/managed-by=switchyard` label: a namespace someone else made (or one the
    /// original's reconciler created and we never applied) is left alone.
    pub async fn delete_managed_namespace(
        &self,
        namespace: &str,
    ) -> Result<NamespaceRemoval, ClusterError> {
        let resource = known("v1", "Namespace")?;
        let Some(live) = self.get(resource, namespace, namespace).await? else {
            return Ok(NamespaceRemoval::Absent);
        };
        let (key, value) = MANAGED_BY;
        if live["metadata"]["labels"][key] != value {
            return Ok(NamespaceRemoval::NotOurs);
        }
        self.delete(resource, namespace, namespace).await?;
        Ok(NamespaceRemoval::Deleted)
    }
}
