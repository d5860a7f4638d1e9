//! Deployments: `POST /v1/services/:id/deploy`, the deployment lists, a service's status, and
//! rollback (always a new deployment of an earlier release, DESIGN.md §10). Every deployment is
//! written with its `deployments` outbox event in one transaction; the worker reconciles it.

use serde_json::json;
use switchyard_db::repo::{deployments, environments, outbox, releases};
use switchyard_domain::{
    DeploymentId, DeploymentPhase, Error, ReleaseId, ReleaseStatus, ResourceKind, ServiceId,
};

use crate::{
    ControlPlane, DeploymentRow, EnvironmentRow, Page, PageRequest, Principal, ReleaseRow,
    ServiceInProject,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
    builds::DEPLOYMENTS_TOPIC,
    policy::Need,
};

/// The most replicas one deployment may ask for (the table's check).
pub const MAX_REPLICAS: i32 = 50;

/// A deploy request, as parsed at the edge.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub release_id: ReleaseId,
    /// Default `development`, as the original.
    pub environment_name: Option<String>,
    /// Default the service's `replicas`; `<= 0` becomes 1, as the original.
    pub replicas: Option<i64>,
}

/// What `GET /v1/services/:id/status` reads.
#[derive(Debug, Clone)]
pub struct ServiceStatus {
    pub service: ServiceInProject,
    pub latest: Option<(DeploymentRow, ReleaseRow)>,
}

/// A rollback's two deployments: the new one and the one it replaces.
#[derive(Debug, Clone)]
pub struct Rollback {
    pub rolled_back_to: DeploymentRow,
    pub current: DeploymentRow,
}

/// The replica count a deploy asks for: the request's (`<= 0` is 1, as the original), else the
/// service's; at most [`MAX_REPLICAS`].
pub(crate) fn replicas(requested: Option<i64>, spec_default: u32) -> Result<i32, Error> {
    let n = requested.unwrap_or_else(|| i64::from(spec_default)).max(1);
    i32::try_from(n)
        .ok()
        .filter(|n| *n <= MAX_REPLICAS)
        .ok_or_else(|| Error::invalid("replicas", format!("must be at most {MAX_REPLICAS}")))
}

/// Writes a pending deployment and its `deployments` event in the caller's transaction.
pub(crate) async fn enqueue(
    tx: &mut switchyard_db::PgConnection,
    new: &deployments::NewDeployment,
) -> Result<DeploymentRow, Error> {
    let deployment = deployments::insert(tx, new).await?;
    // A newer deployment makes older ones still on their way pointless.
    deployments::supersede_older(tx, &deployment, false).await?;
    request_reconcile(tx, deployment.id).await?;
    Ok(deployment)
}

/// The `deployments` event that has the worker reconcile deployment `id`, in the caller's
/// transaction.
pub(crate) async fn request_reconcile(
    tx: &mut switchyard_db::PgConnection,
    id: uuid::Uuid,
) -> Result<(), Error> {
    deployments_event(tx, id, REQUESTED).await
}

/// The event type of a deployment to reconcile until it ends.
pub const REQUESTED: &str = "deployment.requested";
/// The event type of an applied deployment whose objects must be applied again.
pub const REFRESH: &str = "deployment.refresh";

async fn deployments_event(
    tx: &mut switchyard_db::PgConnection,
    id: uuid::Uuid,
    kind: &str,
) -> Result<(), Error> {
    outbox::insert(
        tx,
        &outbox::NewEvent {
            topic: DEPLOYMENTS_TOPIC,
            aggregate_id: &id.to_string(),
            payload: &json!({ "type": kind, "deployment_id": id }),
        },
    )
    .await
    .map(drop)
}

/// After a change the pods must see at once (a variable, a verified domain), in the caller's
/// transaction: a `deployment.refresh` event for the newest deployment of `service` in
/// `environment` (in every environment when `None`) that was applied already (`rolling_out` or
/// `running`). One still `pending` or `applying` reads the change when it applies; older ones
/// are on their way out. Returns how many were asked to refresh.
pub(crate) async fn refresh_applied(
    tx: &mut switchyard_db::PgConnection,
    service: ServiceId,
    environment: Option<switchyard_domain::EnvironmentId>,
) -> Result<usize, Error> {
    let mut asked = 0;
    for (id, phase) in deployments::newest_per_environment(tx, service, environment).await? {
        let applied = matches!(
            DeploymentPhase::parse(&phase),
            Some(DeploymentPhase::RollingOut | DeploymentPhase::Running)
        );
        if applied {
            deployments_event(tx, id, REFRESH).await?;
            asked += 1;
        }
    }
    Ok(asked)
}

