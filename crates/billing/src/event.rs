//! The usage event contract, as Waybill's `internal/events/types.go` defines it (reference
//! original-internals.md §5.2), plus `id`: a UUID v5 of the fact the event records (the
//! resource, the kind, and what made it happen), so a producer that runs twice, a replayed
//! outbox row or a reconciliation that notices the same fact all produce the **same** id and
//! the ledger keeps one row.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchyard_domain::{DeploymentId, ProjectId, ReleaseId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Workload;

/// Namespace of every usage event id (UUID v5).
const NAMESPACE: Uuid = Uuid::from_u128(0x5e1f_c0de_b111_4a5e_9e7e_0000_0000_0001);

/// The event types Switchyard produces (Waybill knows a few more, e.g. `bandwidth.usage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    DeploymentStarted,
    DeploymentScaled,
    DeploymentStopped,
    BuildCompleted,
    VolumeCreated,
    VolumeResized,
    VolumeDeleted,
    DomainAdded,
    DomainRemoved,
}

impl EventType {
    pub const ALL: [Self; 9] = [
        Self::DeploymentStarted,
        Self::DeploymentScaled,
        Self::DeploymentStopped,
        Self::BuildCompleted,
        Self::VolumeCreated,
        Self::VolumeResized,
        Self::VolumeDeleted,
        Self::DomainAdded,
        Self::DomainRemoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeploymentStarted => "deployment.started",
            Self::DeploymentScaled => "deployment.scaled",
            Self::DeploymentStopped => "deployment.stopped",
            Self::BuildCompleted => "build.completed",
            Self::VolumeCreated => "volume.created",
            Self::VolumeResized => "volume.resized",
            Self::VolumeDeleted => "volume.deleted",
            Self::DomainAdded => "domain.added",
            Self::DomainRemoved => "domain.removed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// Order of events at the same instant: opening before changing before closing.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Self::DeploymentStarted | Self::VolumeCreated | Self::DomainAdded => 0,
            Self::DeploymentScaled | Self::VolumeResized | Self::BuildCompleted => 1,
            Self::DeploymentStopped | Self::VolumeDeleted | Self::DomainRemoved => 2,
        }
    }
}

/// One usage event, in Waybill's wire format (`POST /internal/events[/batch]`) plus `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub id: Uuid,
    pub event_type: String,
    pub project_id: ProjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
    pub resource_type: String,
    pub resource_id: Uuid,
    #[serde(default)]
    pub resource_name: String,
    pub metrics: BTreeMap<String, f64>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

/// The id of the event of `kind` about `resource`, caused by `cause` (empty when the resource
/// has at most one event of that kind).
pub fn event_id(resource: Uuid, kind: EventType, cause: &str) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("{resource}/{}/{cause}", kind.as_str()).as_bytes(),
    )
}

/// The resource id of a service's volume in one environment (the volume outlives deployments).
pub fn volume_resource_id(service: Uuid, environment: Uuid, name: &str) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("volume/{service}/{environment}/{name}").as_bytes(),
    )
}

#[expect(
    clippy::cast_precision_loss,
    reason = "counts and sizes far below 2^52 are exact in f64, the wire type"
)]
fn num(n: u64) -> f64 {
    n as f64
}

fn deployment_metrics(w: &Workload) -> BTreeMap<String, f64> {
    BTreeMap::from([
        ("replicas".to_owned(), f64::from(w.replicas)),
        ("cpu_millicores".to_owned(), num(w.cpu_millicores)),
        ("memory_mb".to_owned(), num(w.memory_mb)),
    ])
}

