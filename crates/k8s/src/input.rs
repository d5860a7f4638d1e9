//! What a render needs: references to the rows the reconciler loaded, the variables in effect
//! (secret ones decrypted), the verified domains and the cluster-wide settings.

use std::collections::BTreeMap;

use secrecy::SecretString;
use switchyard_domain::{
    DeploymentId, EnvironmentId, ProjectId, ReleaseId, ServiceId, ServiceSpec,
};
use time::OffsetDateTime;

/// Everything `render` reads. Borrowed, so the caller keeps ownership of the rows.
#[derive(Debug, Clone, Copy)]
pub struct RenderInput<'a> {
    pub project: ProjectRef<'a>,
    pub environment: EnvironmentRef<'a>,
    pub service: ServiceRef<'a>,
    pub release: ReleaseRef<'a>,
    pub deployment: DeploymentRef,
    /// Plain variables in effect for the environment.
    pub env: &'a BTreeMap<String, String>,
    /// Secret variables in effect, decrypted. They reach the cluster only inside the Secret.
    pub secrets: &'a BTreeMap<String, SecretString>,
    /// Verified custom domains bound to the service in this environment.
    pub domains: &'a [DomainBinding],
    pub settings: &'a RenderSettings,
}

#[derive(Debug, Clone, Copy)]
pub struct ProjectRef<'a> {
    pub id: ProjectId,
    pub slug: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub struct EnvironmentRef<'a> {
    pub id: EnvironmentId,
    pub name: &'a str,
    /// `environments.kube_namespace` (the original's `enclii-<slug>-<env>`).
    pub namespace: &'a str,
    pub production: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct ServiceRef<'a> {
    pub id: ServiceId,
    pub spec: &'a ServiceSpec,
}

#[derive(Debug, Clone, Copy)]
pub struct ReleaseRef<'a> {
    pub id: ReleaseId,
    pub version: &'a str,
    pub git_sha: &'a str,
    /// The image to run, already chosen by the caller (digest-pinned when the digest is known).
    pub image: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub struct DeploymentRef {
    pub id: DeploymentId,
    /// Honoured (the original hard-coded 1). Ignored when the service autoscales: the
    /// HorizontalPodAutoscaler owns the replica count then.
    pub replicas: u32,
    pub created_at: OffsetDateTime,
}

/// A verified custom domain routed to the service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DomainBinding {
    pub host: String,
    /// Serve HTTPS with a certificate from cert-manager.
    pub tls: bool,
}

/// A namespace the service's pods may reach, on these TCP ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressTarget {
    pub namespace: String,
    pub ports: Vec<u16>,
}

/// Cluster-wide choices, the same for every service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderSettings {
    /// `ingressClassName` of Ingresses (K3s ships Traefik).
    pub ingress_class: String,
    /// cert-manager `ClusterIssuer` for TLS hosts; `None` leaves certificates to someone else.
    pub cert_issuer: Option<String>,
    /// Image pull Secret expected in every app namespace.
    pub registry_pull_secret: Option<String>,
    /// Namespaces whose pods may reach the service's port (the ingress controller, the tunnel).
    pub ingress_namespaces: Vec<String>,
    /// Shared namespaces the pods may reach besides DNS, their own namespace and HTTPS.
    pub egress_targets: Vec<EgressTarget>,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            ingress_class: "traefik".into(),
            cert_issuer: Some("letsencrypt-prod".into()),
            registry_pull_secret: Some("enclii-registry-credentials".into()),
            ingress_namespaces: ["kube-system", "cloudflare-tunnel", "ingress-nginx"]
                .map(String::from)
                .into(),
            // The original let every app reach the shared `data` namespace's PostgreSQL and Redis.
            egress_targets: vec![EgressTarget {
                namespace: "data".into(),
                ports: vec![5432, 6379],
            }],
        }
    }
}
