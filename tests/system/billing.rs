//! The usage ledger: a deployment billed across hour boundaries (10:20 → 13:05 is four hourly
//! rows summing 2 × 0.5 GB × 2.75 h), scale and stop events, each event recorded once,
//! aggregation that gives the same rows however often it runs, late events that correct the
//! hours they touch; and end to end, a deployed service's usage in `/v1/usage` and the ledger
//! route, which another tenant cannot read.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::json;
use switchyard_billing::{Ledger, UsageEvent, Workload, floor_hour};
use switchyard_domain::{DeploymentId, ProjectId, ReleaseId};
use switchyard_testkit::TestDb;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// `(project, metric, hour) → quantity in millionths` of every hourly row.
#[expect(
    clippy::disallowed_methods,
    reason = "the test reads the ledger directly"
)]
pub(crate) async fn hourly_rows(
    pool: &switchyard_db::PgPool,
) -> BTreeMap<(Uuid, String, OffsetDateTime), i64> {
    sqlx::query_as::<_, (Uuid, String, OffsetDateTime, i64)>(
        "select project_id, metric, hour, (quantity * 1000000)::int8 from usage_hourly",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(p, m, h, q)| ((p, m, h), q))
    .collect()
}

fn of(
    rows: &BTreeMap<(Uuid, String, OffsetDateTime), i64>,
    p: ProjectId,
    metric: &str,
) -> Vec<(OffsetDateTime, i64)> {
    rows.iter()
        .filter(|((project, m, _), _)| *project == p.as_uuid() && m == metric)
        .map(|((_, _, h), q)| (*h, *q))
        .collect()
}

fn workload(replicas: u32) -> Workload {
    Workload {
        replicas,
        cpu_millicores: 500,
        memory_mb: 512,
        volumes: vec![],
    }
}

const M: i64 = 60;

#[tokio::test]
async fn hours_carry_open_deployments_and_aggregating_again_changes_nothing() {
    let db = TestDb::migrated().await;
    let ledger = Ledger::new(db.pool.clone(), false);
    let now = OffsetDateTime::now_utc();
    // "10:00" is ten hours ago, so every hour below has ended.
    let ten = floor_hour(now) - Duration::hours(10);
    let at = |minutes: i64| ten + Duration::minutes(minutes);

    // A: 2 replicas × 512 MB from 10:20 to 13:05.
    let (a, da) = (ProjectId::new(), DeploymentId::new());
    let started = UsageEvent::deployment_started(a, da, "web/production", &workload(2), at(20));
    assert!(ledger.record(&started).await.unwrap());
    assert!(
        !ledger.record(&started).await.unwrap(),
        "the same fact is recorded once"
    );
    let stop = UsageEvent::deployment_stopped(
        a,
        da,
        "web/production",
        &workload(2),
        at(3 * M + 5),
        "superseded",
    );
    assert!(ledger.record(&stop).await.unwrap());

    // B: 2 replicas from 10:00, scaled to 4 at 11:30, stopped at 12:00 (the stop arrives first).
    let (b, db_) = (ProjectId::new(), DeploymentId::new());
    let b_stop = UsageEvent::deployment_stopped(
        b,
        db_,
        "api/production",
        &workload(4),
        at(2 * M),
        "superseded",
    );
    let b_start = UsageEvent::deployment_started(b, db_, "api/production", &workload(2), at(0));
    let b_scale =
        UsageEvent::deployment_scaled(b, db_, "api/production", &workload(4), at(M + 30), "4");
    for e in [&b_stop, &b_start, &b_scale] {
        assert!(ledger.record(e).await.unwrap());
    }

    let first = ledger.sweep(now).await.unwrap();
    assert!(first.reaggregated >= 2, "{first:?}");
    let rows = hourly_rows(&db.pool).await;
    let hour = |h: i64| ten + Duration::hours(h);
    assert_eq!(
        of(&rows, a, "compute_gb_hours"),
        [
            (hour(0), 666_667),
            (hour(1), 1_000_000),
            (hour(2), 1_000_000),
            (hour(3), 83_333)
        ]
    );
    let total: i64 = of(&rows, a, "compute_gb_hours")
        .iter()
        .map(|(_, q)| q)
        .sum();
    assert_eq!(total, 2_750_000, "exactly 2 × 0.5 GB × 2.75 h");
    assert_eq!(
        of(&rows, b, "compute_gb_hours"),
        [(hour(0), 1_000_000), (hour(1), 1_500_000)],
        "1 GB for 1.5 h, then 2 GB for 0.5 h"
    );

    // Aggregating again, by the sweep or by the admin's single hour, writes the same rows.
    ledger.sweep(now).await.unwrap();
    assert_eq!(hourly_rows(&db.pool).await, rows);
    ledger.aggregate_hour(hour(1), now).await.unwrap();
    ledger.aggregate_hour(hour(1), now).await.unwrap();
    assert_eq!(hourly_rows(&db.pool).await, rows);

    // A late build in a past hour is applied to that hour only.
    let build = UsageEvent::build_completed(a, ReleaseId::new(), "web@v1", 90.0, at(2 * M + 10));
    ledger.record(&build).await.unwrap();
    ledger.sweep(now).await.unwrap();
    let after = hourly_rows(&db.pool).await;
    assert_eq!(of(&after, a, "build_minutes"), [(hour(2), 1_500_000)]);
    assert_eq!(
        of(&after, a, "compute_gb_hours"),
        of(&rows, a, "compute_gb_hours")
    );
}

