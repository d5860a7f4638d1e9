//! The hour math. An hour `[H, H+1h)` (UTC) of a project is billed:
//! - compute and storage: for each stretch overlapping the hour, rate × overlap in hours (an open
//!   stretch counts up to the end of the hour, or `now` for the current hour), so a deployment
//!   running 10:20 → 13:05 is billed in hours 10, 11, 12 and 13, not only in 10;
//! - custom domains: the number of domains attached at any time during the hour;
//! - build minutes: `duration_seconds / 60` of each `build.completed` in the hour.
//!
//! Each contribution is rounded to a millionth once; an hour's total is the sum of its
//! contributions, which is what the ledger route shows line by line.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{Interval, MICRO, UsageEvent};

/// What is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    ComputeGbHours,
    BuildMinutes,
    StorageGbHours,
    BandwidthGb,
    CustomDomains,
}

impl Metric {
    pub const ALL: [Self; 5] = [
        Self::ComputeGbHours,
        Self::BuildMinutes,
        Self::StorageGbHours,
        Self::BandwidthGb,
        Self::CustomDomains,
    ];

    /// Waybill's billable metric type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ComputeGbHours => "compute_gb_hours",
            Self::BuildMinutes => "build_minutes",
            Self::StorageGbHours => "storage_gb_hours",
            Self::BandwidthGb => "bandwidth_gb",
            Self::CustomDomains => "custom_domains",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw)
    }

    /// The unit of an hourly quantity.
    pub fn unit(self) -> &'static str {
        match self {
            Self::ComputeGbHours | Self::StorageGbHours => "GB-hours",
            Self::BuildMinutes => "minutes",
            Self::BandwidthGb => "GB",
            Self::CustomDomains => "domains",
        }
    }
}

/// The start of the UTC hour holding `t`.
pub fn floor_hour(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_minute(0)
        .and_then(|t| t.replace_second(0))
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(t)
}

/// Every hour start in `[from, to)` (`from` floored).
pub fn hours(from: OffsetDateTime, to: OffsetDateTime) -> impl Iterator<Item = OffsetDateTime> {
    let mut next = floor_hour(from);
    std::iter::from_fn(move || {
        (next < to).then(|| {
            let hour = next;
            next += Duration::HOUR;
            hour
        })
    })
}

/// Where a contribution comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A stretch of a resource, between the events that opened and closed it.
    Interval {
        resource_type: String,
        resource_id: Uuid,
        resource_name: String,
        rate_micro: i64,
        /// Microseconds of the hour the stretch covered.
        covered_micros: i64,
        start_event: Uuid,
        end_event: Option<Uuid>,
    },
    /// One `build.completed`.
    Build {
        event: Uuid,
        resource_id: Uuid,
        resource_name: String,
    },
}

/// One term of an hour's sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub project_id: Uuid,
    pub metric: Metric,
    pub hour: OffsetDateTime,
    pub quantity_micro: i64,
    pub source: Source,
}

const MICROS_PER_HOUR: i128 = 3_600_000_000;

fn micros(d: Duration) -> i64 {
    i64::try_from(d.whole_microseconds()).unwrap_or(i64::MAX)
}

/// `a × b / c` rounded half up, for non-negative values.
fn mul_div(a: i64, b: i64, c: i128) -> i64 {
    let product = i128::from(a) * i128::from(b);
    i64::try_from((product + c / 2) / c).unwrap_or(i64::MAX)
}

/// The contributions to `hour` of `intervals` (any project) and `builds` (`build.completed`
/// events), counting open stretches up to `now`.
pub fn contributions(
    hour: OffsetDateTime,
    now: OffsetDateTime,
    intervals: &[Interval],
    builds: &[UsageEvent],
) -> Vec<Contribution> {
    let end = hour + Duration::HOUR;
    let mut out = Vec::new();
    for i in intervals {
        let from = i.started_at.max(hour);
        let to = i.ended_at.unwrap_or(now).min(end);
        let covered = micros(to - from);
        // A stretch that misses the hour, or of zero length (started and stopped at once),
        // bills nothing; a domain attached for any part of the hour counts once.
        if covered <= 0 {
            continue;
        }
        let quantity_micro = match i.metric {
            Metric::CustomDomains => i.rate_micro,
            _ => mul_div(i.rate_micro, covered, MICROS_PER_HOUR),
        };
        out.push(Contribution {
            project_id: i.project_id,
            metric: i.metric,
            hour,
            quantity_micro,
            source: Source::Interval {
                resource_type: i.resource_type.clone(),
                resource_id: i.resource_id,
                resource_name: i.resource_name.clone(),
                rate_micro: i.rate_micro,
                covered_micros: covered.max(0),
                start_event: i.start_event,
                end_event: i.end_event,
            },
        });
    }
    for b in builds
        .iter()
        .filter(|b| b.timestamp >= hour && b.timestamp < end)
    {
        out.push(Contribution {
            project_id: b.project_id.as_uuid(),
            metric: Metric::BuildMinutes,
            hour,
            quantity_micro: mul_div(b.metric_micro("duration_seconds").max(0), 1, 60),
            source: Source::Build {
                event: b.id,
                resource_id: b.resource_id,
                resource_name: b.resource_name.clone(),
            },
        });
    }
    out
}

