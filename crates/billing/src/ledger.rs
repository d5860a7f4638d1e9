//! The ledger: records each usage event once (its id is the primary key), rebuilds the
//! recorded resource's stretches from all of its events in the same transaction (serialized per
//! resource by an advisory lock), and marks the project's hours from the event's hour on for
//! re-aggregation. The periodic [`Ledger::sweep`] aggregates every hour that has ended since the
//! last sweep for every project, then re-aggregates the marked hours, so a late event corrects
//! the hours it touches and aggregating an hour again gives the same rows.

use std::collections::BTreeMap;

use serde_json::Value;
use switchyard_db::{
    PgConnection, PgPool,
    repo::{outbox, usage, usage::HourlyRow, usage::IntervalRow, usage::UsageEventRow},
};
use switchyard_domain::{Error, ProjectId};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    Interval, Metric, UsageEvent, floor_hour,
    hourly::{self, Contribution},
    replay,
};

/// Outbox topic of the events forwarded to Waybill.
pub const WAYBILL_TOPIC: &str = "waybill";

/// Hours one sweep catches up at most (a worker that was down longer catches up over several).
const MAX_HOURS_PER_SWEEP: usize = 24 * 31;

/// Marked projects re-aggregated per sweep.
const DIRTY_BATCH: i64 = 100;

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Hours aggregated for every project.
    pub hours: usize,
    /// Projects whose past hours were aggregated again after a late event.
    pub reaggregated: usize,
}

#[derive(Clone)]
pub struct Ledger {
    pool: PgPool,
    /// Also write each newly recorded event to the `waybill` outbox topic.
    forward: bool,
}

fn db_unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::unavailable("database unavailable", e)
}

fn commit_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::internal("committing usage", e)
}

impl From<&UsageEvent> for UsageEventRow {
    fn from(e: &UsageEvent) -> Self {
        Self {
            id: e.id,
            project_id: e.project_id.as_uuid(),
            team_id: e.team_id,
            event_type: e.event_type.clone(),
            resource_type: e.resource_type.clone(),
            resource_id: e.resource_id,
            resource_name: e.resource_name.clone(),
            metrics: serde_json::to_value(&e.metrics).unwrap_or(Value::Null),
            metadata: serde_json::to_value(&e.metadata).unwrap_or(Value::Null),
            occurred_at: e.timestamp,
        }
    }
}

impl From<UsageEventRow> for UsageEvent {
    fn from(r: UsageEventRow) -> Self {
        Self {
            id: r.id,
            event_type: r.event_type,
            project_id: ProjectId::from_uuid(r.project_id),
            team_id: r.team_id,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            resource_name: r.resource_name,
            metrics: serde_json::from_value(r.metrics).unwrap_or_default(),
            metadata: serde_json::from_value(r.metadata).unwrap_or_default(),
            timestamp: r.occurred_at,
        }
    }
}

impl From<&Interval> for IntervalRow {
    fn from(i: &Interval) -> Self {
        Self {
            resource_id: i.resource_id,
            started_at: i.started_at,
            project_id: i.project_id,
            resource_type: i.resource_type.clone(),
            resource_name: i.resource_name.clone(),
            metric: i.metric.as_str().to_owned(),
            rate_micro: i.rate_micro,
            ended_at: i.ended_at,
            start_event: i.start_event,
            end_event: i.end_event,
        }
    }
}

impl From<IntervalRow> for Interval {
    fn from(r: IntervalRow) -> Self {
        Self {
            resource_id: r.resource_id,
            project_id: r.project_id,
            resource_type: r.resource_type,
            resource_name: r.resource_name,
            metric: Metric::parse(&r.metric).unwrap_or(Metric::ComputeGbHours),
            rate_micro: r.rate_micro,
            started_at: r.started_at,
            ended_at: r.ended_at,
            start_event: r.start_event,
            end_event: r.end_event,
        }
    }
}

impl Ledger {
    pub fn new(pool: PgPool, forward: bool) -> Self {
        Self { pool, forward }
    }

    /// Records `event` once; returns whether it was new (a duplicate changes nothing).
    pub async fn record(&self, event: &UsageEvent) -> Result<bool, Error> {
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        usage::lock_resource(&mut tx, event.resource_id).await?;
        if !usage::insert_event(&mut tx, &UsageEventRow::from(event)).await? {
            return Ok(false);
        }
        if event.resource_type != "build" {
            let events: Vec<UsageEvent> = usage::events_of_resource(&mut tx, event.resource_id)
                .await?
                .into_iter()
                .map(UsageEvent::from)
                .collect();
            let rows: Vec<IntervalRow> = replay::intervals(&events)
                .iter()
                .map(IntervalRow::from)
                .collect();
            usage::delete_intervals(&mut tx, event.resource_id).await?;
            usage::insert_intervals(&mut tx, &rows).await?;
        }
        usage::mark_dirty(
            &mut tx,
            event.project_id.as_uuid(),
            floor_hour(event.timestamp),
        )
        .await?;
        if self.forward {
            let payload = serde_json::to_value(event)
                .map_err(|e| Error::internal("encoding a usage event", e))?;
            outbox::insert(
                &mut tx,
                &outbox::NewEvent {
                    topic: WAYBILL_TOPIC,
                    aggregate_id: &event.resource_id.to_string(),
                    payload: &payload,
                },
            )
            .await?;
        }
        tx.commit().await.map_err(commit_error)?;
        Ok(true)
    }

