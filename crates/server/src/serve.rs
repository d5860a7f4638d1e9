//! `switchyard serve`: wires the pool, Redis, the health monitor and the router, checks the
//! schema (never migrates), serves until a signal, then drains in-flight requests.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use secrecy::SecretString;
use switchyard_api::{ApiState, HealthMonitor, HealthProbes, HttpConfig};
use switchyard_auth::{KeySet, SessionIssuer};
use switchyard_core::{AuthSettings, ControlPlane};
use switchyard_db::{MigrateError, Migrator, PgPool, migrate};
use switchyard_queue::Redis;
use tokio::{net::TcpListener, task::JoinHandle};
pub use tokio_util::sync::CancellationToken;

use crate::config::{AuthConfig, Config};

/// How long one health probe (DB ping, schema read, Redis ping) may take. A healthy ping takes
/// about a millisecond; while PostgreSQL is down the pool retries connecting until this passes.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

/// Everything a running API needs, already connected.
pub struct ServeDeps {
    pub http: HttpConfig,
    pub pool: PgPool,
    pub redis: Option<Redis>,
    pub migrator: &'static Migrator,
    pub health_interval: Duration,
    pub auth: AuthSettings,
    pub builds: switchyard_core::BuildSettings,
    /// The default plan of projects without a subscription.
    pub billing: switchyard_core::BillingSettings,
    /// The keys that seal env var values; `None`: those routes answer 503.
    pub envvar_keys: Option<std::sync::Arc<switchyard_auth::sealing::KeyEncryptionKeys>>,
    /// `ENCLII_PLATFORM_DOMAIN`, the issuer shown on domains, `ENCLII_DNS_RESOLVER`.
    pub domains: switchyard_core::DomainSettings,
    /// Where deployments are read from (logs, drift, dry runs) and how they render.
    pub deploys: switchyard_core::DeploySettings,
    /// An in-process worker's metrics, appended to `/metrics` (`switchyard dev`).
    pub extra_metrics: Option<switchyard_api::MetricsSource>,
}

/// The session signer and sign-in rules from configuration and the signing key's PEM.
pub fn auth_settings(
    config: &AuthConfig,
    signing_key: &SecretString,
) -> anyhow::Result<AuthSettings> {
    let keys =
        KeySet::from_pem(signing_key, &config.previous_keys).context("session signing key")?;
    let external = config
        .external
        .clone()
        .map(switchyard_auth::ExternalVerifier::new)
        .transpose()
        .context("external token verifier")?
        .map(std::sync::Arc::new);
    let oidc = config
        .oidc
        .clone()
        .map(switchyard_auth::OidcClient::new)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("OIDC client")?
        .map(std::sync::Arc::new);
    Ok(AuthSettings {
        sessions: SessionIssuer::new(
            std::sync::Arc::new(keys),
            config.access_ttl,
            config.refresh_ttl,
        ),
        default_role: config.default_role,
        admin_emails: config.admin_emails.clone(),
        external,
        oidc,
    })
}

/// A server started by [`spawn`].
pub struct Running {
    pub addr: SocketAddr,
    pub task: JoinHandle<std::io::Result<()>>,
}

/// Starts the health monitor and serves the API on `listener` until `shutdown` is cancelled;
/// in-flight requests then finish (the caller bounds how long it waits).
pub async fn spawn(
    listener: TcpListener,
    deps: ServeDeps,
    shutdown: CancellationToken,
) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let probes = HealthProbes {
        pool: Some(deps.pool.clone()),
        redis: deps.redis.clone(),
        cluster: deps.deploys.view.clone(),
        migrator: deps.migrator,
        interval: deps.health_interval,
        timeout: PROBE_TIMEOUT,
    };
    let health = HealthMonitor::start(probes, shutdown.child_token()).await;
    let mut cp = ControlPlane::new(deps.pool, deps.redis, deps.auth)
        .with_builds(deps.builds)
        .with_domains(deps.domains)
        .with_billing(deps.billing)
        .with_deploys(deps.deploys);
    if let Some(keys) = deps.envvar_keys {
        cp = cp.with_envvar_keys(keys);
    }
    let mut state = ApiState::new(deps.http, health, cp).with_shutdown(shutdown.child_token());
    if let Some(extra) = deps.extra_metrics {
        state = state.with_extra_metrics(extra);
    }
    let task = tokio::spawn(switchyard_api::serve(
        listener,
        state,
        shutdown.cancelled_owned(),
    ));
    Ok(Running { addr, task })
}

