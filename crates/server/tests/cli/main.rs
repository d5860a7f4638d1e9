//! The `switchyard` binary itself: `serve`, `migrate`, `config check` and `dev`, run as
//! processes against the harness's PostgreSQL and Redis.

#![expect(
    clippy::disallowed_methods,
    reason = "tests inspect and tamper with the database directly"
)]
#![expect(clippy::unwrap_used, reason = "test helpers fail the test loudly")]

use std::{
    os::unix::fs::PermissionsExt,
    process::{Command, Output, Stdio},
    time::Duration,
};

use secrecy::ExposeSecret;
use switchyard_testkit::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
const FIRST_MIGRATION: &str = "20261122000001_create_users.sql";

/// `switchyard <args>` with a clean `ENCLII_*` environment plus `env`.
fn switchyard(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = switchyard(args, env);
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn tamper_first_checksum(db: &TestDb) {
    sqlx::query(
        "update switchyard_migrations set checksum = '\\x00' where version = 20261122000001",
    )
    .execute(&db.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn migrate_up_status_and_verify_tell_the_truth() {
    let db = TestDb::empty().await;
    let url = db.url.expose_secret().to_owned();
    let env = [("ENCLII_DATABASE_URL", url.as_str())];

    let status = run(&["migrate", "status"], &env).await;
    assert!(status.status.success(), "{}", text(&status.stderr));
    let out = text(&status.stdout);
    assert!(out.starts_with("VERSION"), "{out}");
    assert!(
        out.contains("20261122000001") && out.contains("pending"),
        "{out}"
    );
    assert!(out.contains("schema: behind"), "{out}");
    assert!(!run(&["migrate", "verify"], &env).await.status.success());

    let up = run(&["migrate", "up"], &env).await;
    assert!(up.status.success(), "{}", text(&up.stderr));
    assert!(
        text(&up.stdout).contains("applied 20261122000001"),
        "{}",
        text(&up.stdout)
    );
    let again = run(&["migrate", "up"], &env).await;
    assert!(
        text(&again.stdout).contains("nothing to apply"),
        "{}",
        text(&again.stdout)
    );

    let out = text(&run(&["migrate", "status"], &env).await.stdout);
    let row = out
        .lines()
        .find(|l| l.starts_with("20261122000001"))
        .unwrap();
    assert!(row.contains("create users") && row.ends_with("ok"), "{row}");
    assert!(out.contains("schema: up_to_date"), "{out}");
    assert!(run(&["migrate", "verify"], &env).await.status.success());

    tamper_first_checksum(&db).await;
    let verify = run(&["migrate", "verify"], &env).await;
    assert!(!verify.status.success());
    assert!(
        text(&verify.stderr).contains(FIRST_MIGRATION),
        "{}",
        text(&verify.stderr)
    );
    let out = text(&run(&["migrate", "status"], &env).await.stdout);
    assert!(out.contains("EDITED"), "{out}");
    let up = run(&["migrate", "up"], &env).await;
    assert!(!up.status.success());
    assert!(
        text(&up.stderr).contains(FIRST_MIGRATION),
        "{}",
        text(&up.stderr)
    );
}

#[tokio::test]
async fn serve_refuses_to_start_on_an_edited_migration() {
    let db = TestDb::migrated().await;
    tamper_first_checksum(&db).await;
    let url = db.url.expose_secret().to_owned();
    let port = switchyard::local::free_port().unwrap().to_string();
    let out = run(
        &["serve"],
        &[
            ("ENCLII_DATABASE_URL", url.as_str()),
            ("ENCLII_PORT", port.as_str()),
        ],
    )
    .await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("refusing to serve") && stderr.contains(FIRST_MIGRATION),
        "{stderr}"
    );
}

async fn wait_for_health(port: &str) -> serde_json::Value {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let url = format!("http://127.0.0.1:{port}/health");
        if let Ok(response) = client.get(&url).send().await
            && response.status() == 200
        {
            return response.json().await.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never became healthy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn terminate(mut child: std::process::Child) -> std::process::ExitStatus {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn serve_answers_health_and_exits_cleanly_on_sigterm() {
    let db = TestDb::migrated().await;
    let url = db.url.expose_secret().to_owned();
    let port = switchyard::local::free_port().unwrap().to_string();
    let child = switchyard(
        &["serve"],
        &[
            ("ENCLII_DATABASE_URL", url.as_str()),
            ("ENCLII_PORT", port.as_str()),
        ],
    )
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let health = wait_for_health(&port).await;
    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(
        health["components"]["cache"]["status"], "disabled",
        "{health}"
    );
    assert!(terminate(child).await.success());
}

#[tokio::test]
async fn dev_runs_private_postgres_and_redis_and_stops_them() {
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = root.path().join("dev");
    let port = switchyard::local::free_port().unwrap().to_string();
    let child = switchyard(
        &["dev", "--data-dir", data_dir.to_str().unwrap()],
        &[("ENCLII_PORT", port.as_str())],
    )
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let health = wait_for_health(&port).await;
    assert_eq!(
        health["components"]["database"]["status"], "healthy",
        "{health}"
    );
    assert_eq!(
        health["components"]["cache"]["status"], "healthy",
        "{health}"
    );
    assert_eq!(health["schema"]["status"], "up_to_date", "{health}");
    assert!(terminate(child).await.success());
    // Both servers are gone: their pid files were removed by a clean shutdown.
    assert!(!data_dir.join("postgres/pgdata/postmaster.pid").exists());
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    assert!(
        !text(&ps.stdout).contains(data_dir.to_str().unwrap()),
        "a child outlived dev"
    );
}

#[tokio::test]
async fn dev_without_redis_server_says_how_to_install_it() {
    let db = TestDb::migrated().await;
    let url = db.url.expose_secret().to_owned();
    let mut cmd = switchyard(
        &["dev", "--data-dir", "/nonexistent-not-used"],
        &[("ENCLII_DATABASE_URL", url.as_str())],
    );
    cmd.env("PATH", "/nonexistent");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("apt-get install -y redis-server"),
        "{stderr}"
    );
}

#[tokio::test]
async fn config_check_redacts_and_reports_unknown_names() {
    let ok = run(
        &["config", "check"],
        &[
            ("ENCLII_DATABASE_URL", "postgres://app:hunter2@db/enclii"),
            ("ENCLII_JWT_SECRET", "x"),
        ],
    )
    .await;
    assert!(ok.status.success());
    let out = text(&ok.stdout);
    assert!(
        !out.contains("hunter2") && out.contains("app:****@db"),
        "{out}"
    );
    assert!(
        out.contains("ENCLII_JWT_SECRET is set but switchyard does not read it"),
        "{out}"
    );
    let strict = run(
        &["config", "check", "--deny-unknown"],
        &[("ENCLII_JWT_SECRET", "x")],
    )
    .await;
    assert!(!strict.status.success());
    let invalid = run(&["config", "check"], &[("ENCLII_PORT", "http")]).await;
    assert!(!invalid.status.success());
    assert!(
        text(&invalid.stderr).contains("ENCLII_PORT: expected a port number"),
        "{}",
        text(&invalid.stderr)
    );
}

#[tokio::test]
async fn openapi_prints_the_document() {
    let out = run(&["openapi"], &[]).await;
    assert!(out.status.success());
    assert!(
        text(&out.stdout).starts_with("openapi: 3.1"),
        "{}",
        text(&out.stdout)
    );
}
