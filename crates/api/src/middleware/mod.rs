//! Every tower layer, in order, in one place.

mod idempotency;
mod observe;
mod problem;
mod rate_limit;
mod request_id;

use std::time::Duration;

use axum::{Router, middleware::from_fn, middleware::from_fn_with_state};
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower_http::{
    catch_panic::CatchPanicLayer, cors::CorsLayer, limit::RequestBodyLimitLayer,
    set_header::SetResponseHeaderLayer, timeout::TimeoutLayer,
};

pub(crate) use idempotency::{CreatingRoutes, NoReplay};
pub(crate) use problem::KeepBody;
pub(crate) use request_id::RequestId;

use crate::ApiState;

/// Wraps `router` in the stack. Listed outermost first; a request passes them top to bottom:
/// request id → span, metrics and access log → error body → rate limits → CORS → security headers → timeout
/// → body limit → idempotency keys (of `creating` routes) → panic catcher → route.
pub(crate) fn stack(router: Router, state: &ApiState, creating: CreatingRoutes) -> Router {
    let config = &state.config;
    router
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(from_fn_with_state(
            idempotency::Idempotency::new(state, creating),
            idempotency::idempotency,
        ))
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            config.request_timeout,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            config
                .hsts
                .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        ))
        .layer(cors(&config.allowed_origins))
        .layer(from_fn_with_state(state.clone(), rate_limit::rate_limit))
        .layer(from_fn(problem::finish))
        .layer(from_fn_with_state(state.metrics.clone(), observe::observe))
        .layer(from_fn(request_id::request_id))
}

fn cors(origins: &[HeaderValue]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(origins.to_vec())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("x-requested-with"),
            HeaderName::from_static("x-idp-token"),
            HeaderName::from_static("x-csrf-token"),
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
        ])
        .allow_credentials(true)
        .max_age(Duration::from_secs(86_400))
}

#[cfg(test)]
mod tests;
