//! Per-client-IP limits on the sign-in routes, with `X-RateLimit-*` headers; the table of which
//! route has which limit is here. (The per-principal limit is applied by the `Caller` extractor.)

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, Method};
use switchyard_core::rate_limit::{BROWSER_SIGN_IN, RateLimit, RateState, SESSION, SIGN_IN};

use crate::{ApiError, ApiState, client_ip::client_ip};

/// Which routes are limited per client IP, and how.
fn limit_for(method: &Method, route: &str) -> Option<&'static RateLimit> {
    match (method, route) {
        (&Method::GET, "/v1/auth/login" | "/v1/auth/callback") => Some(&BROWSER_SIGN_IN),
        (_, "/v1/auth/register" | "/v1/auth/login") => Some(&SIGN_IN),
        (_, "/v1/auth/refresh" | "/v1/auth/logout") => Some(&SESSION),
        _ => None,
    }
}

fn set_headers(headers: &mut HeaderMap, state: &RateState) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(state.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(state.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(state.reset_at));
}

pub(crate) async fn rate_limit(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(limit) = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| limit_for(request.method(), p.as_str()))
    else {
        return next.run(request).await;
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    let ip = client_ip(peer, request.headers(), &state.config.trusted_proxies);
    match state.cp.rate_limit(limit, &ip.to_string()).await {
        Ok(rate) => {
            let mut response = next.run(request).await;
            set_headers(response.headers_mut(), &rate);
            response
        }
        Err(e) => {
            let retry_after = match &e {
                switchyard_domain::Error::RateLimited { retry_after_secs } => *retry_after_secs,
                _ => 0,
            };
            let mut response = ApiError::from(e).into_response();
            let exhausted = RateState {
                limit: limit.limit,
                remaining: 0,
                reset_at: time::OffsetDateTime::now_utc().unix_timestamp()
                    + i64::try_from(retry_after).unwrap_or(0),
            };
            set_headers(response.headers_mut(), &exhausted);
            response
        }
    }
}
