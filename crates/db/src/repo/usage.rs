//! The usage ledger tables: `usage_events` (each event once), `usage_intervals` (per resource,
//! rebuilt from its events), `usage_hourly`, `usage_dirty` (hours a late event made stale) and
//! `usage_watermark`. Quantities are `numeric(20,6)` in SQL and whole millionths (`*_micro`,
//! `i64`) in Rust; the conversion is exact.

use serde_json::Value;
use sqlx::PgConnection;
use switchyard_domain::Error;
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

#[derive(Debug, Clone)]
pub struct UsageEventRow {
    pub id: Uuid,
    pub project_id: Uuid,
    pub team_id: Option<Uuid>,
    pub event_type: String,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub resource_name: String,
    pub metrics: Value,
    pub metadata: Value,
    pub occurred_at: OffsetDateTime,
}

/// Records `event` unless an event with its id is already recorded; returns whether it was new.
pub async fn insert_event(conn: &mut PgConnection, e: &UsageEventRow) -> Result<bool, Error> {
    sqlx::query!(
        "insert into usage_events (id, project_id, team_id, event_type, resource_type,
                                   resource_id, resource_name, metrics, metadata, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (id) do nothing",
        e.id,
        e.project_id,
        e.team_id,
        e.event_type,
        e.resource_type,
        e.resource_id,
        e.resource_name,
        e.metrics,
        e.metadata,
        e.occurred_at,
    )
    .execute(conn)
    .await
    .map(|done| done.rows_affected() == 1)
    .map_err(translate("recording a usage event", &[]))
}

/// Holds, until the transaction ends, the lock that serializes the recording of one resource's
/// events (so two consumers never rebuild its intervals from different sets of events).
pub async fn lock_resource(conn: &mut PgConnection, resource: Uuid) -> Result<(), Error> {
    sqlx::query_scalar!(
        r#"select 1 as "locked!" from (select pg_advisory_xact_lock(hashtextextended($1, 7135))) l"#,
        resource.to_string(),
    )
    .fetch_one(conn)
    .await
    .map(drop)
    .map_err(translate("locking a usage resource", &[]))
}

