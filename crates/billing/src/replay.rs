//! A resource's events replayed, in time order, into the stretches of time it was billable at
//! one rate. `started`/`created`/`added` open a stretch, `scaled`/`resized` close it and open the
//! next at the new rate (or open one if none was open), `stopped`/`deleted`/`removed` close it;
//! a close with nothing open, or a second open, changes nothing. The result depends only on the
//! set of events, not on the order they arrived in: a late event is simply replayed in place.
//! Events at the same instant replay opening before changing before closing, then by id.
//!
//! A deployment runs once and a custom domain is attached once: the first `deployment.stopped`
//! (`domain.removed`) ends it for good, and a start or scale timestamped after it (a producer
//! whose clock disagreed) opens nothing, so a stop sorted before its start can never leave a
//! stretch open forever. (A volume may be deleted and created again, so it has no such rule.) Producers date events with the
//! database's clock and never date a stop before the start it ends, so this is a backstop.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{EventType, MICRO, Metric, UsageEvent, workload::compute_rate_micro};

/// One stretch of billable time of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    pub resource_id: Uuid,
    pub project_id: Uuid,
    pub resource_type: String,
    pub resource_name: String,
    pub metric: Metric,
    /// Per hour, in millionths: GB for compute and storage, domains for custom domains.
    pub rate_micro: i64,
    pub started_at: OffsetDateTime,
    /// `None`: still open.
    pub ended_at: Option<OffsetDateTime>,
    pub start_event: Uuid,
    pub end_event: Option<Uuid>,
}

/// What an event does to its resource's stretch.
enum Step {
    Open(Metric, i64),
    Change(Metric, i64),
    Close,
    /// A point event (a build) or one Switchyard does not know.
    None,
}

fn step(e: &UsageEvent) -> Step {
    let Some(kind) = e.kind() else {
        return Step::None;
    };
    let compute = || {
        let replicas = u32::try_from(e.metric_micro("replicas") / MICRO).unwrap_or(0);
        let cpu = u64::try_from(e.metric_micro("cpu_millicores") / MICRO).unwrap_or(0);
        let mem = u64::try_from(e.metric_micro("memory_mb") / MICRO).unwrap_or(0);
        compute_rate_micro(replicas, cpu, mem)
    };
    let storage = || e.metric_micro("size_gb").max(0);
    match kind {
        EventType::DeploymentStarted => Step::Open(Metric::ComputeGbHours, compute()),
        EventType::DeploymentScaled => Step::Change(Metric::ComputeGbHours, compute()),
        EventType::VolumeCreated => Step::Open(Metric::StorageGbHours, storage()),
        EventType::VolumeResized => Step::Change(Metric::StorageGbHours, storage()),
        EventType::DomainAdded => Step::Open(Metric::CustomDomains, MICRO),
        EventType::DeploymentStopped | EventType::VolumeDeleted | EventType::DomainRemoved => {
            Step::Close
        }
        EventType::BuildCompleted => Step::None,
    }
}

/// Time order, with opening before changing before closing at the same instant, then by id, so
/// the same events always replay the same way.
pub fn sort(events: &mut [UsageEvent]) {
    events.sort_by_key(|e| (e.timestamp, e.kind().map_or(3, EventType::rank), e.id));
}

/// The stretches of the resource whose events are `events` (any order).
pub fn intervals(events: &[UsageEvent]) -> Vec<Interval> {
    let mut events = events.to_vec();
    sort(&mut events);
    let mut done = Vec::new();
    let mut open: Option<Interval> = None;
    for e in &events {
        let start = |metric, rate_micro| Interval {
            resource_id: e.resource_id,
            project_id: e.project_id.as_uuid(),
            resource_type: e.resource_type.clone(),
            resource_name: e.resource_name.clone(),
            metric,
            rate_micro,
            started_at: e.timestamp,
            ended_at: None,
            start_event: e.id,
            end_event: None,
        };
        match step(e) {
            Step::Open(metric, rate) if open.is_none() => open = Some(start(metric, rate)),
            Step::Change(metric, rate) => {
                if let Some(mut current) = open.take() {
                    current.ended_at = Some(e.timestamp);
                    current.end_event = Some(e.id);
                    done.push(current);
                }
                open = Some(start(metric, rate));
            }
            Step::Close => {
                if let Some(mut current) = open.take() {
                    current.ended_at = Some(e.timestamp);
                    current.end_event = Some(e.id);
                    done.push(current);
                }
                if matches!(
                    e.kind(),
                    Some(EventType::DeploymentStopped | EventType::DomainRemoved)
                ) {
                    break; // it runs (is attached) once: nothing after its end counts
                }
            }
            Step::Open(..) | Step::None => {}
        }
    }
    done.extend(open);
    done
}

