//! The control plane's use-cases (`ControlPlane`): each public method authorizes, runs its
//! statements (in one transaction when it writes), and performs the side effects the change
//! implies. Shared by the API and, later, the worker; knows nothing of HTTP.

mod activity;
mod api_tokens;
mod audit;
mod auth;
mod bootstrap;
mod build_jobs;
mod build_status;
mod builds;
mod cluster_view;
mod dashboard;
mod data_keys;
mod deploy_jobs;
mod deploy_plan;
mod deploy_preview;
mod deployments;
mod dns;
mod domain_lists;
mod domain_verify;
mod domains;
mod env_var_secrets;
mod env_vars;
mod environments;
mod external;
mod github;
mod idempotency;
mod invitations;
mod logs;
mod oidc;
pub mod page;
mod policy;
mod principal;
mod projects;
pub mod rate_limit;
mod services;
mod team_members;
mod teams;
pub mod usage;
mod usage_jobs;
mod usage_report;

use std::sync::Arc;

use switchyard_auth::SessionIssuer;
use switchyard_db::PgPool;
use switchyard_domain::Role;
use switchyard_queue::Redis;

pub use activity::{ACTIONS, ActivityFilter, RESOURCE_TYPES};
pub use api_tokens::{MAX_ACTIVE_TOKENS, NewToken};
pub use audit::REDACTED;
pub use auth::{Login, Registration};
pub use bootstrap::BOOTSTRAP_EMAIL;
pub use build_jobs::{BuildDispatch, EnqueueRequest};
pub use build_status::{BuildRef, BuildStatus, MAX_SERVICES_PER_COMMIT};
pub use builds::{BUILDS_TOPIC, BuildResult, BuildSettings, CallbackOutcome, DEPLOYMENTS_TOPIC};
pub use cluster_view::{ClusterView, DeploySettings, cluster_error};
pub use dashboard::{DASHBOARD_LIMIT, Dashboard, format_deploy_time};
pub use data_keys::{ENCRYPTION_KEY_VAR, Rotation, rotate_envvar_key};
pub use deploy_jobs::{DeploymentClaim, DeploymentDispatch, Progress};
pub use deploy_plan::{DeployPlan, pinned_image};
pub use deploy_preview::{DeployPreview, DriftReport};
pub use deployments::{DeployRequest, MAX_REPLICAS, REFRESH, REQUESTED, Rollback, ServiceStatus};
pub use dns::DnsSettings;
pub use domain_lists::{DomainFilter, DomainPage, ListedDomain};
pub use domain_verify::Verification;
pub use domains::{
    AddedDomain, CustomDomain, DnsInstructions, DomainSettings, RESERVED_PLATFORM_LABELS,
    VERIFICATION_LABEL,
};
pub use env_vars::{EffectiveVar, EnvVar};
pub use github::{DeliveryOutcome, DeliveryRow};
pub use idempotency::{Claim, IDEMPOTENCY_TTL, IdempotentRequest, KeptResponse, Outcome};
pub use invitations::{CreatedInvitation, INVITATION_TOKEN_PREFIX, INVITATION_TTL, NewInvitation};
pub use logs::{
    DEFAULT_LOG_ENVIRONMENT, DEFAULT_LOG_LINES, DeploymentLogs, FollowedLogs, MAX_LOG_LINES,
    log_lines,
};
pub use oidc::{BrowserLogin, LoginCallback, LoginRedirect, state_ttl};
pub use page::{Page, PageRequest};
pub use policy::{Authorized, Need};
pub use principal::{Origin, Principal, PrincipalKind};
pub use projects::{NewProject, PROJECTS_TOPIC};
pub use services::{BulkFailure, MAX_BULK, SERVICES_TOPIC, ServiceInProject};
pub use switchyard_db::repo::domains::DomainCounts;
pub use switchyard_db::repo::{
    api_tokens::ApiTokenRow, audit::AuditRow, deployments::DeploymentRow,
    environments::EnvironmentRow, projects::ProjectRow, releases::ReleaseRow, services::ServiceRow,
    users::UserRow,
};
pub use switchyard_db::repo::{
    invitations::InvitationRow,
    teams::{MemberRow, TeamRow},
};
pub use switchyard_k8s::cluster::{LogEvent, LogFollow, LogLine, LogOptions};
pub use teams::{NewTeam, TeamUpdate, parse_team_role, team_version};
pub use usage::USAGE_TOPIC;
pub use usage_jobs::{BillingDispatch, Reconciled};
pub use usage_report::{
    BillingSettings, LedgerLine, LedgerReport, LedgerSource, MAX_LEDGER_HOURS, UsageReport,
};

