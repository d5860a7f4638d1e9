//! Billing reconciliation and the deployment lifecycle's usage events against the real
//! deployments table: a deployment running since before the ledger existed is billed from when
//! the ledger started tracking (not from when it started running), with corrections that carry
//! ids of their own; and the volumes of a deployment that ran before billing are opened the
//! first time a newer deployment replaces it.

use std::time::Duration as StdDuration;

use anyhow::Context as _;
use serde_json::{Value, json};
use switchyard_billing::{EventType, Ledger, UsageEvent, event::event_id};
use switchyard_core::{BillingDispatch, DeploymentDispatch, Progress, Reconciled};
use switchyard_domain::{DeploymentId, DeploymentPhase};
use switchyard_testkit::TestApp;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{builds::service_with, deployments::shipped};

/// A service `api` of project `shop` with a 1Gi volume `data`; returns (bearer, service id).
async fn service_with_volume(app: &TestApp) -> (String, String) {
    let volumes = json!({"volumes": [{"name": "data", "mount_path": "/data", "size": "1Gi"}]});
    service_with(app, "billing@example.com", volumes).await
}

/// Moves deployment `id` to `running`, as the deployments job does.
async fn run(app: &TestApp, id: &str) -> anyhow::Result<DeploymentId> {
    let id = DeploymentId::from_uuid(id.parse()?);
    let progress = Progress {
        phase: DeploymentPhase::Running,
        reason: None,
        message: None,
        health: "healthy",
        ready_replicas: Some(1),
    };
    let moved = DeploymentDispatch::new(app.db.pool.clone(), None)
        .advance(id, &progress)
        .await?;
    anyhow::ensure!(moved, "the deployment reached running");
    Ok(id)
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test plays the history of a deployment directly"
)]
async fn sql(app: &TestApp, statement: &'static str, id: Uuid) -> anyhow::Result<()> {
    sqlx::query(statement)
        .bind(id)
        .execute(&app.db.pool)
        .await?;
    Ok(())
}

/// The usage events waiting in the outbox (not handled, not dead), oldest first; marks them
/// handled, as the billing consumer would.
#[expect(
    clippy::disallowed_methods,
    reason = "the test reads the outbox directly"
)]
async fn take_usage_events(app: &TestApp) -> anyhow::Result<Vec<UsageEvent>> {
    let rows: Vec<Value> = sqlx::query_scalar(
        "update outbox set handled_at = now()
         where topic = 'usage' and handled_at is null and dead_at is null
         returning payload",
    )
    .fetch_all(&app.db.pool)
    .await?;
    let mut events = rows
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<Vec<UsageEvent>, _>>()?;
    events.sort_by_key(|e| (e.timestamp, e.event_type.clone()));
    Ok(events)
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test reads the ledger directly"
)]
async fn open_stretches(app: &TestApp, resource: Uuid) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from usage_intervals where resource_id = $1 and ended_at is null",
    )
    .bind(resource)
    .fetch_one(&app.db.pool)
    .await?)
}

#[expect(clippy::disallowed_methods, reason = "the test reads the clock it set")]
async fn timestamp(app: &TestApp, query: &'static str, id: Uuid) -> anyhow::Result<OffsetDateTime> {
    Ok(sqlx::query_scalar(query)
        .bind(id)
        .fetch_one(&app.db.pool)
        .await?)
}

