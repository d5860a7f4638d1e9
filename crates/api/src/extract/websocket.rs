//! The extractors of WebSocket routes. `Upgrade`: axum's upgrade with problem+json refusals.
//! `AllowedOrigin`: a WebSocket upgrade from a browser page must come from an allowed origin
//! (`HttpConfig::websocket_origins`), else 403 before the upgrade, so a page elsewhere cannot
//! read logs with a token it holds. CORS does not cover WebSockets, hence this check. An upgrade
//! without `Origin` is not from a browser (the CLI sends none) and is allowed; it still needs a
//! token.

use axum::{
    extract::{FromRequestParts, ws::WebSocketUpgrade},
    http::request::Parts,
};
use http::{HeaderValue, StatusCode, header};

use crate::{ApiError, ApiState};

/// A WebSocket upgrade request; anything else is refused with its status (400, 405, 426).
#[derive(Debug)]
pub(crate) struct Upgrade(pub(crate) WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(Self)
            .map_err(ApiError::from)
    }
}

/// The request's `Origin`, if any, is allowed to open WebSockets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AllowedOrigin;

impl FromRequestParts<ApiState> for AllowedOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        check(
            parts.headers.get(header::ORIGIN),
            state.config.websocket_origins(),
        )
        .map(|()| Self)
    }
}

fn check(origin: Option<&HeaderValue>, allowed: &[HeaderValue]) -> Result<(), ApiError> {
    let Some(origin) = origin else {
        return Ok(());
    };
    if allowed
        .iter()
        .any(|a| a.as_bytes().eq_ignore_ascii_case(origin.as_bytes()))
    {
        return Ok(());
    }
    Err(ApiError::Rejected {
        status: StatusCode::FORBIDDEN,
        message: format!(
            "WebSocket connections from origin {} are not allowed: list it in \
             ENCLII_WEBSOCKET_ALLOWED_ORIGINS",
            String::from_utf8_lossy(origin.as_bytes())
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<HeaderValue> {
        vec![HeaderValue::from_static("https://app.enclii.dev")]
    }

    fn status(origin: Option<&'static str>) -> Option<StatusCode> {
        match check(origin.map(HeaderValue::from_static).as_ref(), &allowed()) {
            Ok(()) => None,
            Err(ApiError::Rejected { status, .. }) => Some(status),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_origin_is_allowed_and_others_must_be_listed() {
        assert_eq!(status(None), None, "the CLI sends no Origin");
        assert_eq!(status(Some("https://app.enclii.dev")), None);
        assert_eq!(status(Some("HTTPS://APP.ENCLII.DEV")), None);
        for bad in [
            "https://evil.example",
            "https://app.enclii.dev.evil.example",
            "http://app.enclii.dev",
            "null",
            "",
        ] {
            assert_eq!(status(Some(bad)), Some(StatusCode::FORBIDDEN), "{bad}");
        }
    }
}