/// Every event of `resource`.
pub async fn events_of_resource(
    conn: &mut PgConnection,
    resource: Uuid,
) -> Result<Vec<UsageEventRow>, Error> {
    sqlx::query_as!(
        UsageEventRow,
        "select id, project_id, team_id, event_type, resource_type, resource_id, resource_name,
                metrics, metadata, occurred_at
         from usage_events where resource_id = $1 order by occurred_at, id",
        resource,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading usage events", &[]))
}

/// The events `ids` (the sources of ledger lines).
pub async fn events_by_ids(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<UsageEventRow>, Error> {
    sqlx::query_as!(
        UsageEventRow,
        "select id, project_id, team_id, event_type, resource_type, resource_id, resource_name,
                metrics, metadata, occurred_at
         from usage_events where id = any($1::uuid[]) order by occurred_at, id",
        ids,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading usage events", &[]))
}

/// `build.completed` events in `[from, to)`, of `project` or of every project.
pub async fn builds_between(
    conn: &mut PgConnection,
    project: Option<Uuid>,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<UsageEventRow>, Error> {
    sqlx::query_as!(
        UsageEventRow,
        "select id, project_id, team_id, event_type, resource_type, resource_id, resource_name,
                metrics, metadata, occurred_at
         from usage_events
         where event_type = 'build.completed' and occurred_at >= $2 and occurred_at < $3
           and ($1::uuid is null or project_id = $1)",
        project,
        from,
        to,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading build usage", &[]))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalRow {
    pub resource_id: Uuid,
    pub started_at: OffsetDateTime,
    pub project_id: Uuid,
    pub resource_type: String,
    pub resource_name: String,
    pub metric: String,
    pub rate_micro: i64,
    pub ended_at: Option<OffsetDateTime>,
    pub start_event: Uuid,
    pub end_event: Option<Uuid>,
}

pub async fn delete_intervals(conn: &mut PgConnection, resource: Uuid) -> Result<(), Error> {
    sqlx::query!(
        "delete from usage_intervals where resource_id = $1",
        resource
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("replacing usage intervals", &[]))
}

pub async fn insert_intervals(conn: &mut PgConnection, rows: &[IntervalRow]) -> Result<(), Error> {
    let col = |f: fn(&IntervalRow) -> Uuid| rows.iter().map(f).collect::<Vec<_>>();
    let text =
        |f: fn(&IntervalRow) -> &str| rows.iter().map(|r| f(r).to_owned()).collect::<Vec<_>>();
    let started: Vec<OffsetDateTime> = rows.iter().map(|r| r.started_at).collect();
    let ended: Vec<Option<OffsetDateTime>> = rows.iter().map(|r| r.ended_at).collect();
    let rates: Vec<i64> = rows.iter().map(|r| r.rate_micro).collect();
    let end_events: Vec<Option<Uuid>> = rows.iter().map(|r| r.end_event).collect();
    sqlx::query!(
        "insert into usage_intervals (resource_id, started_at, project_id, resource_type,
                                      resource_name, metric, rate, ended_at, start_event, end_event)
         select r, s, p, t, n, m, rate::numeric / 1000000, e, se, ee
         from unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[],
                     $6::text[], $7::int8[], $8::timestamptz[], $9::uuid[], $10::uuid[])
              as u(r, s, p, t, n, m, rate, e, se, ee)",
        &col(|r| r.resource_id),
        &started,
        &col(|r| r.project_id),
        &text(|r| &r.resource_type),
        &text(|r| &r.resource_name),
        &text(|r| &r.metric),
        &rates,
        &ended as &[Option<OffsetDateTime>],
        &col(|r| r.start_event),
        &end_events as &[Option<Uuid>],
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("writing usage intervals", &[]))
}

/// Stretches overlapping `[from, to)`, of `project` or of every project.
pub async fn intervals_overlapping(
    conn: &mut PgConnection,
    project: Option<Uuid>,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<IntervalRow>, Error> {
    sqlx::query_as!(
        IntervalRow,
        r#"select resource_id, started_at, project_id, resource_type, resource_name, metric,
                  (rate * 1000000)::int8 as "rate_micro!", ended_at, start_event, end_event
           from usage_intervals
           where started_at < $3 and (ended_at is null or ended_at > $2)
             and ($1::uuid is null or project_id = $1)
           order by project_id, started_at, resource_id"#,
        project,
        from,
        to,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading usage intervals", &[]))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlyRow {
    pub project_id: Uuid,
    pub metric: String,
    pub hour: OffsetDateTime,
    pub quantity_micro: i64,
}

/// Deletes the hourly rows in `[from, to)` of `project` or of every project (before writing
/// them again).
pub async fn delete_hourly(
    conn: &mut PgConnection,
    project: Option<Uuid>,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<(), Error> {
    sqlx::query!(
        "delete from usage_hourly
         where hour >= $2 and hour < $3 and ($1::uuid is null or project_id = $1)",
        project,
        from,
        to,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("clearing hourly usage", &[]))
}

pub async fn insert_hourly(conn: &mut PgConnection, rows: &[HourlyRow]) -> Result<(), Error> {
    let projects: Vec<Uuid> = rows.iter().map(|r| r.project_id).collect();
    let metrics: Vec<String> = rows.iter().map(|r| r.metric.clone()).collect();
    let hours: Vec<OffsetDateTime> = rows.iter().map(|r| r.hour).collect();
    let quantities: Vec<i64> = rows.iter().map(|r| r.quantity_micro).collect();
    sqlx::query!(
        "insert into usage_hourly (project_id, metric, hour, quantity)
         select p, m, h, q::numeric / 1000000
         from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int8[]) as u(p, m, h, q)
         on conflict (project_id, metric, hour)
         do update set quantity = excluded.quantity, aggregated_at = now()",
        &projects,
        &metrics,
        &hours,
        &quantities,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("writing hourly usage", &[]))
}

/// Hourly rows of `projects` in `[from, to)`, oldest first.
pub async fn hourly(
    conn: &mut PgConnection,
    projects: &[Uuid],
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<HourlyRow>, Error> {
    sqlx::query_as!(
        HourlyRow,
        r#"select project_id, metric, hour, (quantity * 1000000)::int8 as "quantity_micro!"
           from usage_hourly
           where project_id = any($1::uuid[]) and hour >= $2 and hour < $3
           order by hour, metric, project_id"#,
        projects,
        from,
        to,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading hourly usage", &[]))
}

/// Per project and metric over `[from, to)`: the sum and the largest hour.
#[derive(Debug, Clone)]
pub struct TotalRow {
    pub project_id: Uuid,
    pub metric: String,
    pub sum_micro: i64,
    pub peak_micro: i64,
}

pub async fn totals(
    conn: &mut PgConnection,
    projects: &[Uuid],
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<TotalRow>, Error> {
    sqlx::query_as!(
        TotalRow,
        r#"select project_id, metric,
                  (sum(quantity) * 1000000)::int8 as "sum_micro!",
                  (max(quantity) * 1000000)::int8 as "peak_micro!"
           from usage_hourly
           where project_id = any($1::uuid[]) and hour >= $2 and hour < $3
           group by project_id, metric"#,
        projects,
        from,
        to,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("summing usage", &[]))
}

/// Marks `project`'s hours from `from_hour` on for re-aggregation (keeping an earlier mark).
/// Every mark, new or moved, takes a fresh `version` from a sequence that never restarts, so a
/// version names one mark exactly, even after it was deleted and inserted again.
pub async fn mark_dirty(
    conn: &mut PgConnection,
    project: Uuid,
    from_hour: OffsetDateTime,
) -> Result<(), Error> {
    sqlx::query!(
        "insert into usage_dirty (project_id, from_hour) values ($1, $2)
         on conflict (project_id) do update
         set from_hour = least(usage_dirty.from_hour, excluded.from_hour),
             version = nextval('usage_dirty_version_seq')",
        project,
        from_hour,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("marking usage for re-aggregation", &[]))
}

#[derive(Debug, Clone)]
pub struct DirtyRow {
    pub project_id: Uuid,
    pub from_hour: OffsetDateTime,
    pub version: i64,
}

pub async fn dirty(conn: &mut PgConnection, limit: i64) -> Result<Vec<DirtyRow>, Error> {
    sqlx::query_as!(
        DirtyRow,
        "select project_id, from_hour, version from usage_dirty order by from_hour limit $1",
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading stale usage hours", &[]))
}

/// Removes `project`'s mark if it is still the one read at `version` (no event moved or
/// re-inserted it since).
pub async fn clear_dirty(
    conn: &mut PgConnection,
    project: Uuid,
    version: i64,
) -> Result<(), Error> {
    sqlx::query!(
        "delete from usage_dirty where project_id = $1 and version = $2",
        project,
        version,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("clearing stale usage hours", &[]))
}

/// The last hour the periodic aggregation finished (its start), if it ever ran.
pub async fn watermark(conn: &mut PgConnection) -> Result<Option<OffsetDateTime>, Error> {
    sqlx::query_scalar!("select aggregated_through from usage_watermark")
        .fetch_optional(conn)
        .await
        .map_err(translate("reading the usage watermark", &[]))
}

pub async fn set_watermark(conn: &mut PgConnection, hour: OffsetDateTime) -> Result<(), Error> {
    sqlx::query!(
        "insert into usage_watermark (id, aggregated_through) values (true, $1)
         on conflict (id) do update
         set aggregated_through = greatest(usage_watermark.aggregated_through, excluded.aggregated_through)",
        hour,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("moving the usage watermark", &[]))
}