/// Serve-time schema check: refuses (naming the file) when an applied migration was edited;
/// serves when the database is ahead; serves unready when migrations are pending or the database
/// does not answer yet, so a late migration job or a slow database never causes a crash loop.
pub async fn check_schema(pool: &PgPool, migrator: &Migrator) -> anyhow::Result<()> {
    let conn = tokio::time::timeout(Duration::from_secs(10), pool.acquire()).await;
    let Ok(Ok(mut conn)) = conn else {
        tracing::warn!("database unreachable at start; /health/ready answers 503 until it is");
        return Ok(());
    };
    match migrate::verify(&mut conn, migrator).await {
        Ok(report) => {
            if let switchyard_db::SchemaState::Ahead { unknown } = report.state() {
                tracing::warn!(
                    ?unknown,
                    "database schema is ahead of this binary; serving (expand/contract)"
                );
            }
            Ok(())
        }
        Err(e @ MigrateError::Pending { .. }) => {
            tracing::warn!("{e}; /health/ready answers 503 until then");
            Ok(())
        }
        Err(e) => Err(anyhow::Error::new(e).context("refusing to serve")),
    }
}

/// Start-time check that `ENCLII_BILLING_DEFAULT_PLAN` names a plan of `billing_plans`: a
/// mistyped plan refuses to start (naming the setting) instead of billing every project without
/// a subscription $0. Skipped, with a warning, while the plans cannot be read yet.
pub async fn check_default_plan(
    pool: &PgPool,
    billing: &switchyard_core::BillingSettings,
) -> anyhow::Result<()> {
    let checked = tokio::time::timeout(Duration::from_secs(10), billing.check_default_plan(pool));
    match checked.await {
        Ok(Ok(true)) => Ok(()),
        Ok(Err(e)) => Err(anyhow::anyhow!(
            "ENCLII_BILLING_DEFAULT_PLAN: {e}; set it to one of them or add the plan"
        )
        .context("refusing to serve")),
        Ok(Ok(false)) | Err(_) => {
            tracing::warn!(
                "billing plans unreadable at start; ENCLII_BILLING_DEFAULT_PLAN unchecked"
            );
            Ok(())
        }
    }
}

/// SIGINT and SIGTERM handlers, installed once at start, so a signal that arrives while the
/// process is still starting is caught instead of killing it (and orphaning `dev`'s servers).
pub struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves on the next Ctrl-C or SIGTERM.
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
    }
}

/// Serves `deps` on `addr` until a signal, then drains for at most `http.shutdown_timeout`.
pub async fn serve_until_signal(
    addr: SocketAddr,
    deps: ServeDeps,
    signals: &mut Signals,
) -> anyhow::Result<()> {
    let drain = deps.http.shutdown_timeout;
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (set ENCLII_PORT or ENCLII_BIND_ADDRESS)")
    })?;
    let shutdown = CancellationToken::new();
    let running = spawn(listener, deps, shutdown.clone()).await?;
    tracing::info!(http.addr = %running.addr, "switchyard API listening on http://{}", running.addr);
    signals.recv().await;
    tracing::info!(
        "shutting down: draining in-flight requests for up to {} s",
        drain.as_secs()
    );
    shutdown.cancel();
    match tokio::time::timeout(drain, running.task).await {
        Ok(joined) => joined.context("server task")?.context("serving")?,
        Err(_) => tracing::warn!("drain timeout passed with requests still running"),
    }
    Ok(())
}

/// `switchyard serve`.
pub async fn run(config: Config, signals: &mut Signals) -> anyhow::Result<()> {
    let db = config
        .database
        .as_ref()
        .context("ENCLII_DATABASE_URL (or ENCLII_DB_URL) is not set; `serve` needs PostgreSQL")?;
    let pool = switchyard_db::connect_lazy(db)?;
    let redis = config.redis.as_ref().map(Redis::connect_lazy).transpose()?;
    if redis.is_none() {
        tracing::warn!("ENCLII_REDIS_URL is not set: cache disabled");
    }
    let signing_key = config.auth.signing_key.as_ref().context(
        "ENCLII_JWT_SIGNING_KEY (or ENCLII_JWT_SIGNING_KEY_FILE) is not set: session tokens cannot be signed",
    )?;
    let auth = auth_settings(&config.auth, signing_key)?;
    if let Some(oidc) = auth.oidc.clone() {
        // Not fatal: sign-in answers 503 naming the issuer until discovery succeeds.
        tokio::spawn(async move { oidc.warm_up().await });
    }
    let envvar_keys = config.envvar_keys.keys().map(std::sync::Arc::new);
    if envvar_keys.is_none() {
        tracing::warn!(
            "ENCLII_ENVVAR_ENCRYPTION_KEY is not set: environment variable routes answer 503"
        );
    }
    check_schema(&pool, &switchyard_db::MIGRATOR).await?;
    check_default_plan(&pool, &config.billing.settings()).await?;
    let addr = SocketAddr::new(
        config
            .bind_address
            .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
        config.http.port,
    );
    let domains = config.domain_settings();
    let deploys = config.deploys.view().await?;
    let deps = ServeDeps {
        http: config.http,
        pool,
        redis,
        migrator: &switchyard_db::MIGRATOR,
        health_interval: config.health_interval,
        auth,
        builds: config.builds.settings(),
        billing: config.billing.settings(),
        envvar_keys,
        domains,
        deploys,
        extra_metrics: None,
    };
    serve_until_signal(addr, deps, signals).await
}