impl ControlPlane {
    /// `POST /v1/services/:id/deploy`.
    pub async fn deploy(
        &self,
        principal: &Principal,
        service_id: ServiceId,
        request: &DeployRequest,
    ) -> Result<DeploymentRow, Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let found = self
            .service_authorized(&mut tx, principal, service_id, Need::Read, true)
            .await?;
        let env_name = request.environment_name.as_deref().unwrap_or("development");
        let env = self
            .deploy_target(&mut tx, principal, &found, env_name)
            .await?;
        let release = self
            .deployable_release(&mut tx, service_id, request.release_id)
            .await?;
        let replicas = replicas(request.replicas, found.service.spec.0.replicas)?;
        let deployment = enqueue(
            &mut tx,
            &deployments::NewDeployment {
                id: DeploymentId::new(),
                service_id,
                environment_id: env.id(),
                release_id: release.id(),
                replicas,
                triggered_by: Some(principal.user_id),
                rolled_back_from: None,
            },
        )
        .await?;
        audit::record(
            &mut tx,
            principal,
            Entry::new(
                "deployment.create",
                "deployment",
                deployment.id,
                &found.service.spec.0.name,
            )
            .project(found.project.id())
            .environment(Some(env.id()))
            .changes(
                Changes::new()
                    .set("release", &release.version)
                    .set("environment", &env.name)
                    .set("replicas", replicas),
            ),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a deployment", e))?;
        Ok(deployment)
    }

    /// The environment `name` of the service's project, if `principal` may deploy there.
    pub(crate) async fn deploy_target(
        &self,
        conn: &mut switchyard_db::PgConnection,
        principal: &Principal,
        found: &ServiceInProject,
        name: &str,
    ) -> Result<EnvironmentRow, Error> {
        let env = environments::find_by_name(conn, found.project.id(), name)
            .await?
            .ok_or_else(|| Error::not_found(ResourceKind::Environment, name))?;
        let hidden = || Error::not_found(ResourceKind::Service, found.service.id().to_string());
        self.authorize_row(
            conn,
            principal,
            found.project.clone(),
            Some(env.id()),
            Need::Write,
            hidden,
        )
        .await?;
        Ok(env)
    }

    /// Release `id` of `service`, which must be `ready`.
    pub(crate) async fn deployable_release(
        &self,
        conn: &mut switchyard_db::PgConnection,
        service: ServiceId,
        id: ReleaseId,
    ) -> Result<ReleaseRow, Error> {
        let release = releases::find(conn, id)
            .await?
            .filter(|r| r.service_id() == service)
            .ok_or_else(|| Error::not_found(ResourceKind::Release, id.to_string()))?;
        match ReleaseStatus::parse(&release.status) {
            Some(ReleaseStatus::Ready) => Ok(release),
            _ => Err(Error::invalid(
                "release_id",
                format!(
                    "release {} is {}; only a ready release can be deployed",
                    release.version, release.status
                ),
            )),
        }
    }

