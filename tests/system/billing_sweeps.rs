//! Concurrent aggregation sweeps and late events: a sweep clears only the exact re-aggregation
//! mark it read (a mark deleted and set again gets a new version), and it decides whether a
//! marked hour is already aggregated from the watermark read under the aggregation lock, not
//! from one read before another sweep moved it.

use std::time::Duration as StdDuration;

use anyhow::Context as _;
use switchyard_billing::{Ledger, UsageEvent, floor_hour};
use switchyard_db::{PgPool, repo::usage};
use switchyard_domain::{ProjectId, ReleaseId};
use switchyard_testkit::TestDb;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::billing::hourly_rows;

#[tokio::test]
async fn a_stale_sweep_does_not_clear_a_mark_set_again_after_it_read_it() -> anyhow::Result<()> {
    let db = TestDb::migrated().await;
    let mut conn = db.pool.acquire().await?;
    let project = Uuid::now_v7();
    let hour = floor_hour(OffsetDateTime::now_utc()) - Duration::hours(3);
    usage::mark_dirty(&mut conn, project, hour).await?;
    // Two sweeps read the same mark; the first clears it.
    let read = usage::dirty(&mut conn, 10).await?;
    let version = read.first().context("the mark")?.version;
    usage::clear_dirty(&mut conn, project, version).await?;
    // A late event marks the project again, then the slower sweep clears what it read.
    usage::mark_dirty(&mut conn, project, hour + Duration::HOUR).await?;
    usage::clear_dirty(&mut conn, project, version).await?;
    let left = usage::dirty(&mut conn, 10).await?;
    assert_eq!(
        left.iter().map(|m| m.from_hour).collect::<Vec<_>>(),
        [hour + Duration::HOUR],
        "the new mark survives the stale clear"
    );
    assert_ne!(left.first().map(|m| m.version), Some(version));
    Ok(())
}

/// Whether a session waits for an advisory lock.
#[expect(
    clippy::disallowed_methods,
    reason = "the test watches pg_locks to interleave two sweeps"
)]
async fn someone_waits_for_an_advisory_lock(pool: &PgPool) -> anyhow::Result<bool> {
    let waiting: i64 = sqlx::query_scalar(
        "select count(*) from pg_locks
         where locktype = 'advisory' and not granted
           and database = (select oid from pg_database where datname = current_database())",
    )
    .fetch_one(pool)
    .await?;
    Ok(waiting > 0)
}

#[tokio::test]
async fn a_sweep_reaggregates_an_hour_another_sweep_aggregated_meanwhile() -> anyhow::Result<()> {
    let db = TestDb::migrated().await;
    let ledger = Ledger::new(db.pool.clone(), false);
    let hour = floor_hour(OffsetDateTime::now_utc()) - Duration::hours(5);
    let mut conn = db.pool.acquire().await?;
    usage::set_watermark(&mut conn, hour - Duration::HOUR).await?;
    drop(conn);
    // Sweep A runs at hour + 30 min: `hour` is still the current hour to it.
    let now_a = hour + Duration::minutes(30);
    let project = ProjectId::new();
    let build = UsageEvent::build_completed(
        project,
        ReleaseId::new(),
        "web@v1",
        90.0,
        hour + Duration::minutes(10),
    );
    assert!(
        ledger.record(&build).await?,
        "recorded, and its hour marked"
    );

    // Sweep B holds the aggregation lock while it aggregates `hour` (which ended for it).
    let mut b = db.pool.begin().await?;
    usage::lock_resource(&mut b, Uuid::nil()).await?;
    let sweep_a = tokio::spawn({
        let ledger = ledger.clone();
        async move { ledger.sweep(now_a).await }
    });
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(60);
    while !someone_waits_for_an_advisory_lock(&db.pool).await? {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "sweep A never reached the aggregation lock"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    // B's snapshot of `hour` predates the build (it wrote nothing for the project), and it
    // moves the watermark past `hour` as it commits.
    usage::set_watermark(&mut b, hour).await?;
    b.commit().await?;

    let swept = sweep_a.await??;
    assert_eq!(swept.reaggregated, 1, "{swept:?}");
    let rows = hourly_rows(&db.pool).await;
    let minutes = rows.get(&(project.as_uuid(), "build_minutes".to_owned(), hour));
    assert_eq!(
        minutes,
        Some(&1_500_000),
        "the late build is in its hour even though B's first pass missed it"
    );
    let mut conn = db.pool.acquire().await?;
    assert!(usage::dirty(&mut conn, 10).await?.is_empty());
    Ok(())
}