#[tokio::test]
async fn a_deployment_older_than_the_ledger_is_billed_from_when_tracking_began()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await;
    let (bearer, service) = service_with_volume(&app).await;
    let (_, deployment) = shipped(&app, &bearer, &service, "abc1234").await;
    let d = run(&app, &deployment).await?;
    // It ran for five hours before billing existed: no snapshot, no events; the ledger began
    // tracking two hours ago.
    sql(
        &app,
        "update deployments set usage = null, phase_changed_at = now() - interval '5 hours'
         where id = $1",
        d.as_uuid(),
    )
    .await?;
    sql(
        &app,
        "update usage_tracking set since = now() - interval '2 hours' where $1 is not null",
        d.as_uuid(),
    )
    .await?;
    sql(
        &app,
        "delete from outbox where topic = 'usage' and $1 is not null",
        d.as_uuid(),
    )
    .await?;
    let since = timestamp(
        &app,
        "select since from usage_tracking where $1 is not null",
        d.as_uuid(),
    )
    .await?;

    let billing = BillingDispatch::new(app.db.pool.clone());
    let fixed = billing.reconcile(StdDuration::ZERO).await?;
    assert_eq!(
        fixed,
        Reconciled {
            started: 1,
            stopped: 0
        }
    );
    let events = take_usage_events(&app).await?;
    let start = events
        .iter()
        .find(|e| e.kind() == Some(EventType::DeploymentStarted))
        .context("a reconciled start")?;
    assert_eq!(start.timestamp, since, "clamped to when the ledger began");
    assert_eq!(start.metadata["reason"], "reconciled");
    let lifecycle_start = event_id(d.as_uuid(), EventType::DeploymentStarted, "");
    assert_ne!(
        start.id, lifecycle_start,
        "a correction has an id of its own"
    );
    let volume = events
        .iter()
        .find(|e| e.kind() == Some(EventType::VolumeResized))
        .context("its volume opened")?;
    assert_eq!((volume.timestamp, volume.metrics["size_gb"]), (since, 1.0));
    let snapshot = timestamp(
        &app,
        "select phase_changed_at from deployments where id = $1 and usage is not null",
        d.as_uuid(),
    )
    .await;
    assert!(snapshot.is_ok(), "the deployment got its billing snapshot");

    let ledger = Ledger::new(app.db.pool.clone(), false);
    for e in &events {
        ledger.record(e).await?;
    }
    assert_eq!(open_stretches(&app, d.as_uuid()).await?, 1);
    assert_eq!(open_stretches(&app, volume.resource_id).await?, 1);
    assert_eq!(
        billing.reconcile(StdDuration::ZERO).await?,
        Reconciled::default(),
        "nothing left to correct"
    );

    // It stops an hour ago without its stop reaching the ledger: the correction closes the
    // stretch then, with an id that is not the lifecycle stop's.
    sql(
        &app,
        "update deployments set phase = 'superseded',
                phase_changed_at = now() - interval '1 hour' where id = $1",
        d.as_uuid(),
    )
    .await?;
    let stopped_at = timestamp(
        &app,
        "select phase_changed_at from deployments where id = $1",
        d.as_uuid(),
    )
    .await?;
    let fixed = billing.reconcile(StdDuration::ZERO).await?;
    assert_eq!(
        fixed,
        Reconciled {
            started: 0,
            stopped: 1
        }
    );
    let events = take_usage_events(&app).await?;
    let [stop] = events.as_slice() else {
        anyhow::bail!("one stop: {events:?}");
    };
    assert_eq!(stop.kind(), Some(EventType::DeploymentStopped));
    assert_eq!(stop.timestamp, stopped_at);
    assert_ne!(
        stop.id,
        event_id(d.as_uuid(), EventType::DeploymentStopped, "")
    );
    ledger.record(stop).await?;
    assert_eq!(open_stretches(&app, d.as_uuid()).await?, 0);
    assert_eq!(
        billing.reconcile(StdDuration::ZERO).await?,
        Reconciled::default()
    );
    Ok(())
}

#[tokio::test]
async fn volumes_of_a_deployment_from_before_billing_open_when_it_is_replaced() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await;
    let (bearer, service) = service_with_volume(&app).await;
    let (_, first) = shipped(&app, &bearer, &service, "abc1234").await;
    let first = run(&app, &first).await?;
    // It ran before billing existed: no snapshot, and its events were never produced.
    sql(
        &app,
        "update deployments set usage = null where id = $1",
        first.as_uuid(),
    )
    .await?;
    take_usage_events(&app).await?;

    let (_, second) = shipped(&app, &bearer, &service, "def5678").await;
    run(&app, &second).await?;
    let events = take_usage_events(&app).await?;
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert!(
        kinds.contains(&"deployment.started") && kinds.contains(&"deployment.stopped"),
        "{kinds:?}"
    );
    let volume = events
        .iter()
        .find(|e| e.resource_type == "volume")
        .context("an event for the volume the ledger never opened")?;
    assert_eq!(volume.kind(), Some(EventType::VolumeResized), "{volume:?}");
    let ledger = Ledger::new(app.db.pool.clone(), false);
    for e in &events {
        ledger.record(e).await?;
    }
    assert_eq!(
        open_stretches(&app, volume.resource_id).await?,
        1,
        "the volume is billed from now on"
    );
    Ok(())
}
