//! Reading a service's state back: the rollout of a deployment (`observe`), its pods' logs
//! (`pod_logs`); and removing an environment (`delete_namespace`).

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use serde_json::Value;

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

    /// The last `lines` log lines of each pod labelled `enclii.dev/service=<service>`, oldest
    /// pod first, each pod's lines in order. With several pods every line is prefixed by
    /// `[<pod>] `. A pod whose container cannot give logs (still waiting for its image, say)
    /// gets one line saying why instead of failing the whole call.
    pub async fn pod_logs(
        &self,
        namespace: &str,
        service: &str,
        lines: u32,
    ) -> Result<String, ClusterError> {
        let mut pods = self
            .list(
                known("v1", "Pod")?,
                namespace,
                &format!("{SERVICE_LABEL}={service}"),
            )
            .await?;
        pods.sort_by_key(|pod| {
            (
                text(pod, "/metadata/creationTimestamp"),
                text(pod, "/metadata/name"),
            )
        });
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let several = pods.len() > 1;
        let mut out = String::new();
        for pod in &pods {
            let name = text(pod, "/metadata/name");
            let params = LogParams {
                container: container(pod, service),
                tail_lines: Some(i64::from(lines)),
                ..LogParams::default()
            };
            let logs = match api.logs(&name, &params).await {
                Ok(logs) => logs,
                Err(e) => match ClusterError::from_kube(format!("logs of pod {name}"), e) {
                    ClusterError::Rejected { message, .. } => format!("(no logs: {message})\n"),
                    other => return Err(other),
                },
            };
            for line in logs.lines() {
                if several {
                    out.push_str(&format!("[{name}] "));
                }
                out.push_str(line);
                out.push('\n');
            }
        }
        Ok(out)
    }
}

/// The container to read: none (the only one) unless the pod has several, then the one named
/// after the service.
fn container(pod: &Value, service: &str) -> Option<String> {
    let several = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .is_some_and(|c| c.len() > 1);
    several.then(|| service.to_owned())
}

fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