#[tokio::test]
async fn a_late_stop_shortens_an_open_deployment_already_billed() {
    let db = TestDb::migrated().await;
    let ledger = Ledger::new(db.pool.clone(), false);
    let now = OffsetDateTime::now_utc();
    let start = floor_hour(now) - Duration::hours(5);
    let (p, d) = (ProjectId::new(), DeploymentId::new());
    ledger
        .record(&UsageEvent::deployment_started(
            p,
            d,
            "web",
            &workload(1),
            start,
        ))
        .await
        .unwrap();
    ledger.sweep(now).await.unwrap();
    let open = of(&hourly_rows(&db.pool).await, p, "compute_gb_hours");
    assert_eq!(
        open.len(),
        5,
        "every ended hour of an open deployment is billed: {open:?}"
    );
    assert!(open.iter().all(|(_, q)| *q == 500_000));

    let late = UsageEvent::deployment_stopped(
        p,
        d,
        "web",
        &workload(1),
        start + Duration::minutes(90),
        "deleted",
    );
    ledger.record(&late).await.unwrap();
    ledger.sweep(now).await.unwrap();
    assert_eq!(
        of(&hourly_rows(&db.pool).await, p, "compute_gb_hours"),
        [(start, 500_000), (start + Duration::HOUR, 250_000)]
    );
}

mod end_to_end {
    use std::sync::Arc;

    use switchyard_billing::Ledger;
    use switchyard_core::DeploymentDispatch;
    use switchyard_testkit::TestApp;
    use switchyard_worker::{
        Worker,
        jobs::{
            deployments::{DeployTarget, DeploymentsJob, ReconcileSettings},
            usage::UsageJob,
        },
    };

    use super::*;
    use crate::{
        build_status::build,
        builds::{callback, now, service},
        jobs_support::{eventually, quick_settings, redis},
        support::{call, expect, get_ok, register},
    };

