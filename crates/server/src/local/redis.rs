//! A private Redis: `redis-server` on loopback with an append-only file under a directory.

use std::{path::PathBuf, process::Stdio, time::Duration};

use secrecy::SecretString;
use switchyard_queue::{Redis, RedisConfig};

use super::{Lifetime, LocalError, find_binary, io, tail};

#[derive(Debug)]
pub struct LocalRedis {
    pub port: u16,
    child: Option<tokio::process::Child>,
}

impl LocalRedis {
    pub fn url(&self) -> SecretString {
        url(self.port)
    }

    /// SIGTERM: Redis flushes its append-only file and exits.
    pub async fn stop(mut self) {
        if let Some(child) = self.child.as_mut() {
            super::stop_child(
                child,
                nix::sys::signal::Signal::SIGTERM,
                Duration::from_secs(10),
            )
            .await;
        }
    }

    pub fn attach(port: u16) -> Self {
        Self { port, child: None }
    }
}

pub fn url(port: u16) -> SecretString {
    SecretString::from(format!("redis://127.0.0.1:{port}"))
}

/// Starts `redis-server` with its data in `dir` and waits until it answers `PING`.
pub async fn start(dir: PathBuf, port: u16, lifetime: Lifetime) -> Result<LocalRedis, LocalError> {
    let binary = find_binary("redis-server").ok_or(LocalError::MissingBinary {
        binary: "redis-server",
        hint: "install Redis (`apt-get install -y redis-server`)",
        variable: "ENCLII_REDIS_URL",
    })?;
    std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    let log = dir.join("redis.log");
    let mut cmd = tokio::process::Command::new(binary);
    cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--daemonize", "no", "--appendonly", "yes", "--save", ""])
        .arg("--dir")
        .arg(&dir)
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Last resort if this process unwinds without calling `stop()`.
    cmd.kill_on_drop(lifetime == Lifetime::Owned);
    if lifetime == Lifetime::Detached {
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().map_err(io("starting redis-server"))?;
    let client = Redis::connect_lazy(&RedisConfig {
        url: url(port),
        key_prefix: String::new(),
    })
    .map_err(|e| LocalError::Io {
        what: e.public_message(),
        source: std::io::Error::other("redis client"),
    })?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while client.ping(Duration::from_millis(500)).await.is_err() {
        if tokio::time::Instant::now() >= deadline {
            let _ = child.start_kill();
            return Err(LocalError::Failed {
                what: format!("redis-server on port {port}"),
                tail: tail(&log),
                log,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(LocalRedis {
        port,
        child: (lifetime == Lifetime::Owned).then_some(child),
    })
}
