//! `/metrics` in the Prometheus (OpenMetrics) text format.

use axum::{extract::State, response::IntoResponse};
use http::header;

use crate::ApiState;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus scrape: HTTP traffic by route, DB pool, schema state, dependency health.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Metrics in OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]
pub(crate) async fn metrics_view(State(state): State<ApiState>) -> impl IntoResponse {
    let snapshot = state.health.borrow().clone();
    let mut body = state.metrics.render(state.cp.pool(), &snapshot);
    // Under `switchyard dev`, the in-process worker's job metrics.
    if let Some(extra) = &state.extra_metrics {
        crate::probes::append_metrics(&mut body, &extra());
    }
    ([(header::CONTENT_TYPE, OPENMETRICS)], body)
}
