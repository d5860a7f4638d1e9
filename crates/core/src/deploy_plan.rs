//! `DeployPlan`: everything one deployment renders from (service settings, release, variables
//! with decrypted secrets, verified domains), loaded in one place for the reconciler, the
//! deploy dry run and the drift check, and turned into Kubernetes objects by `desired`.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use switchyard_auth::sealing::KeyEncryptionKeys;
use switchyard_db::repo::{domains, environments, releases};
use switchyard_domain::{
    DeploymentPhase, EnvironmentId, Error, ProjectId, ReleaseId, ServiceId, ServiceSpec,
};
use switchyard_k8s::{
    DeploymentRef, Desired, DomainBinding, EnvironmentRef, ProjectRef, ReleaseRef, RenderError,
    RenderInput, RenderSettings, ServiceRef, render,
};
use time::OffsetDateTime;

use crate::{DeploymentRow, env_var_secrets::effective_env};

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
    /// host. Read when the deployment is planned (a change asks for a `deployment.refresh`).
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

impl DeployPlan {
    /// Loads what `deployment` renders from. The row need not be stored yet: a dry run plans a
    /// deployment it never writes.
    pub(crate) async fn load(
        conn: &mut switchyard_db::PgConnection,
        keys: Option<&KeyEncryptionKeys>,
        deployment: DeploymentRow,
        phase: DeploymentPhase,
    ) -> Result<Self, Error> {
        let found = crate::services::load(conn, deployment.service_id(), false).await?;
        let missing = |what: &str| Error::internal("loading a deployment", format!("no {what}"));
        let env = environments::find(conn, deployment.environment_id())
            .await?
            .ok_or_else(|| missing("environment"))?;
        let release = releases::find(conn, deployment.release_id())
            .await?
            .ok_or_else(|| missing("release"))?;
        let vars = effective_env(conn, keys, deployment.service_id(), env.id()).await?;
        let hosts = domains::verified_hosts(conn, deployment.service_id(), env.id()).await?;
        let (mut plain, mut secrets) = (BTreeMap::new(), BTreeMap::new());
        for var in vars {
            if var.is_secret {
                secrets.insert(var.key, var.value);
            } else {
                plain.insert(var.key, var.value.expose_secret().to_owned());
            }
        }
        Ok(Self {
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
        })
    }

    /// The Kubernetes objects of this plan (DESIGN.md §11), in apply order.
    pub fn desired(&self, settings: &RenderSettings) -> Result<Desired, RenderError> {
        let domains: Vec<DomainBinding> = self
            .domains
            .iter()
            .map(|(host, tls)| DomainBinding {
                host: host.clone(),
                tls: *tls,
            })
            .collect();
        render(&RenderInput {
            project: ProjectRef {
                id: self.project_id,
                slug: &self.project_slug,
            },
            environment: EnvironmentRef {
                id: self.environment_id,
                name: &self.environment_name,
                namespace: &self.namespace,
                production: self.environment_name == "production",
            },
            service: ServiceRef {
                id: self.service_id,
                spec: &self.spec,
            },
            release: ReleaseRef {
                id: self.release_id,
                version: &self.version,
                git_sha: &self.git_sha,
                image: &self.image,
            },
            deployment: DeploymentRef {
                id: self.deployment.id(),
                replicas: u32::try_from(self.deployment.replicas).unwrap_or(1),
                created_at: self.created_at,
            },
            env: &self.env,
            secrets: &self.secrets,
            domains: &domains,
            settings,
        })
    }
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
