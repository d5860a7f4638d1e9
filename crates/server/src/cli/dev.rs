//! `switchyard dev`: everything in one process on embedded defaults. Starts a private PostgreSQL
//! and Redis under the data directory unless URLs are configured, migrates, and serves the API
//! with the worker (outbox relay and job consumers) running in-process.

use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
};

use anyhow::Context;
use secrecy::{ExposeSecret as _, SecretString};
use switchyard_auth::sealing::{AesKey, KeyEncryptionKeys};
use switchyard_core::{BOOTSTRAP_EMAIL, ControlPlane};
use switchyard_db::{DbConfig, MigrateOptions, admin};
use switchyard_queue::{Redis, RedisConfig};
use switchyard_worker::jobs::deployments::DeployTarget;

use crate::{
    config::Config,
    local::{self, Lifetime, LocalPostgres, LocalRedis, PostgresOptions},
    serve::{ServeDeps, Signals, serve_until_signal},
};

const DATABASE: &str = "switchyard";

/// Runs until Ctrl-C or SIGTERM (also during start-up), then stops the servers it started,
/// whether serving ended normally or start-up failed halfway.
pub async fn run(mut config: Config, data_dir: &Path, signals: &mut Signals) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let data_dir = std::fs::canonicalize(data_dir)?;
    let mut postgres = None;
    let mut redis = None;
    let started = async {
        if config.database.is_none() {
            let server = start_postgres(&data_dir).await?;
            config.database = Some(DbConfig::new(server.url(DATABASE)));
            postgres = Some(server);
        }
        if config.redis.is_none() {
            let port = local::free_port()?;
            let server = local::redis::start(data_dir.join("redis"), port, Lifetime::Owned).await?;
            config.redis = Some(RedisConfig {
                url: server.url(),
                key_prefix: "enclii:".to_owned(),
            });
            redis = Some(server);
        }
        anyhow::Ok(())
    };
    let started = tokio::select! {
        started = started => Some(started),
        () = signals.recv() => None,
    };
    let result = match started {
        Some(Ok(())) => {
            migrate_and_serve(
                config,
                &data_dir,
                postgres.as_ref(),
                redis.as_ref(),
                signals,
            )
            .await
        }
        Some(Err(e)) => Err(e),
        None => Ok(()),
    };
    if let Some(server) = redis {
        server.stop().await;
    }
    if let Some(server) = postgres {
        server.stop().await;
    }
    result
}

async fn start_postgres(data_dir: &Path) -> anyhow::Result<LocalPostgres> {
    let server = local::postgres::start(&PostgresOptions {
        dir: data_dir.join("postgres"),
        port: local::free_port()?,
        durable: true,
        lifetime: Lifetime::Owned,
    })
    .await?;
    let mut admin_conn =
        admin::wait_for(&server.url("postgres"), std::time::Duration::from_secs(10)).await?;
    if !admin::database_exists(&mut admin_conn, DATABASE).await? {
        admin::create_database(&mut admin_conn, DATABASE, None).await?;
    }
    Ok(server)
}

