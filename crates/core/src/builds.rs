//! Builds: a trigger creates the release (`building`) and a `builds` outbox row in one
//! transaction; Roundhouse's signed callback moves the release `building → ready|failed` exactly
//! once and, for `auto_deploy` services, creates the deployment and its `deployments` outbox row
//! in the same transaction. Releases are listed without their SBOM text.

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use switchyard_auth::callback::{self, CallbackCredentials};
use switchyard_db::repo::{deployments, environments, outbox, releases};
use switchyard_domain::{
    DeploymentId, EnvName, EnvironmentId, Error, GitSha, ReleaseId, ReleaseStatus, ResourceKind,
    ServiceId, Slug, Transition, parse_namespace, service_rules, transition,
};
use time::OffsetDateTime;

use crate::{
    ControlPlane, Need, Page, PageRequest, Principal, ReleaseRow,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
};

/// Topic of the events that make the worker send a build to Roundhouse.
pub const BUILDS_TOPIC: &str = "builds";
/// Topic of the events that make the worker reconcile a deployment.
pub const DEPLOYMENTS_TOPIC: &str = "deployments";
/// The audit actor of automatic deployments (the original's).
const AUTO_DEPLOY_ACTOR: &str = "auto-deploy@system.enclii.dev";

/// How builds are named and authenticated.
#[derive(Debug, Clone)]
pub struct BuildSettings {
    /// Image registry prefix (`ENCLII_REGISTRY`).
    pub registry: String,
    /// The key Roundhouse signs callbacks with (`ENCLII_ROUNDHOUSE_API_KEY`); unset: 503.
    pub callback_key: Option<SecretString>,
    /// Our own base URL as Roundhouse reaches it (`ENCLII_SELF_URL`), for `callback_url`.
    pub self_url: String,
    /// GitHub's webhook secret (`ENCLII_GITHUB_WEBHOOK_SECRET`); unset: the webhook answers 503.
    pub github_webhook_secret: Option<SecretString>,
}

impl Default for BuildSettings {
    fn default() -> Self {
        Self {
            registry: "ghcr.io/madfam-org".to_owned(),
            callback_key: None,
            self_url: "http://localhost:4200".to_owned(),
            github_webhook_secret: None,
        }
    }
}

/// The callback body (the original `BuildResult`).
#[derive(Debug, Clone, Deserialize)]
pub struct BuildResult {
    pub job_id: String,
    pub release_id: ReleaseId,
    #[serde(default)]
    pub success: bool,
    pub image_uri: Option<String>,
    pub image_digest: Option<String>,
    pub image_size_mb: Option<f64>,
    pub sbom: Option<String>,
    pub sbom_format: Option<String>,
    pub image_signature: Option<String>,
    pub duration_secs: Option<f64>,
    pub error_message: Option<String>,
    pub logs_url: Option<String>,
}

/// What a callback did.
#[derive(Debug, Clone)]
pub struct CallbackOutcome {
    pub release_id: ReleaseId,
    pub status: ReleaseStatus,
    /// The release already had this result (a replay); nothing changed.
    pub duplicate: bool,
    /// The deployment auto-deploy created, if any.
    pub deployment_id: Option<DeploymentId>,
}

fn empty_to_none(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|v| !v.trim().is_empty())
}

impl ControlPlane {
    /// `POST /v1/services/:id/build` (project developers): the release and its `builds` event.
    pub async fn build_trigger(
        &self,
        principal: &Principal,
        service_id: ServiceId,
        git_sha: GitSha,
        git_branch: Option<&str>,
    ) -> Result<ReleaseRow, Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let found = self
            .service_authorized(&mut tx, principal, service_id, Need::Write, false)
            .await?;
        let spec = &found.service.spec.0;
        let branch = git_branch.unwrap_or(&spec.git_branch);
        service_rules::branch("git_branch", branch)?;
        let release = self
            .new_build(&mut tx, &found, &git_sha, branch, Some(principal.user_id))
            .await?;
        let version = &release.version;
        let changes = Changes::new()
            .set("git_sha", git_sha.as_str())
            .set("git_branch", branch)
            .set("version", version);
        audit::record(
            &mut tx,
            principal,
            Entry::new("release.build", "release", release.id, version)
                .project(found.project.id())
                .changes(changes),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a build", e))?;
        tracing::info!(release.id = %release.id, "build of {} at {} requested", spec.name, git_sha.short());
        Ok(release)
    }

