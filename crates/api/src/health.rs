//! Health: a background monitor probes PostgreSQL, the schema, Redis and the cluster every few
//! seconds and publishes a snapshot; `/health*` only read it, so a probe storm never reaches the
//! database.

use std::{sync::Arc, time::Duration};

use serde::Serialize;
use switchyard_core::ClusterView;
use switchyard_db::{Migrator, PgPool};
use switchyard_queue::Redis;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

/// The state of one dependency, as the original reported it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ComponentHealth {
    /// `healthy`, `unhealthy`, `degraded` or `disabled`; for `kubernetes` also `render`
    /// (render mode: manifests are written to disk instead of applied).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ComponentHealth {
    fn healthy(latency: Duration) -> Self {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        Self {
            status: "healthy",
            latency_ms: (ms > 0).then_some(ms),
            error: None,
        }
    }

    fn failed(status: &'static str, error: String) -> Self {
        Self {
            status,
            latency_ms: None,
            error: Some(error),
        }
    }

    pub fn is_up(&self) -> bool {
        self.status == "healthy"
    }
}

/// The three dependencies `/health` reports.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Components {
    pub database: ComponentHealth,
    pub cache: ComponentHealth,
    pub kubernetes: ComponentHealth,
}

/// How the database schema relates to this binary's migrations.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SchemaHealth {
    /// `up_to_date`, `ahead` (the database has migrations this binary does not know: fine),
    /// `behind` (run `switchyard migrate up`), `edited` (an applied migration changed) or
    /// `unknown` (the database has not answered yet).
    pub status: &'static str,
    /// Migrations recorded in the database.
    pub applied: usize,
    /// Migrations embedded in this binary.
    pub known: usize,
}

/// One probe round.
#[derive(Debug, Clone)]
pub struct HealthSnapshot {
    pub components: Components,
    pub schema: SchemaHealth,
    pub schema_compatible: bool,
    pub checked_at: OffsetDateTime,
}

impl HealthSnapshot {
    pub fn components(&self) -> [(&'static str, &ComponentHealth); 3] {
        [
            ("database", &self.components.database),
            ("cache", &self.components.cache),
            ("kubernetes", &self.components.kubernetes),
        ]
    }

    /// `unhealthy` when the database is down, `degraded` when the schema is incompatible or the
    /// cluster is unreachable, else `healthy`. Redis never changes it (as in the original).
    pub fn overall(&self) -> &'static str {
        if !self.components.database.is_up() {
            "unhealthy"
        } else if !self.schema_compatible || self.components.kubernetes.status == "unhealthy" {
            "degraded"
        } else {
            "healthy"
        }
    }

    /// Ready for traffic: the database answers and the schema is one this binary can serve.
    pub fn ready(&self) -> bool {
        self.components.database.is_up() && self.schema_compatible
    }
}

/// What the monitor probes.
#[derive(Clone)]
pub struct HealthProbes {
    pub pool: Option<PgPool>,
    pub redis: Option<Redis>,
    /// The cluster deployments go to (probed with `/version`), render mode, or none.
    pub cluster: ClusterView,
    pub migrator: &'static Migrator,
    pub interval: Duration,
    pub timeout: Duration,
}

/// Readers of the latest snapshot.
pub type HealthReader = watch::Receiver<Arc<HealthSnapshot>>;

/// Runs the probes in the background until cancelled.
pub struct HealthMonitor;

impl HealthMonitor {
    /// Probes once (so the first request already sees real data), then keeps probing every
    /// `interval` until `shutdown` is cancelled.
    pub async fn start(probes: HealthProbes, shutdown: CancellationToken) -> HealthReader {
        let first = probe(&probes).await;
        let (tx, rx) = watch::channel(Arc::new(first));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(probes.interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = ticker.tick() => {
                        let snapshot = probe(&probes).await;
                        log_transitions(&tx.borrow(), &snapshot);
                        tx.send_replace(Arc::new(snapshot));
                    }
                }
            }
        });
        rx
    }
}

