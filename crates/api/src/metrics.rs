//! The Prometheus registry of one API instance: HTTP traffic by matched route, the DB pool and the
//! schema state. Per instance (no global recorder), so parallel test apps do not mix counts.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use switchyard_db::{PgPool, pool_stats};

use crate::health::HealthSnapshot;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) method: String,
    pub(crate) route: String,
    pub(crate) status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) method: String,
    pub(crate) route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabels {
    component: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

pub struct Metrics {
    registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) latency: HistogramFamily,
    pool_connections: Family<StateLabels, Gauge>,
    pool_max: Gauge,
    schema_migrations: Family<StateLabels, Gauge>,
    schema_status: Family<StateLabels, Gauge>,
    component_up: Family<ComponentLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

const SCHEMA_STATES: [&str; 5] = ["up_to_date", "ahead", "behind", "edited", "unknown"];

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("switchyard");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, matched route and status",
            requests.clone(),
        );
        let latency = HistogramFamily::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and matched route",
            latency.clone(),
        );
        let pool_connections = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (idle, in_use)",
            pool_connections.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "Database pool size limit",
            pool_max.clone(),
        );
        let schema_migrations = Family::<StateLabels, Gauge>::default();
        registry.register(
            "schema_migrations",
            "Migrations applied to the database and known to this binary",
            schema_migrations.clone(),
        );
        let schema_status = Family::<StateLabels, Gauge>::default();
        registry.register(
            "schema_status",
            "1 for the schema's current state (up_to_date, ahead, behind, edited, unknown)",
            schema_status.clone(),
        );
        let component_up = Family::<ComponentLabels, Gauge>::default();
        registry.register(
            "component_up",
            "1 when a dependency answered its last health probe",
            component_up.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            pool_connections,
            pool_max,
            schema_migrations,
            schema_status,
            component_up,
        }
    }

    /// Refreshes the gauges from the pool and the health snapshot, then encodes everything.
    pub(crate) fn render(&self, pool: &PgPool, health: &HealthSnapshot) -> String {
        let stats = pool_stats(pool);
        self.pool_connections
            .get_or_create(&StateLabels { state: "idle" })
            .set(i64::from(stats.idle));
        self.pool_connections
            .get_or_create(&StateLabels { state: "in_use" })
            .set(i64::from(stats.size.saturating_sub(stats.idle)));
        self.pool_max.set(i64::from(stats.max));
        let schema = &health.schema;
        for (state, value) in [("applied", schema.applied), ("known", schema.known)] {
            self.schema_migrations
                .get_or_create(&StateLabels { state })
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        for state in SCHEMA_STATES {
            self.schema_status
                .get_or_create(&StateLabels { state })
                .set(i64::from(schema.status == state));
        }
        for (component, health) in health.components() {
            self.component_up
                .get_or_create(&ComponentLabels { component })
                .set(i64::from(health.is_up()));
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
