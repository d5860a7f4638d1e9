//! What every handler can reach: the use-cases, the health snapshot, the metrics registry.

use std::sync::Arc;

use switchyard_core::ControlPlane;
use switchyard_db::PgPool;

use crate::{HttpConfig, health::HealthReader, metrics::Metrics};

#[derive(Clone)]
pub struct ApiState {
    pub(crate) cp: ControlPlane,
    pub(crate) config: Arc<HttpConfig>,
    pub(crate) health: HealthReader,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) pool: Option<PgPool>,
}

impl ApiState {
    pub fn new(
        config: HttpConfig,
        health: HealthReader,
        pool: Option<PgPool>,
        cp: ControlPlane,
    ) -> Self {
        Self {
            cp,
            config: Arc::new(config),
            health,
            metrics: Arc::new(Metrics::new()),
            pool,
        }
    }
}
