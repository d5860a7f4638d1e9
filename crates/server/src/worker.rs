//! `switchyard worker`: the outbox relay and the job consumers, with `/health/live`,
//! `/health/ready` and `/metrics` on `ENCLII_WORKER_PORT`; and [`worker`], the one place that
//! registers jobs (used by `switchyard dev` too).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use switchyard_auth::sealing::KeyEncryptionKeys;
use switchyard_core::{BuildDispatch, DeploymentDispatch};
use switchyard_db::PgPool;
use switchyard_queue::Redis;
use switchyard_worker::{
    DEPLOYMENT_IDLE, Janitor, OUTBOX_RETENTION, StatusSync, Worker, WorkerSettings,
    jobs::{
        builds::{BuildsJob, Roundhouse},
        cleanup::{ProjectCleanup, ServiceCleanup},
        deployments::{DeployTarget, DeploymentsJob, ReconcileSettings},
    },
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    config::{BuildConfig, Config},
    serve::Signals,
};

/// How often the janitor sweeps.
const JANITOR_INTERVAL: Duration = Duration::from_secs(60);

/// How often the leader reads the health of running deployments from the cluster.
const STATUS_SYNC_INTERVAL: Duration = Duration::from_secs(30);

/// Where the `deployments` job puts deployments, and the keys that open their secret variables.
pub struct Deploys {
    pub target: DeployTarget,
    pub settings: ReconcileSettings,
    pub envvar_keys: Option<Arc<KeyEncryptionKeys>>,
}

/// The worker with every job this binary knows. Register a new job here
/// (`.with_job(Arc::new(MyJob::new(..)))`).
pub fn worker(
    pool: PgPool,
    redis: Redis,
    settings: WorkerSettings,
    builds: &BuildConfig,
    deploys: Deploys,
) -> anyhow::Result<Worker> {
    let roundhouse = builds.roundhouse_url.as_ref().map(|url| Roundhouse {
        url: url.clone(),
        key: builds.roundhouse_key.clone(),
    });
    let dispatch = BuildDispatch::new(pool.clone(), builds.self_url.clone());
    let deployments = DeploymentDispatch::new(pool.clone(), deploys.envvar_keys);
    let janitor = Janitor {
        pool: pool.clone(),
        builds: dispatch.clone(),
        deployments: deployments.clone(),
        deployment_idle: DEPLOYMENT_IDLE,
        build_timeout: builds.build_timeout,
        outbox_retention: OUTBOX_RETENTION,
        interval: JANITOR_INTERVAL,
    };
    let builds_job = BuildsJob::new(dispatch, roundhouse)?;
    let status_sync = match &deploys.target {
        DeployTarget::Cluster(cluster) => Some(StatusSync {
            dispatch: deployments.clone(),
            cluster: cluster.clone(),
            interval: STATUS_SYNC_INTERVAL,
        }),
        DeployTarget::Render { .. } | DeployTarget::Unconfigured => None,
    };
    let deployments_job =
        DeploymentsJob::new(deployments, deploys.target.clone(), deploys.settings);
    let mut worker = Worker::new(pool, redis, settings)
        .with_job(Arc::new(builds_job))
        .with_job(Arc::new(deployments_job))
        .with_job(Arc::new(ServiceCleanup::new(deploys.target.clone())))
        .with_job(Arc::new(ProjectCleanup::new(deploys.target)))
        .with_janitor(janitor);
    if let Some(sync) = status_sync {
        worker = worker.with_status_sync(sync);
    }
    Ok(worker)
}

/// A worker started by [`spawn`].
pub struct RunningWorker {
    pub metrics: Arc<switchyard_worker::WorkerMetrics>,
    task: JoinHandle<Result<(), switchyard_domain::Error>>,
}

impl RunningWorker {
    /// Waits up to `grace` for the worker to stop after its shutdown token was cancelled.
    pub async fn stopped(self, grace: Duration) -> anyhow::Result<()> {
        match tokio::time::timeout(grace, self.task).await {
            Ok(joined) => Ok(joined.context("worker task")??),
            Err(_) => {
                tracing::warn!("worker still busy after {} s; exiting", grace.as_secs());
                Ok(())
            }
        }
    }
}

/// Starts `worker` in a task of this process; it stops when `shutdown` is cancelled.
pub fn spawn(worker: Worker, shutdown: CancellationToken) -> RunningWorker {
    let metrics = worker.metrics();
    let task = tokio::spawn(worker.run(shutdown));
    RunningWorker { metrics, task }
}

/// How long a readiness probe waits for PostgreSQL or Redis.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The worker is ready when it can reach both PostgreSQL (the outbox, every job's state) and
/// Redis (the streams); the error names the one it cannot.
pub fn readiness(pool: PgPool, redis: Redis) -> switchyard_api::ReadyCheck {
    Arc::new(move || {
        let (pool, redis) = (pool.clone(), redis.clone());
        Box::pin(async move {
            switchyard_db::ping(&pool, READY_TIMEOUT)
                .await
                .map_err(|e| format!("PostgreSQL: {}", e.public_message()))?;
            redis
                .ping(READY_TIMEOUT)
                .await
                .map_err(|e| format!("Redis: {}", e.public_message()))?;
            Ok(())
        })
    })
}

/// `switchyard worker`.
pub async fn run(config: Config, signals: &mut Signals) -> anyhow::Result<()> {
    let db = config
        .database
        .as_ref()
        .context("ENCLII_DATABASE_URL (or ENCLII_DB_URL) is not set; `worker` needs PostgreSQL")?;
    let redis = config
        .redis
        .as_ref()
        .context("ENCLII_REDIS_URL (or ENCLII_REDIS_HOST) is not set; `worker` needs Redis")?;
    let pool = switchyard_db::connect_lazy(db)?;
    let redis = Redis::connect_lazy(redis)?;
    crate::serve::check_schema(&pool, &switchyard_db::MIGRATOR).await?;
    let addr = SocketAddr::new(
        config
            .bind_address
            .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
        config.worker.port,
    );
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (set ENCLII_WORKER_PORT or ENCLII_BIND_ADDRESS)")
    })?;
    let shutdown = CancellationToken::new();
    let target = config.deploys.target().await?;
    if matches!(target, DeployTarget::Unconfigured) {
        tracing::warn!(
            "no Kubernetes cluster configured (ENCLII_KUBE_CONFIG): deployments will fail until one is"
        );
    }
    let deploys = Deploys {
        target,
        settings: config.deploys.settings.clone(),
        envvar_keys: config.envvar_keys.keys().map(Arc::new),
    };
    let ready = readiness(pool.clone(), redis.clone());
    let worker = worker(
        pool.clone(),
        redis,
        config.worker.settings,
        &config.builds,
        deploys,
    )?;
    let worker = crate::billing::with_billing(worker, pool, &config.billing)?;
    let running = spawn(worker, shutdown.clone());
    let metrics = running.metrics.clone();
    let probes = tokio::spawn(switchyard_api::serve_probes(
        listener,
        Arc::new(move || metrics.render()),
        ready,
        shutdown.clone().cancelled_owned(),
    ));
    tracing::info!(http.addr = %addr, "switchyard worker: /health/live, /health/ready and /metrics on http://{addr}");
    signals.recv().await;
    tracing::info!("shutting down: letting jobs in flight finish");
    shutdown.cancel();
    running.stopped(config.http.shutdown_timeout).await?;
    probes.await.context("probe listener")??;
    Ok(())
}
