//! What every handler can reach: the use-cases, the health snapshot, the metrics registry.

use std::sync::Arc;

use switchyard_core::ControlPlane;
use tokio_util::sync::CancellationToken;

use crate::{HttpConfig, MetricsSource, health::HealthReader, metrics::Metrics};

#[derive(Clone)]
pub struct ApiState {
    pub(crate) cp: ControlPlane,
    pub(crate) config: Arc<HttpConfig>,
    pub(crate) health: HealthReader,
    pub(crate) metrics: Arc<Metrics>,
    /// Metrics of an in-process worker (`switchyard dev`), appended to `/metrics`.
    pub(crate) extra_metrics: Option<MetricsSource>,
    /// Cancelled when the server starts shutting down: log streams end, so draining does not
    /// wait for them.
    pub(crate) shutdown: CancellationToken,
}

impl ApiState {
    pub fn new(config: HttpConfig, health: HealthReader, cp: ControlPlane) -> Self {
        Self {
            cp,
            config: Arc::new(config),
            health,
            metrics: Arc::new(Metrics::new()),
            extra_metrics: None,
            shutdown: CancellationToken::new(),
        }
    }

    /// Ends long-lived responses (log streams) when `shutdown` is cancelled.
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Appends `source` (an in-process worker's metrics) to `/metrics`.
    #[must_use]
    pub fn with_extra_metrics(mut self, source: MetricsSource) -> Self {
        self.extra_metrics = Some(source);
        self
    }
}
