//! `TestApp`: the real API (router, middleware, health monitor) on a real loopback socket, backed
//! by a test database and a per-test Redis key prefix.

use std::{net::SocketAddr, time::Duration};

use secrecy::SecretString;
use switchyard::serve::{Running, ServeDeps};
use switchyard_api::HttpConfig;
use switchyard_db::Migrator;
use switchyard_queue::{Redis, RedisConfig};
use tokio_util::sync::CancellationToken;

use crate::{TestDb, services};

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    running: Option<Running>,
}

/// Options for [`TestApp`]; the defaults are the production wiring.
pub struct TestAppBuilder {
    http: HttpConfig,
    db: Option<TestDb>,
    migrator: &'static Migrator,
    redis_url: Option<Option<SecretString>>,
}

impl TestAppBuilder {
    pub fn http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// Serve this database instead of a freshly migrated one.
    pub fn db(mut self, db: TestDb) -> Self {
        self.db = Some(db);
        self
    }

    /// The migrations this "binary" knows (default: the embedded ones).
    pub fn migrator(mut self, migrator: &'static Migrator) -> Self {
        self.migrator = migrator;
        self
    }

    /// Redis at `url`, or none at all (`None`).
    pub fn redis_url(mut self, url: Option<SecretString>) -> Self {
        self.redis_url = Some(url);
        self
    }

    pub async fn spawn(self) -> TestApp {
        let db = match self.db {
            Some(db) => db,
            None => TestDb::migrated().await,
        };
        let redis_url = match self.redis_url {
            Some(url) => url,
            None => Some(services().await.redis_url.clone()),
        };
        let redis = redis_url.map(|url| {
            Redis::connect_lazy(&RedisConfig {
                url,
                key_prefix: format!("t_{}:", uuid::Uuid::new_v4().simple()),
            })
            .expect("test redis")
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a port");
        let shutdown = CancellationToken::new();
        let deps = ServeDeps {
            http: self.http,
            pool: db.pool.clone(),
            redis,
            migrator: self.migrator,
            health_interval: Duration::from_millis(200),
        };
        let running = switchyard::serve::spawn(listener, deps, shutdown.clone())
            .await
            .expect("starting the API");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        TestApp {
            addr: running.addr,
            db,
            client,
            shutdown,
            running: Some(running),
        }
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            http: HttpConfig {
                allowed_origins: vec![http_origin("http://localhost:3000")],
                ..HttpConfig::default()
            },
            db: None,
            migrator: &switchyard_db::MIGRATOR,
            redis_url: None,
        }
    }

    /// The production wiring on a fresh migrated database.
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Stops serving and waits for in-flight requests.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            let _ = running.task.await;
        }
    }
}

fn http_origin(origin: &'static str) -> reqwest::header::HeaderValue {
    reqwest::header::HeaderValue::from_static(origin)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
