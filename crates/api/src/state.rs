//! What every handler can reach: the use-cases, the health snapshot, the metrics registry.

use std::sync::Arc;

use switchyard_core::ControlPlane;

use crate::{HttpConfig, health::HealthReader, metrics::Metrics};

#[derive(Clone)]
pub struct ApiState {
    pub(crate) cp: ControlPlane,
    pub(crate) config: Arc<HttpConfig>,
    pub(crate) health: HealthReader,
    pub(crate) metrics: Arc<Metrics>,
}

impl ApiState {
    pub fn new(config: HttpConfig, health: HealthReader, cp: ControlPlane) -> Self {
        Self {
            cp,
            config: Arc::new(config),
            health,
            metrics: Arc::new(Metrics::new()),
        }
    }
}
