//! What every handler can reach: the health snapshot, the metrics registry, the pool.

use std::sync::Arc;

use switchyard_db::PgPool;

use crate::{HttpConfig, health::HealthReader, metrics::Metrics};

#[derive(Clone)]
pub struct ApiState {
    pub(crate) config: Arc<HttpConfig>,
    pub(crate) health: HealthReader,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) pool: Option<PgPool>,
}

impl ApiState {
    pub fn new(config: HttpConfig, health: HealthReader, pool: Option<PgPool>) -> Self {
        Self {
            config: Arc::new(config),
            health,
            metrics: Arc::new(Metrics::new()),
            pool,
        }
    }
}
