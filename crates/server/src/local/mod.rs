//! Private PostgreSQL and Redis servers started from the system binaries, for `switchyard dev`
//! and the test harness. PostgreSQL refuses to run as root, so when this process is root the
//! server runs as the unprivileged `postgres` account that Debian's package creates.

pub mod postgres;
pub mod redis;

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    time::Duration,
};

pub use postgres::{LocalPostgres, PostgresOptions};
pub use redis::LocalRedis;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(
        "`{binary}` was not found on PATH or in /usr/lib/postgresql/*/bin: {hint}, \
         or point {variable} at a running server"
    )]
    MissingBinary {
        binary: &'static str,
        hint: &'static str,
        variable: &'static str,
    },
    #[error(
        "running as root, but there is no `postgres` account to run PostgreSQL as (it refuses to \
         run as root): install PostgreSQL from your distribution, or run as a normal user"
    )]
    NoServiceAccount,
    #[error("{what} failed; its log is {}:\n{tail}", .log.display())]
    Failed {
        what: String,
        log: PathBuf,
        tail: String,
    },
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LocalError {
    let what = what.into();
    move |source| LocalError::Io { what, source }
}

/// Finds `name` on PATH, then in the newest `/usr/lib/postgresql/<version>/bin`.
pub(crate) fn find_binary(name: &str) -> Option<PathBuf> {
    let path = crate::config::process_env()
        .get("PATH")
        .cloned()
        .unwrap_or_default();
    let on_path = path
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| candidate.is_file());
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin").join(name)))
            .filter(|candidate| candidate.is_file())
            .collect();
        versions.sort_by_key(|p| {
            p.components()
                .nth(3)
                .and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok())
                .unwrap_or(0)
        });
        versions.pop()
    })
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16, LocalError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("finding a free port"))?
        .port())
}

/// The last lines of a log file, for an error message.
pub(crate) fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// How a started server relates to this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Stopped by `stop()` (`switchyard dev`).
    Owned,
    /// Left running for other processes to share (the test harness).
    Detached,
}

/// Asks a child to stop (`signal`), then waits up to `grace` before killing it.
pub(crate) async fn stop_child(
    child: &mut tokio::process::Child,
    signal: nix::sys::signal::Signal,
    grace: Duration,
) {
    if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
    }
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
}
