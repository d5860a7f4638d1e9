//! The caller: a bearer token from `Authorization: Bearer …` (or `?token=` on WebSocket upgrade
//! requests only, where browsers cannot set headers), resolved by `ControlPlane::authenticate`.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};
use http::header;
use switchyard_core::{Origin, Principal};
use switchyard_domain::Error;

use crate::{ApiError, ApiState, client_ip::client_ip, middleware::RequestId};

const MISSING: &str = "Authorization required (header or token query param)";

/// An authenticated caller. Add it to a handler's arguments to require a valid token.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// A caller the idempotency middleware already authenticated; `Caller` takes it instead of
/// verifying the token a second time.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub(crate) Principal);

/// The bearer token of a request, if it carries one.
pub(crate) fn bearer(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
            .then(|| token.trim().to_owned());
    }
    let websocket = parts
        .headers
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if !websocket {
        return None;
    }
    form_urlencoded::parse(parts.uri.query()?.as_bytes())
        .find(|(key, value)| key == "token" && !value.is_empty())
        .map(|(_, value)| value.into_owned())
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let mut principal = match parts.extensions.get::<Authenticated>() {
            Some(Authenticated(principal)) => principal.clone(),
            None => {
                let token = bearer(parts).ok_or(Error::unauthenticated(MISSING))?;
                state.cp.authenticate(&token).await?
            }
        };
        let who = principal.user_id.to_string();
        state
            .cp
            .rate_limit(&switchyard_core::rate_limit::PRINCIPAL, &who)
            .await?;
        principal.origin = origin(parts, state);
        Ok(Self(principal))
    }
}

/// Where the request came from, for the audit log.
fn origin(parts: &Parts, state: &ApiState) -> Origin {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(512).collect());
    Origin {
        request_id: parts
            .extensions
            .get::<RequestId>()
            .map(|id| id.as_str().to_owned()),
        ip: Some(client_ip(peer, &parts.headers, &state.config.trusted_proxies).to_string()),
        user_agent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::get(uri);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn bearer_header_is_read() {
        assert_eq!(
            bearer(&parts("/", &[("authorization", "Bearer abc")])).as_deref(),
            Some("abc")
        );
        assert_eq!(
            bearer(&parts("/", &[("authorization", "bearer abc")])).as_deref(),
            Some("abc")
        );
        assert_eq!(bearer(&parts("/", &[("authorization", "Basic abc")])), None);
        assert_eq!(bearer(&parts("/", &[("authorization", "Bearer ")])), None);
    }

    #[test]
    fn query_token_only_on_websocket_upgrades() {
        assert_eq!(bearer(&parts("/x?token=abc", &[])), None);
        assert_eq!(
            bearer(&parts("/x?a=1&token=abc", &[("upgrade", "websocket")])).as_deref(),
            Some("abc")
        );
        assert_eq!(
            bearer(&parts(
                "/x?token=a%2Bb%3D&lines=5",
                &[("upgrade", "websocket")]
            ))
            .as_deref(),
            Some("a+b="),
            "percent-encoded as URLSearchParams sends it"
        );
        assert_eq!(
            bearer(&parts("/x?token=", &[("upgrade", "websocket")])),
            None
        );
    }
}