impl UsageEvent {
    fn new(
        kind: EventType,
        id: Uuid,
        project: ProjectId,
        resource: (&str, Uuid, &str),
        metrics: BTreeMap<String, f64>,
        at: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            event_type: kind.as_str().to_owned(),
            project_id: project,
            team_id: None,
            resource_type: resource.0.to_owned(),
            resource_id: resource.1,
            resource_name: resource.2.to_owned(),
            metrics,
            metadata: BTreeMap::new(),
            timestamp: at,
        }
    }

    /// `deployment.started`: deployment `id` (named `name`, e.g. `web/production`) runs `w`.
    pub fn deployment_started(
        project: ProjectId,
        id: DeploymentId,
        name: &str,
        w: &Workload,
        at: OffsetDateTime,
    ) -> Self {
        Self::deployment(EventType::DeploymentStarted, "", (project, id, name), w, at)
    }

    /// `deployment.scaled`: deployment `id` now runs `w`; `cause` tells one scale from another
    /// (e.g. the replica count the cluster reported).
    pub fn deployment_scaled(
        project: ProjectId,
        id: DeploymentId,
        name: &str,
        w: &Workload,
        at: OffsetDateTime,
        cause: &str,
    ) -> Self {
        Self::deployment(
            EventType::DeploymentScaled,
            cause,
            (project, id, name),
            w,
            at,
        )
    }

    /// `deployment.stopped`, with `reason` (`superseded`, `rolled_back`, `deleted`,
    /// `reconciled`) in `metadata`.
    pub fn deployment_stopped(
        project: ProjectId,
        id: DeploymentId,
        name: &str,
        w: &Workload,
        at: OffsetDateTime,
        reason: &str,
    ) -> Self {
        Self::deployment(EventType::DeploymentStopped, "", (project, id, name), w, at)
            .reason(reason)
    }

    /// An event of `kind` about deployment `id` running `w`; `cause` tells two events of the
    /// same kind apart (empty when there is one per deployment).
    fn deployment(
        kind: EventType,
        cause: &str,
        (project, id, name): (ProjectId, DeploymentId, &str),
        w: &Workload,
        at: OffsetDateTime,
    ) -> Self {
        let event_id = event_id(id.as_uuid(), kind, cause);
        let resource = ("deployment", id.as_uuid(), name);
        Self::new(kind, event_id, project, resource, deployment_metrics(w), at)
    }

    /// `build.completed` of release `id`, which took `duration_secs`.
    pub fn build_completed(
        project: ProjectId,
        id: ReleaseId,
        name: &str,
        duration_secs: f64,
        at: OffsetDateTime,
    ) -> Self {
        let kind = EventType::BuildCompleted;
        let metrics = BTreeMap::from([("duration_seconds".to_owned(), duration_secs.max(0.0))]);
        let resource = ("build", id.as_uuid(), name);
        Self::new(
            kind,
            event_id(id.as_uuid(), kind, ""),
            project,
            resource,
            metrics,
            at,
        )
    }

    /// `volume.created|resized|deleted` of the volume `resource` (see [`volume_resource_id`]),
    /// caused by deployment `cause`.
    pub fn volume(
        kind: EventType,
        project: ProjectId,
        resource: Uuid,
        name: &str,
        size_mb: u64,
        at: OffsetDateTime,
        cause: DeploymentId,
    ) -> Self {
        let size_gb = crate::workload::mb_to_gb_micro(size_mb);
        #[expect(
            clippy::cast_precision_loss,
            reason = "millionths of a GB below 2^52 are exact in f64, the wire type"
        )]
        let size_gb = size_gb as f64 / 1e6;
        let metrics = BTreeMap::from([("size_gb".to_owned(), size_gb)]);
        let id = event_id(resource, kind, &cause.to_string());
        Self::new(kind, id, project, ("volume", resource, name), metrics, at)
            .meta("deployment_id", &cause.to_string())
    }

    /// `domain.added`: custom domain `id` (`domain`, e.g. `shop.example.com`) now routes to a
    /// service of `project`.
    pub fn domain_added(project: ProjectId, id: Uuid, domain: &str, at: OffsetDateTime) -> Self {
        let kind = EventType::DomainAdded;
        let metrics = BTreeMap::from([("count".to_owned(), 1.0)]);
        Self::new(
            kind,
            event_id(id, kind, ""),
            project,
            ("domain", id, domain),
            metrics,
            at,
        )
    }

    /// `domain.removed`: custom domain `id` no longer routes anywhere.
    pub fn domain_removed(project: ProjectId, id: Uuid, domain: &str, at: OffsetDateTime) -> Self {
        let kind = EventType::DomainRemoved;
        let metrics = BTreeMap::from([("count".to_owned(), 1.0)]);
        Self::new(
            kind,
            event_id(id, kind, ""),
            project,
            ("domain", id, domain),
            metrics,
            at,
        )
    }

    /// This event as a correction made by reconciliation: `metadata.reason` `reconciled` and an
    /// id of its own, derived from `cause` (what was corrected, e.g. the stretch a stop closes),
    /// so it never collides with the lifecycle's event (recorded or still to come) and the same
    /// correction made twice is still one event.
    #[must_use]
    pub fn reconciled(mut self, cause: &str) -> Self {
        if let Some(kind) = self.kind() {
            self.id = event_id(self.resource_id, kind, &format!("reconciled/{cause}"));
        }
        self.reason("reconciled")
    }

    /// This event with `metadata.reason` set.
    #[must_use]
    pub fn reason(self, reason: &str) -> Self {
        self.meta("reason", reason)
    }

    #[must_use]
    pub fn meta(mut self, key: &str, value: &str) -> Self {
        self.metadata.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn kind(&self) -> Option<EventType> {
        EventType::parse(&self.event_type)
    }

    /// A metric as a whole number of millionths (`memory_mb` 512 → 512 000 000); 0 if absent.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "rounded, and clamped by the saturating float-to-int cast"
    )]
    pub fn metric_micro(&self, key: &str) -> i64 {
        let value = self.metrics.get(key).copied().unwrap_or(0.0);
        if value.is_finite() {
            (value * 1e6).round() as i64
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_fact_always_has_the_same_id() {
        let d = DeploymentId::new();
        let p = ProjectId::new();
        let w = Workload {
            replicas: 2,
            cpu_millicores: 500,
            memory_mb: 512,
            volumes: vec![],
        };
        let now = OffsetDateTime::now_utc();
        let a = UsageEvent::deployment_started(p, d, "web/production", &w, now);
        let b = UsageEvent::deployment_started(p, d, "web/production", &w, now);
        assert_eq!(a.id, b.id);
        assert_eq!(a.id.get_version_num(), 5);
        let stop = UsageEvent::deployment_stopped(p, d, "web", &w, now, "superseded");
        assert_ne!(a.id, stop.id);
        assert_eq!(stop.metadata["reason"], "superseded");
        assert_eq!(a.metric_micro("memory_mb"), 512_000_000);
    }

    #[test]
    fn a_reconciled_correction_has_its_own_stable_id() {
        let (p, d) = (ProjectId::new(), DeploymentId::new());
        let w = Workload {
            replicas: 1,
            cpu_millicores: 500,
            memory_mb: 512,
            volumes: vec![],
        };
        let now = OffsetDateTime::now_utc();
        let stop = || UsageEvent::deployment_stopped(p, d, "web", &w, now, "superseded");
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let fixed = stop().reconciled(&a.to_string());
        assert_ne!(fixed.id, stop().id, "not the lifecycle's id");
        assert_eq!(fixed.id, stop().reconciled(&a.to_string()).id, "stable");
        assert_ne!(fixed.id, stop().reconciled(&b.to_string()).id, "per cause");
        assert_eq!(fixed.metadata["reason"], "reconciled");
    }

    #[test]
    fn the_wire_format_is_waybills() {
        let p = ProjectId::new();
        let r = ReleaseId::new();
        let at = time::macros::datetime!(2026-11-23 10:20 UTC);
        let e = UsageEvent::build_completed(p, r, "web", 150.0, at);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["event_type"], "build.completed");
        assert_eq!(json["resource_type"], "build");
        assert_eq!(json["metrics"]["duration_seconds"], 150.0);
        assert_eq!(json["timestamp"], "2026-11-23T10:20:00Z");
        assert!(json.get("team_id").is_none());
        let back: UsageEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }
}
