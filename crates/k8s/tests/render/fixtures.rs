//! Representative render inputs, shared by the tests and by `examples/export_manifests.rs`
//! (whose output `scripts/validate-manifests` checks against the Kubernetes schemas).

use std::collections::BTreeMap;

use secrecy::SecretString;
use switchyard_domain::{
    Autoscaling, BuildConfig, DeploymentId, EnvironmentId, HealthCheck, ProjectId, ReleaseId,
    Resources, ServiceId, ServiceSpec, Volume,
};
use switchyard_k8s::{
    DeploymentRef, DomainBinding, EnvironmentRef, ProjectRef, ReleaseRef, RenderInput,
    RenderSettings, ServiceRef,
};
use time::{OffsetDateTime, macros::datetime};
use uuid::Uuid;

/// Everything a `RenderInput` borrows, owned.
pub(crate) struct Fixture {
    pub(crate) name: &'static str,
    pub(crate) namespace: String,
    pub(crate) spec: ServiceSpec,
    pub(crate) version: String,
    pub(crate) image: String,
    pub(crate) replicas: u32,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) secrets: BTreeMap<String, SecretString>,
    pub(crate) domains: Vec<DomainBinding>,
    pub(crate) settings: RenderSettings,
}

impl Fixture {
    pub(crate) fn input(&self) -> RenderInput<'_> {
        RenderInput {
            project: ProjectRef {
                id: ProjectId::from_uuid(Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0001,
                )),
                slug: "shop",
            },
            environment: EnvironmentRef {
                id: EnvironmentId::from_uuid(Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0002,
                )),
                name: "production",
                namespace: &self.namespace,
                production: true,
            },
            service: ServiceRef {
                id: ServiceId::from_uuid(Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0003,
                )),
                spec: &self.spec,
            },
            release: ReleaseRef {
                id: ReleaseId::from_uuid(Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0004,
                )),
                version: &self.version,
                git_sha: "0123456789abcdef0123456789abcdef01234567",
                image: &self.image,
            },
            deployment: DeploymentRef {
                id: DeploymentId::from_uuid(Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0005,
                )),
                replicas: self.replicas,
                created_at: self.created_at,
            },
            env: &self.env,
            secrets: &self.secrets,
            domains: &self.domains,
            settings: &self.settings,
        }
    }
}

/// A service spec with the domain's defaults.
pub(crate) fn spec(name: &str) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        git_repo: "https://github.com/acme/shop".into(),
        git_branch: "main".into(),
        app_path: ".".into(),
        watch_paths: Vec::new(),
        build_config: BuildConfig::default(),
        auto_deploy: true,
        auto_deploy_branch: "main".into(),
        auto_deploy_env: "production".into(),
        port: 4200,
        replicas: 1,
        health_check: HealthCheck::default(),
        resources: Resources::default(),
        autoscaling: None,
        volumes: Vec::new(),
    }
}

/// The defaults: one replica, no variables, no domains.
pub(crate) fn minimal() -> Fixture {
    Fixture {
        name: "minimal",
        namespace: "enclii-shop-production".into(),
        spec: spec("web"),
        version: "v20260102-030405-0123456".into(),
        image: "ghcr.io/madfam-org/web@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945".into(),
        replicas: 1,
        created_at: datetime!(2026-01-02 03:04:05 UTC),
        env: BTreeMap::new(),
        secrets: BTreeMap::new(),
        domains: Vec::new(),
        settings: RenderSettings::default(),
    }
}

/// Three replicas, plain and secret variables, TLS and plain domains, two volumes, custom
/// probes and resources.
pub(crate) fn full() -> Fixture {
    let mut spec = spec("api");
    spec.port = 8080;
    spec.health_check.liveness_path = Some("/livez".into());
    spec.health_check.readiness_path = Some("/readyz".into());
    spec.resources.cpu_request = "0.25".into();
    spec.resources.cpu_limit = "1000m".into();
    spec.resources.memory_limit = "1024Mi".into();
    spec.volumes = vec![
        Volume {
            name: "data".into(),
            mount_path: "/var/lib/data".into(),
            size: "5Gi".into(),
            storage_class_name: None,
            access_mode: None,
        },
        Volume {
            name: "uploads".into(),
            mount_path: "/uploads".into(),
            size: "1024Mi".into(),
            storage_class_name: Some("longhorn".into()),
            access_mode: Some("ReadWriteMany".into()),
        },
    ];
    Fixture {
        name: "full",
        spec,
        replicas: 3,
        env: [("LOG_LEVEL", "info"), ("A_FIRST", "1"), ("PORT", "9999")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into(),
        secrets: [
            ("DATABASE_URL", "postgres://shop:hunter2-not-real@db/shop"),
            ("STRIPE_KEY", "sk_test_not_a_real_key"),
        ]
        .map(|(k, v)| (k.to_owned(), SecretString::from(v)))
        .into(),
        domains: vec![
            DomainBinding {
                host: "www.example.com".into(),
                tls: true,
            },
            DomainBinding {
                host: "Shop.Example.com".into(),
                tls: true,
            },
            DomainBinding {
                host: "internal.example.com".into(),
                tls: false,
            },
        ],
        ..minimal()
    }
}

/// Autoscaled between 2 and 5: no replica count on the Deployment, an HPA and a PDB.
pub(crate) fn autoscaled() -> Fixture {
    let mut spec = spec("worker");
    spec.autoscaling = Some(Autoscaling {
        min_replicas: 2,
        max_replicas: 5,
        target_cpu_percent: 70,
    });
    Fixture {
        name: "autoscaled",
        spec,
        replicas: 3,
        ..minimal()
    }
}

/// Health checks disabled, no pull secret, no cert-manager, one plain-HTTP domain.
pub(crate) fn bare() -> Fixture {
    let mut spec = spec("legacy");
    spec.health_check.disabled = true;
    Fixture {
        name: "bare",
        spec,
        replicas: 0,
        domains: vec![DomainBinding {
            host: "legacy.example.org".into(),
            tls: false,
        }],
        settings: RenderSettings {
            cert_issuer: None,
            registry_pull_secret: None,
            egress_targets: Vec::new(),
            ..RenderSettings::default()
        },
        ..minimal()
    }
}

pub(crate) fn all() -> Vec<Fixture> {
    vec![minimal(), full(), autoscaled(), bare()]
}
