//! Domain nouns and rules shared by every layer: the one `Error` enum, typed IDs, roles, validated
//! user input. No I/O lives here.

mod custom_domain;
mod deployment;
mod env_var;
mod error;
mod hostname;
mod id;
mod json;
mod release;
mod role;
mod service;
pub mod service_rules;
mod slug;
mod team;
mod user;

pub use custom_domain::{DomainCreate, DomainName, DomainUpdate, EnvironmentChoice};
pub use deployment::{CANCELLED, DeploymentPhase};
pub use env_var::{
    BulkVariable, EnvKey, EnvValue, EnvVarBulk, EnvVarCreate, EnvVarUpdate, MAX_BULK_VARIABLES,
    MAX_KEY_LEN, MAX_REASON_CHARS, MAX_VALUE_BYTES, parse_reason,
};
pub use error::{Error, ResourceKind};
pub use hostname::{Hostname, MAX_HOSTNAME_LEN, MAX_LABEL_LEN, parse_label};
pub use id::{
    ApiTokenId, AuditId, DeploymentId, DomainId, EnvVarId, EnvironmentId, InvitationId, ProjectId,
    ReleaseId, ServiceId, SessionId, TeamId, UserId,
};
pub use json::from_json;
pub use release::{GitSha, ReleaseStatus, Transition, transition};
pub use role::Role;
pub use service::{
    Autoscaling, BuildConfig, HealthCheck, Resources, ServiceSpec, Volume, merge_patch,
};
pub use slug::{EnvName, Slug, parse_namespace};
pub use team::TeamRole;
pub use user::{Email, Password, parse_name};