/// How people sign in and what they get.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub sessions: SessionIssuer,
    /// Role of a newly registered (or, later, just-in-time created) user.
    pub default_role: Role,
    /// Lower-cased e-mails that are made admins at registration.
    pub admin_emails: Vec<String>,
    /// Verifier of Janua access tokens, when `ENCLII_EXTERNAL_JWKS_URL` is set.
    pub external: Option<Arc<switchyard_auth::ExternalVerifier>>,
    /// Janua browser sign-in, when `ENCLII_AUTH_MODE=oidc`.
    pub oidc: Option<Arc<switchyard_auth::OidcClient>>,
}

impl AuthSettings {
    /// The role a new user with `email` gets: admin when listed in `ENCLII_ADMIN_EMAILS`, else
    /// the default role.
    pub fn role_for(&self, email: &switchyard_domain::Email) -> Role {
        if self.admin_emails.contains(&email.as_str().to_lowercase()) {
            Role::Admin
        } else {
            self.default_role
        }
    }
}

/// The use-cases, with everything they need. Cheap to clone.
#[derive(Clone)]
pub struct ControlPlane {
    inner: Arc<Inner>,
    /// The key-encryption keys of env var values; without them those routes answer 503.
    envvar_keys: Option<Arc<switchyard_auth::sealing::KeyEncryptionKeys>>,
}

#[derive(Clone)]
struct Inner {
    pool: PgPool,
    redis: Option<Redis>,
    auth: AuthSettings,
    builds: BuildSettings,
    domains: DomainSettings,
    billing: usage_report::BillingSettings,
    deploys: DeploySettings,
}

impl ControlPlane {
    pub fn new(pool: PgPool, redis: Option<Redis>, auth: AuthSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                redis,
                auth,
                builds: BuildSettings::default(),
                domains: DomainSettings::default(),
                billing: usage_report::BillingSettings::default(),
                deploys: DeploySettings::default(),
            }),
            envvar_keys: None,
        }
    }

    /// This control plane with the build settings (`ENCLII_REGISTRY`, the Roundhouse key, ...).
    #[must_use]
    pub fn with_builds(mut self, builds: BuildSettings) -> Self {
        Arc::make_mut(&mut self.inner).builds = builds;
        self
    }

    /// The custom domain settings (`ENCLII_PLATFORM_DOMAIN`, the issuer, `ENCLII_DNS_RESOLVER`).
    #[must_use]
    pub fn with_domains(mut self, domains: DomainSettings) -> Self {
        Arc::make_mut(&mut self.inner).domains = domains;
        self
    }

    /// Where deployments are read from and how they render (the worker's settings).
    #[must_use]
    pub fn with_deploys(mut self, deploys: DeploySettings) -> Self {
        Arc::make_mut(&mut self.inner).deploys = deploys;
        self
    }

    /// Where the live state of deployments is read from.
    pub fn cluster_view(&self) -> &ClusterView {
        &self.inner.deploys.view
    }

    /// The keys that seal env var values (`ENCLII_ENVVAR_ENCRYPTION_KEY[_PREVIOUS]`).
    #[must_use]
    pub fn with_envvar_keys(
        mut self,
        keys: impl Into<Arc<switchyard_auth::sealing::KeyEncryptionKeys>>,
    ) -> Self {
        self.envvar_keys = Some(keys.into());
        self
    }

    /// The database pool (for its gauges; use-cases take connections from it).
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// The session store; login and refresh refuse without one (fail closed).
    fn sessions_store(&self) -> Result<&Redis, switchyard_domain::Error> {
        self.inner
            .redis
            .as_ref()
            .ok_or(switchyard_domain::Error::Unavailable {
                message: "sessions need Redis: set ENCLII_REDIS_URL".to_owned(),
                source: None,
            })
    }
}
