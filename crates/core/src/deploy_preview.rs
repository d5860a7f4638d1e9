//! Looking before leaping: the dry run of a deploy (`deploy_preview`: which objects would be
//! created, updated or deleted, nothing written) and the drift of a running deployment
//! (`drift`: which fields the live objects hold differently from what it rendered). Both render
//! with the worker's settings and compare with what the [`ClusterView`](crate::ClusterView)
//! reads: the cluster, or in render mode the manifests on disk.

use switchyard_db::repo::deployments;
use switchyard_domain::{DeploymentId, DeploymentPhase, Error, ResourceKind, ServiceId};
use switchyard_k8s::{
    Desired, Drift, RenderError,
    cluster::{Change, Ownership, Planned, plan},
    drift,
};
use time::OffsetDateTime;

use crate::{
    ClusterView, ControlPlane, DeployPlan, DeployRequest, DeploymentRow, EnvironmentRow, Principal,
    ReleaseRow, ServiceInProject, auth::db_unavailable, policy::Need,
};

/// What a deploy would do, without doing it.
#[derive(Debug, Clone)]
pub struct DeployPreview {
    pub service: ServiceInProject,
    pub environment: EnvironmentRow,
    pub release: ReleaseRow,
    pub replicas: i32,
    /// `cluster` or `render` (the manifests on disk).
    pub compared_with: &'static str,
    /// The service's Deployment is annotated `enclii.dev/reconcile: disabled`: a deploy
    /// would write nothing.
    pub reconcile_disabled: bool,
    /// Objects that would be created, updated or deleted, in apply order; Secret values
    /// redacted.
    pub changes: Vec<Planned>,
    /// Objects already as desired.
    pub unchanged: usize,
}

/// How a running deployment's live objects differ from what it rendered.
#[derive(Debug, Clone)]
pub struct DriftReport {
    pub service: ServiceInProject,
    pub environment: EnvironmentRow,
    pub deployment: DeploymentRow,
    pub compared_with: &'static str,
    pub drift: Drift,
}

fn render_refused(e: RenderError) -> Error {
    match e {
        RenderError::Serialize { .. } => Error::internal("rendering a deployment", e),
        refused => Error::InvalidInput {
            field: None,
            message: format!("the service cannot be deployed as configured: {refused}"),
        },
    }
}

fn source(view: &ClusterView) -> &'static str {
    match view {
        ClusterView::Render { .. } => "render",
        _ => "cluster",
    }
}

impl ControlPlane {
    /// `POST /v1/services/:id/deploy?dry_run=true`: the same checks as a deploy (and the same
    /// permission), then the objects it would render compared with the live ones. Writes
    /// nothing: no deployment, no event, no audit row.
    pub async fn deploy_preview(
        &self,
        principal: &Principal,
        service_id: ServiceId,
        request: &DeployRequest,
    ) -> Result<DeployPreview, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let found = self
            .service_authorized(&mut conn, principal, service_id, Need::Read, false)
            .await?;
        let env_name = request.environment_name.as_deref().unwrap_or("development");
        let environment = self
            .deploy_target(&mut conn, principal, &found, env_name)
            .await?;
        let release = self
            .deployable_release(&mut conn, service_id, request.release_id)
            .await?;
        let replicas =
            crate::deployments::replicas(request.replicas, found.service.spec.0.replicas)?;
        let now = OffsetDateTime::now_utc();
        let hypothetical = DeploymentRow {
            id: DeploymentId::new().as_uuid(),
            service_id: service_id.as_uuid(),
            environment_id: environment.id,
            release_id: release.id,
            sequence: 0,
            replicas,
            phase: DeploymentPhase::Pending.as_str().to_owned(),
            reason: None,
            error_message: None,
            health: "unknown".to_owned(),
            ready_replicas: 0,
            rolled_back_from: None,
            created_at: now,
            updated_at: now,
        };
        let desired = self
            .render(&mut conn, hypothetical, DeploymentPhase::Pending)
            .await?;
        drop(conn); // the cluster may take a while; hold no connection meanwhile
        let view = self.cluster_view();
        let live = view
            .live_objects(&desired.namespace, &desired.service)
            .await?;
        let ownership = match view {
            ClusterView::Render { .. } => Ownership::Ignored,
            _ => Ownership::FieldManager,
        };
        let planned = plan(&desired, &live, ownership);
        let (unchanged, changes): (Vec<_>, Vec<_>) = planned
            .changes
            .into_iter()
            .partition(|p| matches!(p.change, Change::Unchanged | Change::Skipped));
        Ok(DeployPreview {
            service: found,
            environment,
            release,
            replicas,
            compared_with: source(view),
            reconcile_disabled: planned.disabled,
            changes: changes
                .into_iter()
                .map(|p| Planned {
                    object: p.object.map(|o| o.redacted()),
                    ..p
                })
                .collect(),
            unchanged: unchanged.len(),
        })
    }

    /// `GET /v1/services/:id/drift?environment=`: the running deployment of the service in
    /// the environment (default `development`) rendered again and compared with the live
    /// objects on image, replicas, config checksum and labels, plus our objects nobody wants.
    pub async fn drift(
        &self,
        principal: &Principal,
        service_id: ServiceId,
        environment: Option<&str>,
    ) -> Result<DriftReport, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let found = self
            .service_authorized(&mut conn, principal, service_id, Need::Read, false)
            .await?;
        let env_name = environment.unwrap_or("development");
        let environment = switchyard_db::repo::environments::find_by_name(
            &mut conn,
            found.project.id(),
            env_name,
        )
        .await?
        .ok_or_else(|| Error::not_found(ResourceKind::Environment, env_name))?;
        let deployment = deployments::running_in(&mut conn, service_id, environment.id())
            .await?
            .ok_or_else(|| Error::Conflict {
                message: format!(
                    "{} has no running deployment in {env_name}: nothing to compare",
                    found.service.spec.0.name
                ),
            })?;
        let desired = self
            .render(&mut conn, deployment.clone(), DeploymentPhase::Running)
            .await?;
        drop(conn);
        let view = self.cluster_view();
        let live = view
            .live_objects(&desired.namespace, &desired.service)
            .await?;
        Ok(DriftReport {
            service: found,
            environment,
            deployment,
            compared_with: source(view),
            drift: drift(&desired, &live),
        })
    }

    /// The objects `deployment` renders to, with the worker's settings.
    async fn render(
        &self,
        conn: &mut switchyard_db::PgConnection,
        deployment: DeploymentRow,
        phase: DeploymentPhase,
    ) -> Result<Desired, Error> {
        let plan = DeployPlan::load(conn, self.envvar_keys.as_deref(), deployment, phase).await?;
        plan.desired(&self.inner.deploys.render)
            .map_err(render_refused)
    }
}
