//! Usage events, produced in the transaction of the change they record and written to the
//! outbox topic `usage` (the worker's billing consumer records them in the ledger, once, by
//! their deterministic id). [`record`] is the one way to emit an event; the other functions
//! are the producers of the deployment lifecycle.
//!
//! ```ignore
//! // in a domains use-case, inside its transaction:
//! usage::record(&mut tx, &UsageEvent::domain_added(project, domain_id, "shop.example.com", now)).await?;
//! ```

use std::collections::BTreeMap;

use switchyard_billing::{EventType, UsageEvent, Workload, event::volume_resource_id};
use switchyard_db::{
    PgConnection,
    repo::{deployments::SupersededRow, environments, outbox, usage_checks},
};
use switchyard_domain::{DeploymentId, Error, ProjectId, ServiceId};

use crate::DeploymentRow;

/// Outbox topic of usage events.
pub const USAGE_TOPIC: &str = "usage";

/// Writes `event` to the outbox (topic `usage`) in the caller's transaction. Emitting the same
/// fact twice is harmless: the event id is derived from the fact and the ledger keeps one.
pub async fn record(conn: &mut PgConnection, event: &UsageEvent) -> Result<(), Error> {
    let payload =
        serde_json::to_value(event).map_err(|e| Error::internal("encoding a usage event", e))?;
    outbox::insert(
        conn,
        &outbox::NewEvent {
            topic: USAGE_TOPIC,
            aggregate_id: &event.resource_id.to_string(),
            payload: &payload,
        },
    )
    .await
    .map(drop)
}

/// A stored billing snapshot, or the current spec's when the deployment has none (it ran
/// before billing existed).
pub(crate) fn workload_of(
    usage: Option<&serde_json::Value>,
    spec: &switchyard_domain::ServiceSpec,
    replicas: i32,
) -> Workload {
    usage
        .and_then(|u| serde_json::from_value(u.clone()).ok())
        .unwrap_or_else(|| Workload::from_spec(spec, replicas))
}

/// The cluster runs deployment `deployment` at `replicas` (the status sync read it): for an
/// autoscaled service whose billed replicas differ, emits `deployment.scaled` and stores the
/// new snapshot, in the caller's transaction. Never below `autoscaling.min_replicas`, the floor
/// a deployment is billed at from its start. Returns whether it scaled.
pub(crate) async fn deployment_replicas(
    tx: &mut PgConnection,
    deployment: &DeploymentRow,
    usage: Option<&serde_json::Value>,
    replicas: u32,
) -> Result<bool, Error> {
    let found = crate::services::load(tx, deployment.service_id(), false).await?;
    let spec = &found.service.spec.0;
    let Some(autoscaling) = spec.autoscaling.as_ref() else {
        return Ok(false);
    };
    let billed = workload_of(usage, spec, deployment.replicas);
    let replicas = replicas.max(autoscaling.min_replicas);
    if billed.replicas == replicas {
        return Ok(false);
    }
    let env = environments::find(tx, deployment.environment_id())
        .await?
        .ok_or_else(|| Error::internal("billing a deployment", "no environment"))?;
    let scaled = Workload { replicas, ..billed };
    let snapshot = serde_json::to_value(&scaled)
        .map_err(|e| Error::internal("encoding a deployment's usage", e))?;
    usage_checks::set_usage(tx, deployment.id(), &snapshot).await?;
    let at = usage_checks::now(tx).await?;
    let cause = format!("{replicas}@{}", at.unix_timestamp_nanos());
    let name = format!("{}/{}", spec.name, env.name);
    let event = UsageEvent::deployment_scaled(
        found.project.id(),
        deployment.id(),
        &name,
        &scaled,
        at,
        &cause,
    );
    record(tx, &event).await?;
    Ok(true)
}

