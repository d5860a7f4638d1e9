//! Where deployments go and how the reconciler paces itself: the Kubernetes connection
//! (`ENCLII_KUBE_CONFIG`, `KUBECONFIG`, or in-cluster), the rollout deadline, automatic
//! rollback, and the cluster-wide render settings (ingress class, cert-manager issuer, image
//! pull secret).

use std::path::PathBuf;

use switchyard_core::{ClusterView, DeploySettings};
use switchyard_k8s::{RenderSettings, cluster::Cluster};
use switchyard_worker::jobs::deployments::{AutoRollback, DeployTarget, ReconcileSettings};

use super::Reader;

#[derive(Debug, Clone)]
pub struct DeployConfig {
    /// `ENCLII_KUBE_CONFIG`, else `KUBECONFIG`: a kubeconfig file.
    pub kubeconfig: Option<PathBuf>,
    /// `KUBERNETES_SERVICE_HOST` is set: running in a pod, use its service account.
    pub in_cluster: bool,
    pub settings: ReconcileSettings,
}

impl DeployConfig {
    /// Whether a cluster is configured at all.
    pub fn has_cluster(&self) -> bool {
        self.kubeconfig.is_some() || self.in_cluster
    }

    /// The cluster to deploy to, or `Unconfigured` when none is configured. A kubeconfig that
    /// cannot be read is an error (a typo must not silently turn deployments off).
    pub async fn target(&self) -> anyhow::Result<DeployTarget> {
        if !self.has_cluster() {
            return Ok(DeployTarget::Unconfigured);
        }
        let cluster = Cluster::connect(self.kubeconfig.as_deref())
            .await
            .map_err(|e| anyhow::anyhow!("ENCLII_KUBE_CONFIG: {e}"))?;
        Ok(DeployTarget::Cluster(cluster))
    }
}

impl DeployConfig {
    /// What the API reads of the cluster (read-only), with the worker's render settings.
    pub async fn view(&self) -> anyhow::Result<DeploySettings> {
        let view = match self.target().await? {
            DeployTarget::Cluster(cluster) => ClusterView::Cluster(cluster.reader()),
            DeployTarget::Render { dir } => ClusterView::Render { dir },
            DeployTarget::Unconfigured => ClusterView::Unconfigured,
        };
        Ok(DeploySettings {
            view,
            render: self.settings.render.clone(),
        })
    }
}

fn auto_rollback(r: &mut Reader<'_>) -> AutoRollback {
    match r.get("ENCLII_AUTO_ROLLBACK") {
        None | Some("production") => AutoRollback::Production,
        Some("true" | "always") => AutoRollback::Always,
        Some("false" | "never") => AutoRollback::Never,
        Some(other) => {
            r.errors.push(format!(
                "ENCLII_AUTO_ROLLBACK: expected production, true or false, got {other:?}"
            ));
            AutoRollback::Production
        }
    }
}

/// An optional name; `none` (or empty) turns the feature off.
fn optional_name(r: &Reader<'_>, name: &str, default: Option<String>) -> Option<String> {
    match r.get(name) {
        None => default,
        Some("none") => None,
        Some(value) => Some(value.to_owned()),
    }
}

pub(super) fn deploys(r: &mut Reader<'_>) -> DeployConfig {
    let defaults = ReconcileSettings::default();
    let render_defaults = RenderSettings::default();
    let kubeconfig = r
        .get("ENCLII_KUBE_CONFIG")
        .or_else(|| r.get("KUBECONFIG"))
        .map(PathBuf::from);
    let rollout_deadline = r.duration(
        "ENCLII_ROLLOUT_TIMEOUT",
        defaults.rollout_deadline,
        (30, 6 * 3600),
        "30 seconds to 6 hours (e.g. 600, 10m)",
    );
    let render = RenderSettings {
        ingress_class: r
            .get("ENCLII_INGRESS_CLASS")
            .map_or(render_defaults.ingress_class.clone(), str::to_owned),
        cert_issuer: optional_name(r, "ENCLII_CERT_ISSUER", render_defaults.cert_issuer.clone()),
        registry_pull_secret: optional_name(
            r,
            "ENCLII_REGISTRY_PULL_SECRET",
            render_defaults.registry_pull_secret.clone(),
        ),
        ..render_defaults
    };
    DeployConfig {
        kubeconfig,
        in_cluster: r.get("KUBERNETES_SERVICE_HOST").is_some(),
        settings: ReconcileSettings {
            rollout_deadline,
            auto_rollback: auto_rollback(r),
            render,
            ..defaults
        },
    }
}

/// The deploy settings for `config check`.
pub(crate) fn report(config: &DeployConfig) -> Vec<(&'static str, String)> {
    let s = &config.settings;
    vec![
        (
            "ENCLII_KUBE_CONFIG",
            match (&config.kubeconfig, config.in_cluster) {
                (Some(path), _) => path.display().to_string(),
                (None, true) => "(in-cluster service account)".to_owned(),
                (None, false) => "(none: deployments fail; `dev` renders YAML)".to_owned(),
            },
        ),
        (
            "ENCLII_ROLLOUT_TIMEOUT",
            format!("{} s", s.rollout_deadline.as_secs()),
        ),
        ("ENCLII_AUTO_ROLLBACK", format!("{:?}", s.auto_rollback)),
        ("ENCLII_INGRESS_CLASS", s.render.ingress_class.clone()),
        (
            "ENCLII_CERT_ISSUER",
            s.render
                .cert_issuer
                .clone()
                .unwrap_or_else(|| "none".into()),
        ),
        (
            "ENCLII_REGISTRY_PULL_SECRET",
            s.render
                .registry_pull_secret
                .clone()
                .unwrap_or_else(|| "none".into()),
        ),
    ]
}
