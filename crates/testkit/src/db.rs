//! A database per test, cloned from the migrated template (or empty, for migration tests).
//!
//! Databases are named `t_<pid>_<random>` and reaped by the next test process that starts once
//! their process has exited: dropping them from `Drop` would block the test's runtime while its
//! own pool may be mid-handshake with the server, and `DROP DATABASE` would then wait for the
//! server's authentication timeout. A failing test's database is recorded in
//! `$TMPDIR/switchyard-testkit/keep` and never reaped, for inspection.

use std::{io::Write as _, time::Duration};

use secrecy::SecretString;
use switchyard_db::{Connection as _, DbConfig, PgConnection, PgPool, admin};

use crate::services::{Services, keep_file, services};

#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    pub url: SecretString,
    pub pool: PgPool,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn migrated() -> Self {
        let services = services().await;
        Self::create(services, Some(&services.template)).await
    }

    /// A fresh database with nothing in it.
    pub async fn empty() -> Self {
        Self::create(services().await, None).await
    }

    async fn create(services: &'static Services, template: Option<&str>) -> Self {
        let name = format!("t_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let mut admin_conn = admin_connection(services).await;
        admin::create_database(&mut admin_conn, &name, template)
            .await
            .expect("creating the test database");
        let _ = admin_conn.close().await;
        let url = services.database_url(&name);
        let pool = switchyard_db::connect_lazy(&DbConfig::new(url.clone())).expect("test pool");
        Self { name, url, pool }
    }

    /// A dedicated connection (what `switchyard migrate` uses).
    pub async fn connect(&self) -> PgConnection {
        admin::wait_for(&self.url, Duration::from_secs(10))
            .await
            .expect("connecting to the test database")
    }
}

pub(crate) async fn admin_connection(services: &Services) -> PgConnection {
    admin::wait_for(&services.database_url("postgres"), Duration::from_secs(10))
        .await
        .expect("connecting to the test server")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let kept = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(keep_file())
                .and_then(|mut f| writeln!(f, "{}", self.name));
            if kept.is_ok() {
                eprintln!("test database kept for inspection: {}", self.name);
            }
        }
    }
}
