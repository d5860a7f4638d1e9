//! What billing shows and sends: month-to-date usage includes the current hour so far (computed
//! from the ledger, not stored), a project whose plan does not exist is not silently dropped,
//! and a usage event forwarded to Waybill twice carries the same stable id both times.

use anyhow::Context as _;
use serde_json::Value;
use switchyard_billing::{Ledger, UsageEvent, WAYBILL_TOPIC, Workload, floor_hour};
use switchyard_db::repo::billing_plans;
use switchyard_domain::{DeploymentId, ProjectId};
use switchyard_queue::{Handled, Job, Message};
use switchyard_testkit::{TestApp, TestDb};
use switchyard_worker::jobs::waybill::{Waybill, WaybillJob};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    roundhouse::fake_roundhouse,
    support::{get_ok, shop_owner},
};

fn one_replica() -> Workload {
    Workload {
        replicas: 1,
        cpu_millicores: 500,
        memory_mb: 512,
        volumes: vec![],
    }
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test looks up the project it made"
)]
async fn project_id(app: &TestApp, slug: &str) -> anyhow::Result<ProjectId> {
    let id: Uuid = sqlx::query_scalar("select id from projects where slug = $1")
        .bind(slug)
        .fetch_one(&app.db.pool)
        .await?;
    Ok(ProjectId::from_uuid(id))
}

/// The first of `t`'s month, UTC.
fn month_start(t: OffsetDateTime) -> anyhow::Result<OffsetDateTime> {
    Ok(floor_hour(t).replace_hour(0)?.replace_day(1)?)
}

#[tokio::test]
async fn month_to_date_usage_counts_the_current_hour_so_far() -> anyhow::Result<()> {
    let app = TestApp::spawn().await;
    let owner = shop_owner(&app, "owner@example.com").await;
    let project = project_id(&app, "shop").await?;
    let ledger = Ledger::new(app.db.pool.clone(), false);
    let started = OffsetDateTime::now_utc() - Duration::hours(3);
    let d = DeploymentId::new();
    let start =
        UsageEvent::deployment_started(project, d, "api/production", &one_replica(), started);
    ledger.record(&start).await?;
    // The hours that ended are aggregated; the current one is not.
    ledger.sweep(OffsetDateTime::now_utc()).await?;

    let before = OffsetDateTime::now_utc();
    let usage = get_ok(&app, "/v1/usage?project=shop", &owner).await;
    let after = OffsetDateTime::now_utc();
    let used = usage["metrics"]
        .as_array()
        .context("metrics")?
        .iter()
        .find(|m| m["type"] == "compute_gb_hours")
        .and_then(|m| m["used"].as_f64())
        .context("compute used")?;
    // 0.5 GB an hour from `started` (or the month's start) to the request's now.
    let from = started.max(month_start(before)?);
    let hours = |to: OffsetDateTime| (to - from).as_seconds_f64() / 3600.0;
    let slack = 5e-6; // each (stretch, hour) term is rounded to a millionth once
    assert!(
        used >= 0.5 * hours(before) - slack && used <= 0.5 * hours(after) + slack,
        "used {used} GB-h, expected 0.5 × {:.6}..{:.6} h (the current hour included)",
        hours(before),
        hours(after)
    );
    Ok(())
}

#[tokio::test]
async fn a_project_on_a_plan_that_does_not_exist_is_reported_not_dropped() -> anyhow::Result<()> {
    let db = TestDb::migrated().await;
    let mut conn = db.pool.acquire().await?;
    let project = Uuid::now_v7();
    let rows = billing_plans::plans_of(&mut conn, &[project], "prp").await?;
    let [row] = rows.as_slice() else {
        anyhow::bail!("one row per project, got {rows:?}");
    };
    assert_eq!(
        (row.project_id, row.id.as_str(), row.exists),
        (project, "prp", false)
    );
    let rows = billing_plans::plans_of(&mut conn, &[project], "pro").await?;
    assert!(
        rows.first().is_some_and(|r| r.exists && r.name == "Pro"),
        "{rows:?}"
    );
    Ok(())
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test reads the outbox directly"
)]
async fn waybill_rows(pool: &switchyard_db::PgPool) -> anyhow::Result<Vec<(Uuid, Value)>> {
    Ok(
        sqlx::query_as("select id, payload from outbox where topic = $1 order by created_at")
            .bind(WAYBILL_TOPIC)
            .fetch_all(pool)
            .await?,
    )
}

#[tokio::test]
async fn a_redelivered_waybill_event_carries_the_same_id() -> anyhow::Result<()> {
    let db = TestDb::migrated().await;
    let ledger = Ledger::new(db.pool.clone(), true);
    let at = floor_hour(OffsetDateTime::now_utc());
    let event = UsageEvent::deployment_started(
        ProjectId::new(),
        DeploymentId::new(),
        "api/production",
        &one_replica(),
        at,
    );
    assert!(ledger.record(&event).await?);
    assert!(
        !ledger.record(&event).await?,
        "recorded, and forwarded, once"
    );
    let pending = waybill_rows(&db.pool).await?;
    let [(outbox_id, payload)] = pending.as_slice() else {
        anyhow::bail!("one waybill row, got {pending:?}");
    };

    // A loopback HTTP server that records each body (the fake Roundhouse answers any path).
    let (url, received) = fake_roundhouse(vec![200, 200]).await;
    let job = WaybillJob::new(Waybill { url, key: None })?;
    let message = |attempt| Message {
        outbox_id: *outbox_id,
        topic: WAYBILL_TOPIC.to_owned(),
        payload: payload.clone(),
        attempt,
        trace_context: Value::Null,
    };
    // Delivered, then delivered again (the stamp was lost to a crash, or Redis redelivered).
    for attempt in [1, 2] {
        assert!(matches!(
            job.run(&message(attempt)).await,
            Ok(Handled::Done)
        ));
    }
    let bodies: Vec<Value> = received
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .iter()
        .map(|(_, body)| body.clone())
        .collect();
    assert_eq!(bodies.len(), 2);
    let id = event.id.to_string();
    for body in &bodies {
        let sent = &body["events"][0];
        assert_eq!(sent["id"], id.as_str(), "{body}");
        assert_eq!(sent["metadata"]["event_id"], id.as_str(), "{body}");
        assert_eq!(sent["event_type"], "deployment.started");
    }
    Ok(())
}
