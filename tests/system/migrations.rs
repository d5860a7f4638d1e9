//! The migration-23 outage, reproduced against real PostgreSQL: (a) a failing migration leaves
//! nothing behind and succeeds once fixed, (b) a database ahead of the binary still serves,
//! (c) an edited applied migration is refused, (d) concurrent runners apply each migration once.

#![expect(
    clippy::disallowed_methods,
    reason = "tests inspect and tamper with the database directly"
)]

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::Value;
use switchyard_db::{MIGRATOR, MigrateError, MigrateOptions, Migrator, SchemaState, migrate};
use switchyard_testkit::{TestApp, TestDb};
use tempfile::TempDir;

fn repo_migrations() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations")
}

/// A migrations directory holding the repository's migrations (when `with_repo`) plus `extra`.
fn migrations_dir(with_repo: bool, extra: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    if with_repo {
        for entry in std::fs::read_dir(repo_migrations()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "sql") {
                std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    for (name, sql) in extra {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    dir
}

async fn migrator(dir: &TempDir) -> Migrator {
    Migrator::new(dir.path()).await.unwrap()
}

async fn table_exists(db: &TestDb, table: &str) -> bool {
    sqlx::query_scalar("select to_regclass($1) is not null")
        .bind(table)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn history_versions(db: &TestDb) -> Vec<i64> {
    sqlx::query_scalar("select version from switchyard_migrations order by version")
        .fetch_all(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_failing_migration_leaves_no_history_and_no_objects_then_succeeds_when_fixed() {
    let db = TestDb::empty().await;
    let first = ("1_create_a.sql", "create table a (id int);");
    let broken = migrations_dir(
        false,
        &[
            first,
            (
                "2_create_b_and_c.sql",
                "create table b (id int);\ncreate table c (x no_such_type);",
            ),
        ],
    );
    let mut conn = db.connect().await;
    let err = migrate::up(
        &mut conn,
        &migrator(&broken).await,
        &MigrateOptions::default(),
    )
    .await
    .unwrap_err();
    match &err {
        MigrateError::Failed { version, file, .. } => {
            assert_eq!(*version, 2);
            assert_eq!(file, "2_create_b_and_c.sql");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(err.to_string().contains("2_create_b_and_c.sql"), "{err}");
    assert_eq!(
        history_versions(&db).await,
        vec![1],
        "no history row for the failed migration"
    );
    assert!(table_exists(&db, "a").await);
    assert!(
        !table_exists(&db, "b").await,
        "the half of migration 2 that ran must be rolled back"
    );

    let fixed = migrations_dir(
        false,
        &[
            first,
            (
                "2_create_b_and_c.sql",
                "create table b (id int);\ncreate table c (x text);",
            ),
        ],
    );
    let applied = migrate::up(
        &mut conn,
        &migrator(&fixed).await,
        &MigrateOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![2]
    );
    assert!(table_exists(&db, "b").await && table_exists(&db, "c").await);
    assert_eq!(history_versions(&db).await, vec![1, 2]);
}

#[tokio::test]
async fn a_database_ahead_of_the_binary_still_serves_and_reports_it() {
    let db = TestDb::empty().await;
    let newer = migrations_dir(
        true,
        &[(
            "99990101000000_future_table.sql",
            "create table future (id int);",
        )],
    );
    let mut conn = db.connect().await;
    migrate::up(
        &mut conn,
        &migrator(&newer).await,
        &MigrateOptions::default(),
    )
    .await
    .unwrap();
    // The older binary: only the embedded migrations.
    let report = migrate::verify(&mut conn, &MIGRATOR).await.unwrap();
    assert_eq!(
        report.state(),
        SchemaState::Ahead {
            unknown: vec![99_990_101_000_000]
        }
    );
    let pool = db.pool.clone();
    switchyard::serve::check_schema(&pool, &MIGRATOR)
        .await
        .unwrap();

    let app = TestApp::builder().db(db).spawn().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let known = MIGRATOR.iter().count();
    assert_eq!(body["status"], "healthy", "{body}");
    assert_eq!(
        body["schema"],
        serde_json::json!({"status": "ahead", "applied": known + 1, "known": known})
    );
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::OK);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("switchyard_schema_status{state=\"ahead\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "switchyard_schema_migrations{{state=\"applied\"}} {}",
            known + 1
        )),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_edited_applied_migration_is_refused_by_name() {
    let db = TestDb::migrated().await;
    let first = MIGRATOR.iter().next().unwrap();
    let file = migrate::file_name(first);
    let edited = migrations_dir(
        false,
        &[(file.as_str(), "create table users (id uuid primary key);")],
    );
    let edited: &'static Migrator = Box::leak(Box::new(migrator(&edited).await));
    let mut conn = db.connect().await;

    let err = migrate::up(&mut conn, edited, &MigrateOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::Edited { .. }), "{err:?}");
    assert!(err.to_string().contains(&file), "{err}");

    let err = migrate::verify(&mut conn, edited).await.unwrap_err();
    assert!(err.to_string().contains(&file), "{err}");

    let err = switchyard::serve::check_schema(&db.pool, edited)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains(&file), "{err:#}");
    assert_eq!(
        history_versions(&db).await.len(),
        MIGRATOR.iter().count(),
        "nothing was applied"
    );

    // A server already running when the edit lands reports it and stops being ready.
    let app = TestApp::builder().db(db).migrator(edited).spawn().await;
    let body: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(body["schema"]["status"], "edited", "{body}");
    assert_eq!(
        app.get("/health/ready").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn five_concurrent_runners_apply_each_migration_exactly_once() {
    let db = TestDb::empty().await;
    // Not idempotent on purpose: a second application would fail on the existing table.
    let dir = migrations_dir(
        true,
        &[(
            "99990101000000_slow.sql",
            "create table slow_marker (id int);\nselect pg_sleep(0.3);",
        )],
    );
    let migrator: &'static Migrator = Box::leak(Box::new(migrator(&dir).await));
    let known = migrator.iter().count();
    let mut runners = Vec::new();
    for _ in 0..5 {
        let mut conn = db.connect().await;
        runners.push(tokio::spawn(async move {
            migrate::up(&mut conn, migrator, &MigrateOptions::default()).await
        }));
    }
    let mut applied = Vec::new();
    for runner in runners {
        let result = runner.await.unwrap();
        applied.extend(result.unwrap().into_iter().map(|m| m.version));
    }
    applied.sort_unstable();
    let expected: Vec<i64> = migrator.iter().map(|m| m.version).collect();
    assert_eq!(
        applied, expected,
        "every migration applied by exactly one runner"
    );
    assert_eq!(history_versions(&db).await.len(), known);
}

#[tokio::test]
async fn a_migration_without_a_transaction_is_refused() {
    let db = TestDb::empty().await;
    let dir = migrations_dir(
        false,
        &[(
            "1_concurrently.sql",
            "-- no-transaction\ncreate table x (id int);",
        )],
    );
    let mut conn = db.connect().await;
    let err = migrate::up(&mut conn, &migrator(&dir).await, &MigrateOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MigrateError::NoTransaction { version: 1, .. }),
        "{err:?}"
    );
    assert!(!table_exists(&db, "x").await);
}

#[tokio::test]
async fn a_schema_behind_the_binary_is_not_ready() {
    let db = TestDb::migrated().await;
    let dir = migrations_dir(
        true,
        &[(
            "99990101000000_next.sql",
            "create table next_thing (id int);",
        )],
    );
    let newer: &'static Migrator = Box::leak(Box::new(migrator(&dir).await));
    let app = TestApp::builder().db(db).migrator(newer).spawn().await;
    let body: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(body["schema"]["status"], "behind", "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    let response = app.get("/health/ready").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["error"]
            .as_str()
            .unwrap()
            .contains("switchyard migrate up"),
        "{problem}"
    );
}