/// Sums per (project, metric, hour), leaving out zeros.
pub fn totals(contributions: &[Contribution]) -> BTreeMap<(Uuid, Metric, OffsetDateTime), i64> {
    let mut sums = BTreeMap::new();
    for c in contributions {
        *sums.entry((c.project_id, c.metric, c.hour)).or_insert(0) += c.quantity_micro;
    }
    sums.retain(|_, v| *v != 0);
    sums
}

/// Millionths as a decimal string with six places (`2750000` → `2.750000`).
pub fn format_micro(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let v = v.unsigned_abs();
    let micro = MICRO.unsigned_abs();
    format!("{sign}{}.{:06}", v / micro, v % micro)
}

#[cfg(test)]
mod tests {
    use switchyard_domain::{DeploymentId, ProjectId, ReleaseId};
    use time::macros::datetime;

    use super::*;
    use crate::{Workload, replay::intervals};

    fn w(replicas: u32) -> Workload {
        Workload {
            replicas,
            cpu_millicores: 500,
            memory_mb: 512,
            volumes: vec![],
        }
    }

    #[test]
    fn a_deployment_from_10_20_to_13_05_is_billed_in_four_hours() {
        let (p, d) = (ProjectId::new(), DeploymentId::new());
        let events = [
            UsageEvent::deployment_started(p, d, "web", &w(2), datetime!(2026-11-23 10:20 UTC)),
            UsageEvent::deployment_stopped(
                p,
                d,
                "web",
                &w(2),
                datetime!(2026-11-23 13:05 UTC),
                "superseded",
            ),
        ];
        let stretches = intervals(&events);
        let now = datetime!(2026-11-24 00:00 UTC);
        let all: Vec<Contribution> = hours(datetime!(2026-11-23 09:00 UTC), now)
            .flat_map(|h| contributions(h, now, &stretches, &[]))
            .collect();
        let sums = totals(&all);
        let rows: Vec<(OffsetDateTime, i64)> = sums.iter().map(|((_, _, h), v)| (*h, *v)).collect();
        assert_eq!(
            rows,
            [
                (datetime!(2026-11-23 10:00 UTC), 666_667),
                (datetime!(2026-11-23 11:00 UTC), 1_000_000),
                (datetime!(2026-11-23 12:00 UTC), 1_000_000),
                (datetime!(2026-11-23 13:00 UTC), 83_333),
            ]
        );
        assert_eq!(sums.values().sum::<i64>(), 2_750_000, "2 × 0.5 GB × 2.75 h");
        assert_eq!(format_micro(2_750_000), "2.750000");
    }

    #[test]
    fn an_open_deployment_counts_up_to_now_in_the_current_hour() {
        let (p, d) = (ProjectId::new(), DeploymentId::new());
        let start = datetime!(2026-11-23 10:00 UTC);
        let stretches = intervals(&[UsageEvent::deployment_started(p, d, "web", &w(2), start)]);
        let now = datetime!(2026-11-23 12:15 UTC);
        let c = contributions(datetime!(2026-11-23 11:00 UTC), now, &stretches, &[]);
        assert_eq!(c[0].quantity_micro, 1_000_000, "a whole past hour");
        let c = contributions(datetime!(2026-11-23 12:00 UTC), now, &stretches, &[]);
        assert_eq!(
            c[0].quantity_micro, 250_000,
            "a quarter of the current hour"
        );
    }

    #[test]
    fn builds_count_in_their_hour_in_minutes() {
        let p = ProjectId::new();
        let at = datetime!(2026-11-23 10:59:59 UTC);
        let b = UsageEvent::build_completed(p, ReleaseId::new(), "web", 90.0, at);
        let hour = datetime!(2026-11-23 10:00 UTC);
        let c = contributions(hour, at, &[], std::slice::from_ref(&b));
        assert_eq!(c[0].quantity_micro, 1_500_000);
        assert!(contributions(hour + Duration::HOUR, at, &[], &[b]).is_empty());
    }

    #[test]
    fn hours_are_utc_and_floored() {
        let t = datetime!(2026-11-23 10:20:30.5 +02:00);
        assert_eq!(floor_hour(t), datetime!(2026-11-23 08:00 UTC));
        let n = hours(
            datetime!(2026-11-23 10:20 UTC),
            datetime!(2026-11-23 13:00 UTC),
        )
        .count();
        assert_eq!(n, 3);
    }
}
