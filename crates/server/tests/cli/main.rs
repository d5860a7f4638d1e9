//! The `switchyard` binary itself, run as a process against the harness's PostgreSQL and Redis:
//! `serve`, `migrate`, `config check`, `openapi`, logs and traces (`dev` is in `dev.rs`).

#![expect(
    clippy::disallowed_methods,
    reason = "tests inspect and tamper with the database directly"
)]
#![expect(clippy::unwrap_used, reason = "test helpers fail the test loudly")]

use std::{
    process::{Command, Output, Stdio},
    time::Duration,
};

use secrecy::ExposeSecret;
use switchyard_testkit::TestDb;

mod dev;
mod worker;

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
const FIRST_MIGRATION: &str = "20261122000001_create_users.sql";

const TEST_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../auth/testdata/test-key-1.pem"
);

/// `switchyard <args>` with a clean environment (plus the test signing key) and `env`.
fn switchyard(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("ENCLII_JWT_SIGNING_KEY_FILE", TEST_KEY);
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

#[tokio::test]
async fn serve_refuses_to_start_when_the_default_plan_does_not_exist() -> anyhow::Result<()> {
    let db = TestDb::migrated().await;
    let url = db.url.expose_secret().to_owned();
    let port = switchyard::local::free_port()?.to_string();
    let out = run(
        &["serve"],
        &[
            ("ENCLII_DATABASE_URL", url.as_str()),
            ("ENCLII_PORT", port.as_str()),
            ("ENCLII_BILLING_DEFAULT_PLAN", "prp"),
        ],
    )
    .await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ENCLII_BILLING_DEFAULT_PLAN") && stderr.contains("\"prp\""),
        "{stderr}"
    );
    assert!(stderr.contains("hobby, pro, team"), "{stderr}");
    Ok(())
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
async fn config_known_lists_every_name_read_even_when_the_environment_is_invalid() {
    let out = run(&["config", "known"], &[("ENCLII_PORT", "http")]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let names: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(names, switchyard::config::KNOWN_VARS);
    assert!(names.iter().any(|n| n == "ENCLII_DATABASE_URL"));
    assert!(!names.iter().any(|n| n == "ENCLII_JWT_SECRET"));
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

/// A minimal OTLP/HTTP collector on a real socket: records the path of every POST and answers 200.
async fn fake_collector() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let Some(head_end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length: usize = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() < head_end + 4 + length {
                        continue;
                    }
                    let path = text
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send(path);
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    buf.clear();
                }
            });
        }
    });
    (endpoint, rx)
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_spans_reach_the_otlp_collector() {
    let (endpoint, mut exported) = fake_collector().await;
    let db = TestDb::migrated().await;
    let url = db.url.expose_secret().to_owned();
    let port = switchyard::local::free_port().unwrap().to_string();
    let mut child = switchyard(
        &["serve"],
        &[
            ("ENCLII_DATABASE_URL", url.as_str()),
            ("ENCLII_PORT", port.as_str()),
            ("ENCLII_LOG_FORMAT", "json"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
        out
    });
    wait_for_health(&port).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = client
        .get(format!("http://127.0.0.1:{port}/nope"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(terminate(child).await.success());
    let logs = reader.join().unwrap();
    let line = logs
        .lines()
        .find(|l| l.contains("trace-me-42"))
        .unwrap_or_else(|| panic!("no log line carries the request id:\n{logs}"));
    let event: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(event["span"]["request_id"], "trace-me-42", "{event}");
    assert_eq!(event["span"]["http.route"], "unmatched", "{event}");
    let path = tokio::time::timeout(Duration::from_secs(30), exported.recv())
        .await
        .expect("no span was exported")
        .unwrap();
    assert_eq!(path, "/v1/traces");
}
