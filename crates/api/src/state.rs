//! What every handler can reach: the use-cases, the health snapshot, the metrics registry.

use std::sync::Arc;

use switchyard_core::ControlPlane;

use crate::{HttpConfig, MetricsSource, health::HealthReader, metrics::Metrics};

#[derive(Clone)]
pub struct ApiState {
    pub(crate) cp: ControlPlane,
    pub(crate) config: Arc<HttpConfig>,
    pub(crate) health: HealthReader,
    pub(crate) metrics: Arc<Metrics>,
    /// Metrics of an in-process worker (`switchyard dev`), appended to `/metrics`.
    pub(crate) extra_metrics: Option<MetricsSource>,
}

impl ApiState {
    pub fn new(config: HttpConfig, health: HealthReader, cp: ControlPlane) -> Self {
        Self {
            cp,
            config: Arc::new(config),
            health,
            metrics: Arc::new(Metrics::new()),
            extra_metrics: None,
        }
    }

    /// Appends `source` (an in-process worker's metrics) to `/metrics`.
    #[must_use]
    pub fn with_extra_metrics(mut self, source: MetricsSource) -> Self {
        self.extra_metrics = Some(source);
        self
    }
}