    /// Aggregates, in one transaction, the hours `[from, to)` of `project` (or of every
    /// project), counting open stretches up to `now`; returns the rows written.
    async fn aggregate_range(
        conn: &mut PgConnection,
        project: Option<Uuid>,
        from: OffsetDateTime,
        to: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<usize, Error> {
        let (intervals, builds) = Self::load(conn, project, from, to).await?;
        let mut contributions = Vec::new();
        for hour in hourly::hours(from, to) {
            contributions.extend(hourly::contributions(hour, now, &intervals, &builds));
        }
        let rows: Vec<HourlyRow> = hourly::totals(&contributions)
            .into_iter()
            .map(|((project_id, metric, hour), quantity_micro)| HourlyRow {
                project_id,
                metric: metric.as_str().to_owned(),
                hour,
                quantity_micro,
            })
            .collect();
        usage::delete_hourly(conn, project, from, to).await?;
        usage::insert_hourly(conn, &rows).await?;
        Ok(rows.len())
    }

    /// The stretches and builds that count in `[from, to)`.
    pub async fn load(
        conn: &mut PgConnection,
        project: Option<Uuid>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<(Vec<Interval>, Vec<UsageEvent>), Error> {
        let intervals = usage::intervals_overlapping(conn, project, from, to)
            .await?
            .into_iter()
            .map(Interval::from)
            .collect();
        let builds = usage::builds_between(conn, project, from, to)
            .await?
            .into_iter()
            .map(UsageEvent::from)
            .collect();
        Ok((intervals, builds))
    }

    /// The contributions to each hour of `[from, to)` of `project`: the ledger's explanation.
    pub async fn explain(
        conn: &mut PgConnection,
        project: ProjectId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<BTreeMap<(OffsetDateTime, Metric), Vec<Contribution>>, Error> {
        let (intervals, builds) = Self::load(conn, Some(project.as_uuid()), from, to).await?;
        let mut out: BTreeMap<_, Vec<Contribution>> = BTreeMap::new();
        for hour in hourly::hours(from, to) {
            for c in hourly::contributions(hour, now, &intervals, &builds) {
                out.entry((c.hour, c.metric)).or_default().push(c);
            }
        }
        Ok(out)
    }

    /// Aggregates `hour` for every project now (the admin route; an hour not yet over counts up
    /// to now and is aggregated again once it is). Returns the rows written.
    pub async fn aggregate_hour(
        &self,
        hour: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<usize, Error> {
        let hour = floor_hour(hour);
        let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
        usage::lock_resource(&mut tx, Uuid::nil()).await?;
        let rows = Self::aggregate_range(&mut tx, None, hour, hour + Duration::HOUR, now).await?;
        tx.commit().await.map_err(commit_error)?;
        Ok(rows)
    }

    /// Aggregates every hour that ended since the last sweep (for every project), then the
    /// past hours late events marked. Safe to run from several workers at once.
    pub async fn sweep(&self, now: OffsetDateTime) -> Result<Sweep, Error> {
        let last_complete = floor_hour(now) - Duration::HOUR;
        let mut done = Sweep::default();
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        let watermark = usage::watermark(&mut conn)
            .await?
            .unwrap_or(last_complete - Duration::HOUR);
        drop(conn);
        for hour in hourly::hours(watermark + Duration::HOUR, last_complete + Duration::HOUR)
            .take(MAX_HOURS_PER_SWEEP)
        {
            let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
            usage::lock_resource(&mut tx, Uuid::nil()).await?;
            Self::aggregate_range(&mut tx, None, hour, hour + Duration::HOUR, now).await?;
            usage::set_watermark(&mut tx, hour).await?;
            tx.commit().await.map_err(commit_error)?;
            done.hours += 1;
        }
        let mut conn = self.pool.acquire().await.map_err(db_unavailable)?;
        let marked = usage::dirty(&mut conn, DIRTY_BATCH).await?;
        drop(conn);
        for mark in marked {
            let mut tx = self.pool.begin().await.map_err(db_unavailable)?;
            usage::lock_resource(&mut tx, Uuid::nil()).await?;
            // Read under the aggregation lock: another sweep may have aggregated more hours
            // since this one started, and an hour it aggregated before this mark's event was
            // recorded must be aggregated again here, not left to a first pass that is over.
            let Some(through) = usage::watermark(&mut tx).await? else {
                continue; // never aggregated: the first pass has not run yet
            };
            if mark.from_hour <= through {
                let to = through + Duration::HOUR;
                Self::aggregate_range(&mut tx, Some(mark.project_id), mark.from_hour, to, now)
                    .await?;
                done.reaggregated += 1;
            }
            // Hours after the watermark are aggregated by a later first pass, which starts after
            // this lock is released and so sees the event. Only this exact mark is cleared: an
            // event recorded since moved or re-inserted it with a new version.
            usage::clear_dirty(&mut tx, mark.project_id, mark.version).await?;
            tx.commit().await.map_err(commit_error)?;
        }
        Ok(done)
    }
}