    /// `GET /v1/services/:id/deployments`: newest first.
    pub async fn deployment_list(
        &self,
        principal: &Principal,
        service_id: ServiceId,
        page: PageRequest,
    ) -> Result<Page<DeploymentRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        self.service_authorized(&mut conn, principal, service_id, Need::Read, false)
            .await?;
        let rows = deployments::list(&mut conn, service_id, page.after, page.fetch()).await?;
        Ok(page.finish(rows, |d| d.id))
    }

    /// `GET /v1/services/:id/status` and `/deployments/latest`: the service and its newest
    /// deployment with that deployment's release.
    pub async fn service_status(
        &self,
        principal: &Principal,
        service_id: ServiceId,
    ) -> Result<ServiceStatus, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let service = self
            .service_authorized(&mut conn, principal, service_id, Need::Read, false)
            .await?;
        let latest = match deployments::list(&mut conn, service_id, None, 1)
            .await?
            .pop()
        {
            Some(d) => {
                // The foreign key deletes deployments with their release: it is there.
                let release = releases::find(&mut conn, d.release_id())
                    .await?
                    .ok_or_else(|| {
                        Error::not_found(ResourceKind::Release, d.release_id().to_string())
                    })?;
                Some((d, release))
            }
            None => None,
        };
        Ok(ServiceStatus { service, latest })
    }

    /// `GET /v1/deployments/:id`.
    pub async fn deployment_view(
        &self,
        principal: &Principal,
        id: DeploymentId,
    ) -> Result<DeploymentRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        self.deployment_authorized(&mut conn, principal, id, Need::Read)
            .await
            .map(|(d, _)| d)
    }

    /// Deployment `id` and its service, if `principal` may do `need` in its environment.
    pub(crate) async fn deployment_authorized(
        &self,
        conn: &mut switchyard_db::PgConnection,
        principal: &Principal,
        id: DeploymentId,
        need: Need,
    ) -> Result<(DeploymentRow, ServiceInProject), Error> {
        let hidden = || Error::not_found(ResourceKind::Deployment, id.to_string());
        let deployment = deployments::find(conn, id).await?.ok_or_else(hidden)?;
        let found = crate::services::load(conn, deployment.service_id(), false).await?;
        self.authorize_row(
            conn,
            principal,
            found.project.clone(),
            Some(deployment.environment_id()),
            need,
            hidden,
        )
        .await?;
        Ok((deployment, found))
    }

    /// `POST /v1/deployments/:id/rollback`: a new deployment, in the same environment, of
    /// `to_release` or else of the newest other release that ran there.
    pub async fn rollback(
        &self,
        principal: &Principal,
        id: DeploymentId,
        to_release: Option<ReleaseId>,
    ) -> Result<Rollback, Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let (current, found) = self
            .deployment_authorized(&mut tx, principal, id, Need::Write)
            .await?;
        let release = match to_release {
            Some(release) => {
                self.deployable_release(&mut tx, current.service_id(), release)
                    .await?
            }
            None => {
                let previous = deployments::last_ran(
                    &mut tx,
                    current.service_id(),
                    current.environment_id(),
                    current.id(),
                )
                .await?
                .filter(|d| d.release_id != current.release_id)
                .ok_or_else(|| {
                    Error::invalid("to_release", "No previous deployment found to rollback to")
                })?;
                self.deployable_release(&mut tx, current.service_id(), previous.release_id())
                    .await?
            }
        };
        let rolled_back_to = enqueue(
            &mut tx,
            &deployments::NewDeployment {
                id: DeploymentId::new(),
                service_id: current.service_id(),
                environment_id: current.environment_id(),
                release_id: release.id(),
                replicas: current.replicas,
                triggered_by: Some(principal.user_id),
                rolled_back_from: Some(current.id()),
            },
        )
        .await?;
        audit::record(
            &mut tx,
            principal,
            Entry::new(
                "deployment.rollback",
                "deployment",
                rolled_back_to.id,
                &found.service.spec.0.name,
            )
            .project(found.project.id())
            .environment(Some(current.environment_id()))
            .changes(
                Changes::new()
                    .set("release", &release.version)
                    .set("rolled_back_from", current.id.to_string()),
            ),
        )
        .await?;
        // The current deployment as it is now (a rollback of an in-progress one cancelled it).
        let current = deployments::find(&mut tx, id).await?.unwrap_or(current);
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a rollback", e))?;
        Ok(Rollback {
            rolled_back_to,
            current,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_follow_the_original_rules() {
        assert_eq!(replicas(None, 3).unwrap(), 3);
        assert_eq!(replicas(Some(0), 3).unwrap(), 1, "<= 0 becomes 1");
        assert_eq!(replicas(Some(-4), 3).unwrap(), 1);
        assert_eq!(replicas(Some(50), 1).unwrap(), 50);
        assert_eq!(replicas(Some(51), 1).unwrap_err().code(), "invalid_input");
        assert_eq!(
            replicas(Some(i64::MAX), 1).unwrap_err().code(),
            "invalid_input"
        );
    }
}
