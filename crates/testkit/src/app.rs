//! `TestApp`: the real API (router, middleware, health monitor) on a real loopback socket, backed
//! by a test database and a per-test Redis key prefix.

use std::{net::SocketAddr, time::Duration};

use secrecy::SecretString;
use switchyard::{
    config::AuthConfig,
    serve::{Running, ServeDeps},
};
use switchyard_api::HttpConfig;
use switchyard_core::{AuthSettings, BuildSettings, DeploySettings, DomainSettings};
use switchyard_db::Migrator;
use switchyard_domain::Role;
use switchyard_queue::{Redis, RedisConfig};
use tokio_util::sync::CancellationToken;

use crate::{TestDb, services};

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub client: reqwest::Client,
    /// The app's Redis (its keys carry a per-test prefix), for tests that inspect the store.
    pub redis: Option<Redis>,
    shutdown: CancellationToken,
    running: Option<Running>,
}

/// Options for [`TestApp`]; the defaults are the production wiring.
pub struct TestAppBuilder {
    http: HttpConfig,
    db: Option<TestDb>,
    migrator: &'static Migrator,
    redis_url: Option<Option<SecretString>>,
    auth: AuthConfig,
    builds: BuildSettings,
    envvar_key: Option<&'static str>,
    domains: DomainSettings,
    deploys: DeploySettings,
}

/// The key Roundhouse and a `TestApp` share (callback signatures, the enqueue bearer).
pub const TEST_ROUNDHOUSE_KEY: &str = "test-roundhouse-key";

/// The GitHub webhook secret of a `TestApp`.
pub const TEST_GITHUB_SECRET: &str = "test-github-secret";

/// The signing key of every `TestApp` (a test-only key committed under `crates/auth/testdata`).
pub const TEST_SIGNING_KEY: &str = include_str!("../../auth/testdata/test-key-1.pem");

/// The env var encryption key of every `TestApp` (test-only; 32 bytes as base64).
pub const TEST_ENVVAR_KEY: &str = "dGVzdC1vbmx5IGVudnZhciBrZXkgKDMyIGJ5dGVzKSE=";

/// Key-encryption keys made of `current` and `previous` (base64 or hex).
pub fn envvar_keys(
    current: &str,
    previous: Option<&str>,
) -> switchyard_auth::sealing::KeyEncryptionKeys {
    use switchyard_auth::sealing::{AesKey, KeyEncryptionKeys};
    let parse = |k: &str| AesKey::parse(k).expect("a test key");
    KeyEncryptionKeys::new(parse(current), previous.map(parse)).expect("distinct test keys")
}

/// Sign-in settings of a `TestApp`: the test key, the production defaults otherwise.
pub fn test_auth_config() -> AuthConfig {
    AuthConfig {
        signing_key: Some(SecretString::from(TEST_SIGNING_KEY.to_owned())),
        previous_keys: String::new(),
        access_ttl: time::Duration::minutes(15),
        refresh_ttl: time::Duration::days(7),
        default_role: Role::Developer,
        admin_emails: Vec::new(),
        bootstrap_token: None,
        external: None,
        oidc: None,
    }
}

/// `AuthSettings` built from `config` (for tests that wire a server by hand).
pub fn auth_settings(config: &AuthConfig) -> AuthSettings {
    let key = config.signing_key.clone().expect("a signing key");
    switchyard::serve::auth_settings(config, &key).expect("test auth settings")
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

    /// Sign-in settings (roles, admin e-mails, token lifetimes, keys).
    pub fn auth(mut self, auth: AuthConfig) -> Self {
        self.auth = auth;
        self
    }

    /// The env var encryption key (base64 or hex), or none (`None`: those routes answer 503).
    pub fn envvar_key(mut self, key: Option<&'static str>) -> Self {
        self.envvar_key = key;
        self
    }

    /// Where deployments are read from (a fake cluster, a render directory); default none.
    pub fn deploys(mut self, deploys: DeploySettings) -> Self {
        self.deploys = deploys;
        self
    }

    /// Build settings; by default the callback key is `TEST_ROUNDHOUSE_KEY`.
    pub fn builds(mut self, builds: BuildSettings) -> Self {
        self.builds = builds;
        self
    }

    /// Custom domain settings (platform domain, issuer, nameserver); by default no platform
    /// domain, the production issuer, and the system's resolver.
    pub fn domains(mut self, domains: DomainSettings) -> Self {
        self.domains = domains;
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
        let mut auth = self.auth;
        if let Some(oidc) = auth.oidc.as_mut().filter(|o| o.redirect_url.is_empty()) {
            // This app's own callbacks (the port is known only now).
            let addr = listener.local_addr().expect("bound address");
            oidc.redirect_url = format!("http://{addr}/v1/auth/callback");
            oidc.silent_redirect_url = format!("http://{addr}/v1/auth/callback/silent");
        }
        let deps = ServeDeps {
            http: self.http,
            pool: db.pool.clone(),
            redis: redis.clone(),
            migrator: self.migrator,
            health_interval: Duration::from_millis(200),
            auth: auth_settings(&auth),
            builds: BuildSettings {
                self_url: format!("http://{}", listener.local_addr().expect("bound address")),
                ..self.builds
            },
            billing: switchyard_core::BillingSettings::default(),
            envvar_keys: self
                .envvar_key
                .map(|k| std::sync::Arc::new(envvar_keys(k, None))),
            domains: self.domains,
            deploys: self.deploys,
            extra_metrics: None,
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
            redis,
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
            auth: test_auth_config(),
            builds: BuildSettings {
                callback_key: Some(SecretString::from(TEST_ROUNDHOUSE_KEY.to_owned())),
                github_webhook_secret: Some(SecretString::from(TEST_GITHUB_SECRET.to_owned())),
                ..BuildSettings::default()
            },
            envvar_key: Some(TEST_ENVVAR_KEY),
            domains: switchyard::config::Config::from_vars(&Default::default())
                .expect("the default configuration")
                .domain_settings(),
            deploys: DeploySettings::default(),
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
