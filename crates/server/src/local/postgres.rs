//! A private PostgreSQL: `initdb` once under a directory (password auth, loopback only), then
//! `postgres` on a chosen port, as the `postgres` account when we are root.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use nix::unistd::User;
use secrecy::{ExposeSecret, SecretString};

use super::{Lifetime, LocalError, find_binary, io, tail};

#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Holds `pgdata/`, `password` and `postgres.log`; kept between runs.
    pub dir: PathBuf,
    pub port: u16,
    /// `fsync=on` (dev keeps data); the test harness turns it off for speed.
    pub durable: bool,
    pub lifetime: Lifetime,
}

/// A running private PostgreSQL.
#[derive(Debug)]
pub struct LocalPostgres {
    pub port: u16,
    password: SecretString,
    child: Option<tokio::process::Child>,
}

impl LocalPostgres {
    /// A URL for `database` as the superuser `postgres`.
    pub fn url(&self, database: &str) -> SecretString {
        url(self.port, &self.password, database)
    }

    /// Fast shutdown (SIGINT): aborts open transactions, writes a checkpoint.
    pub async fn stop(mut self) {
        if let Some(child) = self.child.as_mut() {
            super::stop_child(
                child,
                nix::sys::signal::Signal::SIGINT,
                Duration::from_secs(15),
            )
            .await;
        }
    }
}

pub fn url(port: u16, password: &SecretString, database: &str) -> SecretString {
    SecretString::from(format!(
        "postgres://postgres:{}@127.0.0.1:{port}/{database}",
        password.expose_secret()
    ))
}

fn missing(binary: &'static str) -> LocalError {
    LocalError::MissingBinary {
        binary,
        hint: "install PostgreSQL (`apt-get install -y postgresql`)",
        variable: "ENCLII_DATABASE_URL",
    }
}

/// The account PostgreSQL runs as: `None` means "as ourselves".
fn service_account() -> Result<Option<User>, LocalError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres") {
        Ok(Some(user)) => Ok(Some(user)),
        _ => Err(LocalError::NoServiceAccount),
    }
}

fn command(binary: &Path, account: Option<&User>) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(binary);
    if let Some(user) = account {
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        cmd.env("HOME", &user.dir);
    }
    cmd.env_remove("PGDATA").stdin(Stdio::null());
    cmd
}

fn give_to(path: &Path, account: Option<&User>) -> Result<(), LocalError> {
    if let Some(user) = account {
        std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw())).map_err(
            io(format!("giving {} to the postgres account", path.display())),
        )?;
    }
    Ok(())
}

/// Creates the cluster under `dir` unless it exists; returns its superuser password.
async fn init(dir: &Path, account: Option<&User>) -> Result<SecretString, LocalError> {
    let data = dir.join("pgdata");
    let password_file = dir.join("password");
    if data.join("PG_VERSION").is_file() {
        return read_password(dir);
    }
    let initdb = find_binary("initdb").ok_or_else(|| missing("initdb"))?;
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io(format!("restricting {}", dir.display())))?;
    give_to(dir, account)?;
    let password = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    std::fs::write(&password_file, &password).map_err(io("writing the postgres password"))?;
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600))
        .map_err(io("restricting the postgres password"))?;
    give_to(&password_file, account)?;
    let log = dir.join("initdb.log");
    let log_file = std::fs::File::create(&log).map_err(io("creating initdb.log"))?;
    let status = command(&initdb, account)
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ])
        .arg(format!("--pwfile={}", password_file.display()))
        .stdout(log_file.try_clone().map_err(io("opening initdb.log"))?)
        .stderr(log_file)
        .status()
        .await
        .map_err(io("running initdb"))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&data);
        return Err(LocalError::Failed {
            what: "initdb".into(),
            tail: tail(&log),
            log,
        });
    }
    Ok(SecretString::from(password))
}

/// Starts PostgreSQL under `options.dir` (creating the cluster on first use) and waits until it
/// accepts connections.
pub async fn start(options: &PostgresOptions) -> Result<LocalPostgres, LocalError> {
    let postgres = find_binary("postgres").ok_or_else(|| missing("postgres"))?;
    let account = service_account()?;
    let password = init(&options.dir, account.as_ref()).await?;
    let log = options.dir.join("postgres.log");
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(io("opening postgres.log"))?;
    let mut cmd = command(&postgres, account.as_ref());
    cmd.arg("-D")
        .arg(options.dir.join("pgdata"))
        .arg("-p")
        .arg(options.port.to_string())
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
        ])
        .args(["-c", "max_connections=300"])
        .stdout(log_file.try_clone().map_err(io("opening postgres.log"))?)
        .stderr(log_file);
    if !options.durable {
        cmd.args([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]);
    }
    // Last resort if this process unwinds without calling `stop()`.
    cmd.kill_on_drop(options.lifetime == Lifetime::Owned);
    if options.lifetime == Lifetime::Detached {
        // Its own process group, so a Ctrl-C aimed at a test run does not stop the shared server.
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().map_err(io("starting postgres"))?;
    let server = LocalPostgres {
        port: options.port,
        password,
        child: None,
    };
    let ready =
        switchyard_db::admin::wait_for(&server.url("postgres"), Duration::from_secs(30)).await;
    if ready.is_err() {
        let _ = child.start_kill();
        return Err(LocalError::Failed {
            what: format!("postgres on port {}", options.port),
            tail: tail(&log),
            log,
        });
    }
    Ok(LocalPostgres {
        child: (options.lifetime == Lifetime::Owned).then_some(child),
        ..server
    })
}

impl LocalPostgres {
    /// Refers to an already running private server (the test harness's shared one).
    pub fn attach(port: u16, dir: &Path) -> Result<Self, LocalError> {
        Ok(Self {
            port,
            password: read_password(dir)?,
            child: None,
        })
    }
}

fn read_password(dir: &Path) -> Result<SecretString, LocalError> {
    let file = dir.join("password");
    let password =
        std::fs::read_to_string(&file).map_err(io(format!("reading {}", file.display())))?;
    Ok(SecretString::from(password.trim().to_owned()))
}