fn log_transitions(before: &HealthSnapshot, after: &HealthSnapshot) {
    for ((name, old), (_, new)) in before.components().into_iter().zip(after.components()) {
        if old.status != new.status {
            tracing::warn!(
                component = name,
                from = old.status,
                to = new.status,
                error = new.error.as_deref().unwrap_or(""),
                "{name} is now {}",
                new.status
            );
        }
    }
    if before.schema.status != after.schema.status {
        tracing::warn!(
            from = before.schema.status,
            to = after.schema.status,
            "schema is now {}",
            after.schema.status
        );
    }
}

async fn probe(probes: &HealthProbes) -> HealthSnapshot {
    let known = probes.migrator.iter().count();
    let (database, schema, schema_compatible) = match &probes.pool {
        None => (
            ComponentHealth::failed("unhealthy", "database connection not initialized".into()),
            SchemaHealth {
                status: "unknown",
                applied: 0,
                known,
            },
            false,
        ),
        Some(pool) => match switchyard_db::ping(pool, probes.timeout).await {
            Err(e) => (
                ComponentHealth::failed("unhealthy", e.public_message()),
                SchemaHealth {
                    status: "unknown",
                    applied: 0,
                    known,
                },
                false,
            ),
            Ok(latency) => {
                let (schema, compatible) = probe_schema(pool, probes, known).await;
                (ComponentHealth::healthy(latency), schema, compatible)
            }
        },
    };
    let cache = match &probes.redis {
        None => ComponentHealth::failed(
            "disabled",
            "cache not configured (session revocation unavailable)".into(),
        ),
        Some(redis) => match redis.ping(probes.timeout).await {
            Ok(latency) => ComponentHealth::healthy(latency),
            Err(e) => ComponentHealth::failed(
                "degraded",
                format!(
                    "cache unavailable: {} (session revocation disabled)",
                    e.public_message()
                ),
            ),
        },
    };
    HealthSnapshot {
        components: Components {
            database,
            cache,
            kubernetes: probe_cluster(probes).await,
        },
        schema,
        schema_compatible,
        checked_at: OffsetDateTime::now_utc(),
    }
}

async fn probe_cluster(probes: &HealthProbes) -> ComponentHealth {
    let reader = match &probes.cluster {
        ClusterView::Cluster(reader) => reader,
        // Not a failure: deployments are written as files (DESIGN.md §4).
        ClusterView::Render { .. } => {
            return ComponentHealth {
                status: "render",
                latency_ms: None,
                error: None,
            };
        }
        ClusterView::Unconfigured => {
            return ComponentHealth::failed(
                "disabled",
                "no cluster configured: set ENCLII_KUBE_CONFIG".into(),
            );
        }
    };
    let started = std::time::Instant::now();
    match tokio::time::timeout(probes.timeout, reader.version()).await {
        Ok(Ok(_)) => ComponentHealth::healthy(started.elapsed()),
        Ok(Err(e)) => ComponentHealth::failed("unhealthy", e.to_string()),
        Err(_) => ComponentHealth::failed(
            "unhealthy",
            format!(
                "the Kubernetes API did not answer within {} ms",
                probes.timeout.as_millis()
            ),
        ),
    }
}

async fn probe_schema(pool: &PgPool, probes: &HealthProbes, known: usize) -> (SchemaHealth, bool) {
    let report = async {
        let mut conn = pool.acquire().await.ok()?;
        switchyard_db::migrate::status(&mut conn, probes.migrator)
            .await
            .ok()
    };
    match tokio::time::timeout(probes.timeout, report).await {
        Ok(Some(report)) => {
            let state = report.state();
            let health = SchemaHealth {
                status: state.as_str(),
                applied: report.applied.len(),
                known,
            };
            (health, state.is_compatible())
        }
        _ => (
            SchemaHealth {
                status: "unknown",
                applied: 0,
                known,
            },
            false,
        ),
    }
}