/// `deployment` just reached `running`, replacing `superseded`: stores what it is billed as
/// and emits `deployment.started`, a `deployment.stopped` for the deployment it replaced
/// (reason `rolled_back` or `superseded`), and `volume.*` for volumes that appeared, changed
/// size or disappeared between the two. When a replaced deployment has no billing snapshot (it
/// ran before billing existed) its volumes are unknown, so every volume gets `volume.resized`:
/// it opens a stretch for a volume the ledger never opened, and re-rates one it did.
pub(crate) async fn deployment_running(
    tx: &mut PgConnection,
    deployment: &DeploymentRow,
    superseded: &[SupersededRow],
) -> Result<(), Error> {
    let found = crate::services::load(tx, deployment.service_id(), false).await?;
    let env = environments::find(tx, deployment.environment_id())
        .await?
        .ok_or_else(|| Error::internal("billing a deployment", "no environment"))?;
    let project = found.project.id();
    let name = format!("{}/{}", found.service.spec.0.name, env.name);
    let workload = Workload::from_spec(&found.service.spec.0, deployment.replicas);
    let snapshot = serde_json::to_value(&workload)
        .map_err(|e| Error::internal("encoding a deployment's usage", e))?;
    usage_checks::set_usage(tx, deployment.id(), &snapshot).await?;
    let at = deployment.updated_at;
    record(
        tx,
        &UsageEvent::deployment_started(project, deployment.id(), &name, &workload, at),
    )
    .await?;
    let reason = if deployment.rolled_back_from.is_some() {
        "rolled_back"
    } else {
        "superseded"
    };
    let mut before = Vec::new();
    let mut before_known = true;
    for old in superseded.iter().filter(|s| s.was_running) {
        before_known &= old.usage.is_some();
        let old_workload = workload_of(
            old.usage.as_ref(),
            &found.service.spec.0,
            deployment.replicas,
        );
        let id = DeploymentId::from_uuid(old.id);
        let stop = UsageEvent::deployment_stopped(
            project,
            id,
            &name,
            &old_workload,
            old.phase_changed_at,
            reason,
        );
        record(tx, &stop).await?;
        before.extend(old_workload.volumes);
    }
    let before: BTreeMap<String, u64> = before.into_iter().map(|v| (v.name, v.size_mb)).collect();
    let after: BTreeMap<String, u64> = workload
        .volumes
        .iter()
        .map(|v| (v.name.clone(), v.size_mb))
        .collect();
    let volume = |kind, name: &str, size_mb| {
        let resource = volume_resource_id(deployment.service_id, deployment.environment_id, name);
        let label = format!("{}/{}/{name}", found.service.spec.0.name, env.name);
        UsageEvent::volume(
            kind,
            project,
            resource,
            &label,
            size_mb,
            at,
            deployment.id(),
        )
    };
    for (name, size) in &after {
        match before.get(name) {
            _ if !before_known => {
                record(tx, &volume(EventType::VolumeResized, name, *size)).await?;
            }
            None => record(tx, &volume(EventType::VolumeCreated, name, *size)).await?,
            Some(old) if old != size => {
                record(tx, &volume(EventType::VolumeResized, name, *size)).await?;
            }
            Some(_) => {}
        }
    }
    let gone = before
        .iter()
        .filter(|(n, _)| before_known && !after.contains_key(*n));
    for (name, size) in gone {
        record(tx, &volume(EventType::VolumeDeleted, name, *size)).await?;
    }
    Ok(())
}

/// Emits `deployment.stopped` (reason `deleted`) and `volume.deleted` for every running
/// deployment of `project` (of `service` only, when set), and `domain.removed` for its billed
/// custom domains, before they are deleted (they go by cascade). Dated with the database's
/// clock, like the starts they end.
pub(crate) async fn deleting(
    tx: &mut PgConnection,
    project: ProjectId,
    service: Option<ServiceId>,
) -> Result<(), Error> {
    let now = usage_checks::now(tx).await?;
    for row in usage_checks::running(tx, project, service).await? {
        let workload = workload_of(row.usage.as_ref(), &row.spec.0, row.replicas);
        let id = DeploymentId::from_uuid(row.id);
        let stop =
            UsageEvent::deployment_stopped(project, id, &row.name, &workload, row.at, "deleted");
        record(tx, &stop).await?;
        for v in &workload.volumes {
            let resource = volume_resource_id(row.service_id, row.environment_id, &v.name);
            let label = format!("{}/{}", row.name, v.name);
            let kind = EventType::VolumeDeleted;
            record(
                tx,
                &UsageEvent::volume(kind, project, resource, &label, v.size_mb, row.at, id),
            )
            .await?;
        }
    }
    for (id, host) in switchyard_db::repo::domains::billed(tx, project, service).await? {
        record(tx, &UsageEvent::domain_removed(project, id, &host, now)).await?;
    }
    Ok(())
}