async fn migrate_and_serve(
    config: Config,
    data_dir: &Path,
    postgres: Option<&LocalPostgres>,
    redis: Option<&LocalRedis>,
    signals: &mut Signals,
) -> anyhow::Result<()> {
    let db = config.database.as_ref().context("no database configured")?;
    let options = MigrateOptions {
        lock_wait: config.migration_lock_wait,
        ..MigrateOptions::default()
    };
    let report = super::migrate::up(&db.url, &switchyard_db::MIGRATOR, &options).await?;
    tracing::info!("{}", report.trim_end());
    let signing_key = match &config.auth.signing_key {
        Some(key) => key.clone(),
        None => dev_signing_key(data_dir)?,
    };
    let auth = crate::serve::auth_settings(&config.auth, &signing_key)?;
    let envvar_keys = std::sync::Arc::new(match config.envvar_keys.keys() {
        Some(keys) => keys,
        None => dev_envvar_key(data_dir)?,
    });
    let pool = switchyard_db::connect_lazy(db)?;
    crate::serve::check_default_plan(&pool, &config.billing.settings()).await?;
    let redis_client = config.redis.as_ref().map(Redis::connect_lazy).transpose()?;
    let cp = ControlPlane::new(pool.clone(), redis_client.clone(), auth.clone());
    let generated = cp
        .ensure_bootstrap_admin(config.auth.bootstrap_token.as_ref())
        .await
        .context("ENCLII_BOOTSTRAP_TOKEN")?;
    let addr = SocketAddr::new(
        config.bind_address.unwrap_or(IpAddr::from([127, 0, 0, 1])),
        config.http.port,
    );
    let postgres_note = postgres.map_or_else(
        || "external".to_owned(),
        |p| format!("127.0.0.1:{}", p.port),
    );
    let redis_note = redis.map_or_else(
        || "external".to_owned(),
        |r| format!("127.0.0.1:{}", r.port),
    );
    println!(
        "switchyard dev: http://{addr} (postgres {postgres_note}, redis {redis_note}, data in {}); Ctrl-C stops",
        data_dir.display()
    );
    if let Some(token) = generated {
        println!(
            "switchyard dev: {BOOTSTRAP_EMAIL} (admin) API token, shown once: {}",
            token.expose_secret()
        );
    }
    // A configured cluster, else render mode (DESIGN.md §4).
    let deploy_target = if config.deploys.has_cluster() {
        config.deploys.target().await?
    } else {
        DeployTarget::Render {
            dir: data_dir.to_path_buf(),
        }
    };
    let deploys = switchyard_core::DeploySettings {
        view: match &deploy_target {
            DeployTarget::Cluster(cluster) => {
                switchyard_core::ClusterView::Cluster(cluster.reader())
            }
            DeployTarget::Render { dir } => {
                switchyard_core::ClusterView::Render { dir: dir.clone() }
            }
            DeployTarget::Unconfigured => switchyard_core::ClusterView::Unconfigured,
        },
        render: config.deploys.settings.render.clone(),
    };
    let worker_shutdown = tokio_util::sync::CancellationToken::new();
    let worker = match redis_client.clone() {
        None => None,
        Some(redis) => {
            let worker = crate::worker::worker(
                pool.clone(),
                redis,
                config.worker.settings.clone(),
                &config.builds,
                crate::worker::Deploys {
                    target: deploy_target,
                    settings: config.deploys.settings.clone(),
                    envvar_keys: Some(envvar_keys.clone()),
                },
            )?;
            let worker = crate::billing::with_billing(worker, pool.clone(), &config.billing)?;
            Some(crate::worker::spawn(worker, worker_shutdown.clone()))
        }
    };
    let extra_metrics = worker.as_ref().map(|w| {
        let metrics = w.metrics.clone();
        std::sync::Arc::new(move || metrics.render()) as switchyard_api::MetricsSource
    });
    let drain = config.http.shutdown_timeout;
    let domains = config.domain_settings();
    let deps = ServeDeps {
        http: config.http,
        pool,
        redis: redis_client,
        migrator: &switchyard_db::MIGRATOR,
        health_interval: config.health_interval,
        auth,
        builds: config.builds.settings(),
        billing: config.billing.settings(),
        envvar_keys: Some(envvar_keys),
        domains,
        deploys,
        extra_metrics,
    };
    let served = serve_until_signal(addr, deps, signals).await;
    worker_shutdown.cancel();
    if let Some(worker) = worker {
        worker.stopped(drain).await?;
    }
    served
}

/// The session signing key kept in the data directory (created on first run, mode 0600), so
/// sessions and the JWKS `kid` survive restarts.
fn dev_signing_key(data_dir: &Path) -> anyhow::Result<SecretString> {
    let path = data_dir.join("jwt-signing-key.pem");
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Ok(SecretString::from(pem));
    }
    let pem = switchyard_auth::KeySet::generate_pem()?;
    write_private(&path, &pem)?;
    tracing::info!("generated a session signing key in {}", path.display());
    Ok(pem)
}

/// The env var encryption key kept in the data directory (created on first run, mode 0600), so
/// the values stored by earlier runs still decrypt.
fn dev_envvar_key(data_dir: &Path) -> anyhow::Result<KeyEncryptionKeys> {
    let path = data_dir.join("envvar-encryption-key");
    let key = match std::fs::read_to_string(&path) {
        Ok(text) => AesKey::parse(&text)
            .with_context(|| format!("{} does not hold a key", path.display()))?,
        Err(_) => {
            let key = AesKey::generate();
            write_private(&path, &key.to_base64())?;
            tracing::info!("generated an env var encryption key in {}", path.display());
            key
        }
    };
    Ok(KeyEncryptionKeys::new(key, None)?)
}

/// Writes `contents` to a new file at `path` that only this user can read.
fn write_private(path: &Path, contents: &SecretString) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, contents.expose_secret().as_bytes())?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// `.switchyard/dev` under the current directory.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(".switchyard/dev")
}
