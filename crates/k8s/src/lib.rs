//! The Kubernetes objects of one deployment, computed by pure functions (`render`), and the pure
//! comparisons a reconciler needs against what the cluster holds (`drift`, `prune_candidates`).
//! Render mode writes the same objects as YAML files (`write_manifests`). `cluster` is the one
//! module that talks to an API server: server-side apply, prune, read-back and rollout status;
//! the worker decides when to call it.

mod checksum;
pub mod cluster;
mod drift;
mod error;
mod input;
mod labels;
mod manifests;
mod names;
mod object;
mod quantity;
mod render;

pub use checksum::config_checksum;
pub use drift::{Difference, Drift, drift, prune_candidates, reconcile_disabled};
pub use error::RenderError;
pub use input::{
    DeploymentRef, DomainBinding, EgressTarget, EnvironmentRef, ProjectRef, ReleaseRef,
    RenderInput, RenderSettings, ServiceRef,
};
pub use labels::{
    APP_LABEL, CONFIG_CHECKSUM_ANNOTATION, DEPLOYMENT_LABEL, DEPLOYMENT_TIME_ANNOTATION,
    ENVIRONMENT_LABEL, GIT_SHA_ANNOTATION, MANAGED_BY, PROJECT_LABEL, RECONCILE_ANNOTATION,
    RELEASE_LABEL, SERVICE_LABEL, VERSION_LABEL, selector_labels,
};
pub use manifests::{read_manifests, write_manifests};
pub use object::{Desired, Object, REDACTED};
pub use render::{namespace_object, render};