#[cfg(test)]
mod tests {
    use switchyard_domain::{DeploymentId, ProjectId};
    use time::macros::datetime;

    use super::*;
    use crate::Workload;

    fn w(replicas: u32) -> Workload {
        Workload {
            replicas,
            cpu_millicores: 500,
            memory_mb: 512,
            volumes: vec![],
        }
    }

    #[test]
    fn start_scale_stop_make_two_stretches_whatever_the_arrival_order() {
        let (p, d) = (ProjectId::new(), DeploymentId::new());
        let started =
            UsageEvent::deployment_started(p, d, "web", &w(2), datetime!(2026-11-23 10:20 UTC));
        let scaled =
            UsageEvent::deployment_scaled(p, d, "web", &w(4), datetime!(2026-11-23 11:30 UTC), "4");
        let stopped = UsageEvent::deployment_stopped(
            p,
            d,
            "web",
            &w(4),
            datetime!(2026-11-23 13:05 UTC),
            "superseded",
        );
        let forward = intervals(&[started.clone(), scaled.clone(), stopped.clone()]);
        let backward = intervals(&[stopped.clone(), scaled.clone(), started.clone()]);
        assert_eq!(forward, backward);
        assert_eq!(forward.len(), 2);
        assert_eq!(forward[0].rate_micro, 1_000_000);
        assert_eq!(forward[0].ended_at, Some(datetime!(2026-11-23 11:30 UTC)));
        assert_eq!(forward[0].end_event, Some(scaled.id));
        assert_eq!(forward[1].rate_micro, 2_000_000);
        assert_eq!(forward[1].end_event, Some(stopped.id));
    }

    #[test]
    fn a_stop_at_or_before_its_start_closes_it_in_any_arrival_order() {
        let (p, d) = (ProjectId::new(), DeploymentId::new());
        let at = datetime!(2026-11-23 10:00 UTC);
        let start = UsageEvent::deployment_started(p, d, "web", &w(1), at);
        let same = UsageEvent::deployment_stopped(p, d, "web", &w(1), at, "deleted");
        for events in [[start.clone(), same.clone()], [same.clone(), start.clone()]] {
            let got = intervals(&events);
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].ended_at, Some(at), "a zero-length stretch, closed");
            assert_eq!(got[0].end_event, Some(same.id));
        }
        // A stop dated a millisecond before the start (a disagreeing clock) ends it too.
        let early = UsageEvent::deployment_stopped(
            p,
            d,
            "web",
            &w(1),
            at - time::Duration::milliseconds(1),
            "deleted",
        );
        for events in [
            [start.clone(), early.clone()],
            [early.clone(), start.clone()],
        ] {
            assert!(
                intervals(&events).iter().all(|i| i.ended_at.is_some()),
                "nothing left open"
            );
        }
        // A reconciled stop after a real one changes nothing.
        let real = UsageEvent::deployment_stopped(
            p,
            d,
            "web",
            &w(1),
            datetime!(2026-11-23 11:00 UTC),
            "superseded",
        );
        let again = UsageEvent::deployment_stopped(
            p,
            d,
            "web",
            &w(1),
            datetime!(2026-11-23 12:00 UTC),
            "reconciled",
        )
        .reconciled(&start.id.to_string());
        let got = intervals(&[start.clone(), real.clone(), again]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].end_event, Some(real.id));
    }

    #[test]
    fn an_open_start_stays_open_and_an_orphan_stop_changes_nothing() {
        let (p, d) = (ProjectId::new(), DeploymentId::new());
        let at = datetime!(2026-11-23 10:00 UTC);
        let open = intervals(&[UsageEvent::deployment_started(p, d, "web", &w(1), at)]);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].ended_at, None);
        let orphan = UsageEvent::deployment_stopped(p, d, "web", &w(1), at, "reconciled");
        assert!(intervals(&[orphan]).is_empty());
    }
}