    /// A `building` release of `found` at `git_sha` and its `builds` event, in `tx`, named as
    /// the original did (`v<YYYYMMDD-HHMMSS>-<sha7>`, `<registry>/<service>:<sha7>`).
    pub(crate) async fn new_build(
        &self,
        tx: &mut switchyard_db::PgConnection,
        found: &crate::ServiceInProject,
        git_sha: &GitSha,
        branch: &str,
        triggered_by: Option<switchyard_domain::UserId>,
    ) -> Result<ReleaseRow, Error> {
        let spec = &found.service.spec.0;
        let now = OffsetDateTime::now_utc();
        let version = format!(
            "v{:04}{:02}{:02}-{:02}{:02}{:02}-{}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second(),
            git_sha.short()
        );
        let registry = self.inner.builds.registry.trim_end_matches('/');
        let image_uri = format!("{registry}/{}:{}", spec.name, git_sha.short());
        let release = releases::insert(
            tx,
            &releases::NewRelease {
                id: ReleaseId::new(),
                service_id: found.service.id(),
                version: &version,
                image_uri: &image_uri,
                git_sha: git_sha.as_str(),
                git_branch: branch,
                triggered_by,
            },
        )
        .await?;
        outbox::insert(
            tx,
            &outbox::NewEvent {
                topic: BUILDS_TOPIC,
                aggregate_id: &release.id.to_string(),
                payload: &json!({ "type": "build.requested", "release_id": release.id }),
            },
        )
        .await?;
        Ok(release)
    }

