//! A database per test: cloned from the migrated template (or empty, for migration tests) and
//! dropped when the test passes. A failing test's database is kept for inspection.

use std::time::Duration;

use secrecy::SecretString;
use switchyard_db::{Connection as _, DbConfig, PgConnection, PgPool, admin};

use crate::services::{Services, services};

#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    pub url: SecretString,
    pub pool: PgPool,
    services: &'static Services,
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
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin_conn = admin_connection(services).await;
        admin::create_database(&mut admin_conn, &name, template)
            .await
            .expect("creating the test database");
        let _ = admin_conn.close().await;
        let url = services.database_url(&name);
        let pool = switchyard_db::connect_lazy(&DbConfig::new(url.clone())).expect("test pool");
        Self {
            name,
            url,
            pool,
            services,
        }
    }

    /// A dedicated connection (what `switchyard migrate` uses).
    pub async fn connect(&self) -> PgConnection {
        admin::wait_for(&self.url, Duration::from_secs(10))
            .await
            .expect("connecting to the test database")
    }
}

async fn admin_connection(services: &Services) -> PgConnection {
    admin::wait_for(&services.database_url("postgres"), Duration::from_secs(10))
        .await
        .expect("connecting to the test server")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test database kept for inspection: {}", self.name);
            return;
        }
        let services = self.services;
        let name = std::mem::take(&mut self.name);
        // Drop may run inside a runtime, so the cleanup gets a thread and a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    let mut conn = admin_connection(services).await;
                    let _ = admin::drop_database(&mut conn, &name).await;
                    let _ = conn.close().await;
                });
            }
        });
        let _ = cleanup.join();
    }
}
