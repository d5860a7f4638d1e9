//! The HTTP API: axum router, middleware stack, extractors, the error body, health and metrics
//! endpoints, and the OpenAPI document. Only this crate uses axum.

mod client_ip;
mod config;
mod error;
pub mod extract;
pub mod health;
mod metrics;
mod middleware;
mod openapi;
mod probes;
mod routes;
mod state;

pub use client_ip::IpNet;
pub use config::{BrowserLoginConfig, HttpConfig, RedirectMode};
pub use error::{ApiError, Problem};
pub use health::{HealthMonitor, HealthProbes, HealthSnapshot};
pub use metrics::Metrics;
pub use probes::{MetricsSource, ReadyCheck, serve_probes};
pub use state::ApiState;

/// The full router: every route, wrapped in the middleware stack.
pub fn router(state: ApiState) -> axum::Router {
    let (router, doc) = routes::routes().split_for_parts();
    let creating = middleware::CreatingRoutes(std::sync::Arc::new(openapi::creating_routes(doc)));
    middleware::stack(router.with_state(state.clone()), &state, creating)
}

/// The OpenAPI 3.1 document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes::routes().into_openapi();
    utoipa::Modify::modify(&openapi::IdempotencyKey, &mut doc);
    doc
}

/// Serves the API on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