    /// `GET /v1/services/:id/releases`: newest first, without SBOM text.
    pub async fn release_list(
        &self,
        principal: &Principal,
        service_id: ServiceId,
        page: PageRequest,
    ) -> Result<Page<ReleaseRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        self.service_authorized(&mut conn, principal, service_id, Need::Read, false)
            .await?;
        let rows = releases::list(&mut conn, service_id, page.after, page.fetch()).await?;
        Ok(page.finish(rows, |r| r.id))
    }

    /// `GET /v1/releases/:id/sbom`: the SBOM and its format (404 when the build produced none).
    pub async fn release_sbom(
        &self,
        principal: &Principal,
        id: ReleaseId,
    ) -> Result<(String, Option<String>), Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let hidden = || Error::not_found(ResourceKind::Release, id.to_string());
        let release = releases::find(&mut conn, id).await?.ok_or_else(hidden)?;
        self.service_authorized(
            &mut conn,
            principal,
            release.service_id(),
            Need::Read,
            false,
        )
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => hidden(),
            other => other,
        })?;
        match releases::sbom(&mut conn, id).await? {
            Some((Some(sbom), format)) => Ok((sbom, format)),
            _ => Err(Error::not_found(
                ResourceKind::Release,
                format!("{id} SBOM"),
            )),
        }
    }

    /// `POST /v1/callbacks/build-complete`: authenticates Roundhouse, then applies the result
    /// once. A replay of the same result answers `duplicate`; a contradicting one is 409.
    pub async fn build_completed(
        &self,
        credentials: CallbackCredentials<'_>,
        body: &[u8],
    ) -> Result<CallbackOutcome, Error> {
        let key =
            self.inner.builds.callback_key.as_ref().ok_or_else(|| {
                Error::not_configured("build callbacks", "ENCLII_ROUNDHOUSE_API_KEY")
            })?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        callback::verify(key, credentials, body, now).map_err(|refusal| {
            tracing::warn!(reason = %refusal, "build callback refused");
            Error::unauthenticated("Invalid callback signature or key")
        })?;
        let result: BuildResult = serde_json::from_slice(body)
            .map_err(|e| Error::invalid("body", format!("not a build result: {e}")))?;
        if result.job_id.trim().is_empty() || result.job_id.len() > 200 {
            return Err(Error::invalid("job_id", "must be 1 to 200 characters"));
        }
        self.apply_build_result(&result).await
    }

    async fn apply_build_result(&self, result: &BuildResult) -> Result<CallbackOutcome, Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let id = result.release_id;
        let release = releases::find_for_update(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found(ResourceKind::Release, id.to_string()))?;
        let current = ReleaseStatus::parse(&release.status).unwrap_or(ReleaseStatus::Failed);
        let outcome = if result.success {
            ReleaseStatus::Ready
        } else {
            ReleaseStatus::Failed
        };
        if release
            .job_id
            .as_deref()
            .is_some_and(|j| j != result.job_id)
        {
            return Err(Error::Conflict {
                message: format!("release {id} belongs to another build job"),
            });
        }
        let mut deployment_id = None;
        match transition(current, outcome) {
            Transition::Duplicate => {
                return Ok(CallbackOutcome {
                    release_id: id,
                    status: current,
                    duplicate: true,
                    deployment_id: None,
                });
            }
            Transition::Contradiction => {
                return Err(Error::Conflict {
                    message: format!(
                        "release {id} is already {}; a {} result cannot change it",
                        current.as_str(),
                        outcome.as_str()
                    ),
                });
            }
            Transition::Apply if result.success => {
                let output = releases::BuildOutput {
                    job_id: &result.job_id,
                    image_uri: empty_to_none(result.image_uri.as_ref()),
                    image_digest: empty_to_none(result.image_digest.as_ref()),
                    image_size_mb: result.image_size_mb,
                    sbom: empty_to_none(result.sbom.as_ref()),
                    sbom_format: empty_to_none(result.sbom_format.as_ref()),
                    image_signature: empty_to_none(result.image_signature.as_ref()),
                    duration_secs: result.duration_secs,
                    logs_url: empty_to_none(result.logs_url.as_ref()),
                };
                releases::mark_ready(&mut tx, id, &output).await?;
                self.build_usage(&mut tx, &release, result).await?;
                deployment_id = self.auto_deploy(&mut tx, &release).await?;
            }
            Transition::Apply => {
                let message = empty_to_none(result.error_message.as_ref())
                    .unwrap_or("the build failed without a message");
                releases::mark_failed(&mut tx, id, Some(&result.job_id), "BuildFailed", message)
                    .await?;
            }
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a build result", e))?;
        tracing::info!(release.id = %id, "build result recorded: {}", outcome.as_str());
        Ok(CallbackOutcome {
            release_id: id,
            status: outcome,
            duplicate: false,
            deployment_id,
        })
    }

    /// `build.completed` (with Roundhouse's `duration_secs`) for a build that produced a
    /// release, in the callback's transaction. Failed builds are not billed.
    async fn build_usage(
        &self,
        tx: &mut switchyard_db::PgConnection,
        release: &ReleaseRow,
        result: &BuildResult,
    ) -> Result<(), Error> {
        let found = crate::services::load(tx, release.service_id(), false).await?;
        let event = switchyard_billing::UsageEvent::build_completed(
            found.project.id(),
            release.id(),
            &format!("{}@{}", found.service.spec.0.name, release.version),
            result.duration_secs.unwrap_or(0.0),
            switchyard_db::repo::usage_checks::now(tx).await?,
        );
        crate::usage::record(tx, &event).await
    }

    /// For an `auto_deploy` service: a pending deployment of `release` in `auto_deploy_env`
    /// (created with the default namespace when missing, as the original did) and its
    /// `deployments` event, in the caller's transaction.
    async fn auto_deploy(
        &self,
        tx: &mut switchyard_db::PgConnection,
        release: &ReleaseRow,
    ) -> Result<Option<DeploymentId>, Error> {
        let found = self.service_in_project(tx, release.service_id()).await?;
        let spec = &found.service.spec.0;
        if !spec.auto_deploy {
            return Ok(None);
        }
        let project = &found.project;
        let env = match environments::find_by_name(tx, project.id(), &spec.auto_deploy_env).await? {
            Some(env) => env,
            None => {
                let name = EnvName::parse(&spec.auto_deploy_env)?;
                let namespace = parse_namespace(
                    &name.default_namespace(&Slug::project(&project.slug)?),
                    "auto_deploy_env",
                )?;
                let env = environments::insert(
                    tx,
                    &environments::NewEnvironment {
                        id: EnvironmentId::new(),
                        project_id: project.id(),
                        name: name.as_str(),
                        kube_namespace: &namespace,
                    },
                )
                .await?;
                audit::record_system(
                    tx,
                    AUTO_DEPLOY_ACTOR,
                    Entry::new("environment.create", "environment", env.id, &env.name)
                        .project(project.id()),
                )
                .await?;
                env
            }
        };
        if deployments::exists_for(tx, release.id(), env.id()).await? {
            return Ok(None);
        }
        let replicas = i32::try_from(spec.replicas).unwrap_or(1);
        let deployment = crate::deployments::enqueue(
            tx,
            &deployments::NewDeployment {
                id: DeploymentId::new(),
                service_id: release.service_id(),
                environment_id: env.id(),
                release_id: release.id(),
                replicas,
                triggered_by: None,
                rolled_back_from: None,
            },
        )
        .await?;
        audit::record_system(
            tx,
            AUTO_DEPLOY_ACTOR,
            Entry::new(
                "deployment.auto_triggered",
                "deployment",
                deployment.id,
                &spec.name,
            )
            .project(project.id())
            .changes(
                Changes::new()
                    .set("release", &release.version)
                    .set("environment", &env.name),
            ),
        )
        .await?;
        Ok(Some(DeploymentId::from_uuid(deployment.id)))
    }
}