    #[expect(
        clippy::disallowed_methods,
        reason = "the test reads the ledger directly"
    )]
    async fn recorded(app: &TestApp) -> Vec<String> {
        sqlx::query_scalar("select event_type from usage_events order by occurred_at")
            .fetch_all(&app.db.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_deployed_service_shows_usage_and_other_tenants_get_404() {
        let mut auth = switchyard_testkit::test_auth_config();
        auth.admin_emails = vec!["admin@example.com".to_owned()];
        let app = TestApp::builder().auth(auth).spawn().await;
        let dir = tempfile::tempdir().unwrap();
        let deploys = DeploymentsJob::new(
            DeploymentDispatch::new(app.db.pool.clone(), None),
            DeployTarget::Render {
                dir: dir.path().to_path_buf(),
            },
            ReconcileSettings::default(),
        );
        let redis = redis(switchyard_testkit::services().await.redis_url.clone());
        let worker = Worker::new(app.db.pool.clone(), redis, quick_settings())
            .with_job(Arc::new(deploys))
            .with_job(Arc::new(UsageJob::new(Ledger::new(
                app.db.pool.clone(),
                false,
            ))));
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(worker.run(shutdown.clone()));

        let (owner, service) = service(&app).await;
        let release = build(&app, &owner, &service, "abc1234").await;
        let body = json!({"job_id": "job-1", "release_id": release, "success": true,
            "image_uri": "ghcr.io/acme/api:abc1234", "duration_secs": 120.0})
        .to_string();
        assert_eq!(
            callback(&app, body.as_bytes(), now(), None).await.0,
            StatusCode::OK
        );
        eventually("build and deployment usage recorded", || async {
            let kinds = recorded(&app).await;
            kinds.contains(&"build.completed".to_owned())
                && kinds.contains(&"deployment.started".to_owned())
        })
        .await;

        let admin = register(&app, "admin@example.com").await;
        let (status, _) = call(
            &app,
            Method::POST,
            "/v1/admin/billing/aggregate",
            Some(&owner),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "platform admins only");
        let done = expect(
            &app,
            Method::POST,
            "/v1/admin/billing/aggregate",
            &admin,
            None,
            StatusCode::OK,
        )
        .await;
        assert!(done["rows"].as_u64().unwrap() >= 2, "{done}");

        let usage = get_ok(&app, "/v1/usage?project=shop", &owner).await;
        let metric = |kind: &str| {
            usage["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["type"] == kind)
                .unwrap()
                .clone()
        };
        assert!(
            metric("compute_gb_hours")["used"].as_f64().unwrap() > 0.0,
            "{usage}"
        );
        assert_eq!(metric("build_minutes")["used"], 2.0);
        assert_eq!(metric("custom_domains")["included"], -1.0, "pro: unlimited");
        assert_eq!(usage["plan_name"], "Pro");
        assert_eq!(usage["plan_base"], 20.0);
        // The same project summed alone, a moment later: the running deployment's current
        // hour counts up to each request's now, so compute can only have grown.
        let all = get_ok(&app, "/v1/usage", &owner).await;
        let used = |body: &serde_json::Value, i: usize| body["metrics"][i]["used"].as_f64();
        assert!(used(&all, 0) >= used(&usage, 0), "{all} vs {usage}");
        for i in 1..5 {
            assert_eq!(all["metrics"][i], usage["metrics"][i], "{all} vs {usage}");
        }
        let costs = get_ok(&app, "/v1/usage/costs?project=shop", &owner).await;
        assert_eq!(costs["categories"].as_array().unwrap().len(), 5);
        assert_eq!(costs["grand_total"], 20.0, "within the allowances");

        let ledger = get_ok(&app, "/v1/projects/shop/usage/ledger", &owner).await;
        let compute = ledger["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["metric"] == "compute_gb_hours")
            .unwrap()
            .clone();
        let source = &compute["sources"][0];
        assert_eq!(source["rate"], 0.5, "1 replica × max(512 MB, 0.5 vCPU)");
        assert_eq!(source["events"][0]["event_type"], "deployment.started");
        assert_eq!(source["events"][0]["metrics"]["memory_mb"], 512.0);

        let other = register(&app, "other@example.com").await;
        for path in [
            "/v1/usage?project=shop",
            "/v1/usage/costs?project=shop",
            "/v1/projects/shop/usage/ledger",
        ] {
            let (status, _) = call(&app, Method::GET, path, Some(&other), None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let theirs = get_ok(&app, "/v1/usage", &other).await;
        assert_eq!(theirs["total_cost"], 0.0);
        assert!(
            theirs["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["used"] == 0.0),
            "{theirs}"
        );
        shutdown.cancel();
    }
}
