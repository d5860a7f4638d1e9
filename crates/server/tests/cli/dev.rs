//! `switchyard dev`: private servers started and stopped, data and signing key kept across
//! restarts, the bootstrap admin token, clear failures.

use std::{os::unix::fs::PermissionsExt, process::Stdio};

use secrecy::ExposeSecret;
use switchyard_testkit::TestDb;

use super::{run, switchyard, terminate, text, wait_for_health};

async fn me(port: &str, bearer: &str) -> serde_json::Value {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    client
        .get(format!("http://127.0.0.1:{port}/v1/auth/me"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn jwks_kid(port: &str) -> String {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let jwks: serde_json::Value = client
        .get(format!("http://127.0.0.1:{port}/v1/auth/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"][0]["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn dev_runs_private_postgres_and_redis_and_stops_them() {
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = root.path().join("dev");
    let port = switchyard::local::free_port().unwrap().to_string();
    let fixed_token = format!("enclii_{}", "ab".repeat(32));
    let dev = |bootstrap: Option<&str>| {
        let mut cmd = switchyard(
            &["dev", "--data-dir", data_dir.to_str().unwrap()],
            &[("ENCLII_PORT", port.as_str())],
        );
        // dev makes its own signing key when none is configured
        cmd.env_remove("ENCLII_JWT_SIGNING_KEY_FILE");
        if let Some(token) = bootstrap {
            cmd.env("ENCLII_BOOTSTRAP_TOKEN", token);
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let output = std::thread::spawn(move || {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
            out
        });
        (child, output)
    };
    let (child, output) = dev(None);
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
    let kid = jwks_kid(&port).await;
    let key_mode = std::fs::metadata(data_dir.join("jwt-signing-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);
    let children = processes_using(&data_dir);
    assert!(
        children.iter().any(|p| p.contains("postgres")),
        "{children:?}"
    );
    assert!(
        children.iter().any(|p| p.contains("redis-server")),
        "{children:?}"
    );
    assert!(terminate(child).await.success());
    // The first run printed a bootstrap admin token once; it works.
    let printed = output.join().unwrap();
    let token = printed
        .split_whitespace()
        .find(|w| w.starts_with("enclii_"))
        .unwrap_or_else(|| panic!("no bootstrap token printed:\n{printed}"))
        .to_owned();
    // Both servers are gone: their pid files were removed by a clean shutdown.
    assert!(!data_dir.join("postgres/pgdata/postmaster.pid").exists());
    let survivors = processes_using(&data_dir);
    assert!(survivors.is_empty(), "children outlived dev: {survivors:?}");

    // A second run keeps the data and the signing key: sessions and the kid survive restarts.
    let (child, output) = dev(Some(&fixed_token));
    wait_for_health(&port).await;
    assert_eq!(jwks_kid(&port).await, kid);
    for bearer in [&token, &fixed_token] {
        let me = me(&port, bearer).await;
        assert_eq!(me["email"], "admin@localhost", "{me}");
        assert_eq!(me["role"], "admin", "{me}");
    }
    assert!(terminate(child).await.success());
    let printed = output.join().unwrap();
    assert!(
        !printed.contains("enclii_"),
        "a token is shown only once:\n{printed}"
    );
}

/// Processes whose working directory or command line is under `dir` (redis-server rewrites its
/// title, but its working directory is its data directory).
fn processes_using(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let path = entry.path();
        let cwd = std::fs::read_link(path.join("cwd")).unwrap_or_default();
        let cmdline =
            text(&std::fs::read(path.join("cmdline")).unwrap_or_default()).replace('\0', " ");
        if cwd.starts_with(dir) || cmdline.contains(dir.to_str().unwrap()) {
            found.push(format!("{} {cmdline}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

#[tokio::test]
async fn dev_without_redis_server_says_how_to_install_it() {
    let db = TestDb::migrated().await;
    let url = db.url.expose_secret().to_owned();
    let data = tempfile::tempdir().unwrap();
    let mut cmd = switchyard(
        &["dev", "--data-dir", data.path().to_str().unwrap()],
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
async fn dev_refuses_a_malformed_bootstrap_token() {
    let db = TestDb::migrated().await;
    let url = db.url.expose_secret().to_owned();
    let services = switchyard_testkit::services().await;
    let redis = services.redis_url.expose_secret().to_owned();
    let data = tempfile::tempdir().unwrap();
    let out = run(
        &["dev", "--data-dir", data.path().to_str().unwrap()],
        &[
            ("ENCLII_DATABASE_URL", url.as_str()),
            ("ENCLII_REDIS_URL", redis.as_str()),
            ("ENCLII_BOOTSTRAP_TOKEN", "enclii_short"),
        ],
    )
    .await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ENCLII_BOOTSTRAP_TOKEN"), "{stderr}");
}
