//! The worker's HTTP listener (`switchyard worker`): `/health/live`, `/health/ready` and
//! `/metrics`, so the kubelet can probe it and Prometheus can scrape it. The API serves the same
//! routes itself.

use std::sync::Arc;

use axum::{Router, response::IntoResponse, routing::get};
use http::header;

/// Renders a process's metrics in the OpenMetrics text format (ending in `# EOF`).
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

/// Whether the process can do its work now; the error names what it cannot reach.
pub type ReadyCheck =
    Arc<dyn Fn() -> futures::future::BoxFuture<'static, Result<(), String>> + Send + Sync>;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `/health/live` (`{"status":"ok"}`), `/health/ready` (`{"status":"ready"}`, or 503
/// `{"status":"not_ready","error":…}` when `ready` fails) and `/metrics` (from `metrics`) on
/// `listener` until `shutdown` resolves.
pub async fn serve_probes(
    listener: tokio::net::TcpListener,
    metrics: MetricsSource,
    ready: ReadyCheck,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route(
            "/health/live",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .route(
            "/health/ready",
            get(move || {
                let check = ready();
                async move {
                    match check.await {
                        Ok(()) => (
                            http::StatusCode::OK,
                            axum::Json(serde_json::json!({"status": "ready"})),
                        ),
                        Err(error) => (
                            http::StatusCode::SERVICE_UNAVAILABLE,
                            axum::Json(serde_json::json!({"status": "not_ready", "error": error})),
                        ),
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let body = metrics();
                async move { ([(header::CONTENT_TYPE, OPENMETRICS)], body).into_response() }
            }),
        );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Appends the OpenMetrics text `extra` to `body` (both end in `# EOF`), keeping one `# EOF`.
pub(crate) fn append_metrics(body: &mut String, extra: &str) {
    if let Some(stripped) = body.strip_suffix("# EOF\n") {
        body.truncate(stripped.len());
    }
    body.push_str(extra);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_metrics_keep_one_eof() {
        let mut body = "# HELP a A.\n# TYPE a counter\na_total 1\n# EOF\n".to_owned();
        append_metrics(&mut body, "# HELP b B.\n# TYPE b gauge\nb 2\n# EOF\n");
        assert_eq!(
            body,
            "# HELP a A.\n# TYPE a counter\na_total 1\n# HELP b B.\n# TYPE b gauge\nb 2\n# EOF\n"
        );
    }
}
