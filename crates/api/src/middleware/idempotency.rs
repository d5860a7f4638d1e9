//! `Idempotency-Key` on every `POST` that creates (DESIGN.md §6): a retry with the same key gets
//! the first response again (`Idempotent-Replayed: true`) instead of creating twice.
//!
//! Which routes: every `POST` the OpenAPI document says needs a bearer and answers 201, so a new
//! creating route is covered by its `#[utoipa::path]` alone. Keys are per caller (the SHA-256 of the bearer token;
//! without a bearer the request just runs) and kept 24 h (`IDEMPOTENCY_TTL`). Only successes
//! (2xx) are kept: every refusal or failure frees the key, because a refused request changed
//! nothing and its retry — possibly corrected — may run. A success whose handler marks it
//! `NoReplay` (it shows a secret once) keeps its status only; its replay is a 409.

use std::{collections::HashSet, sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use sha2::{Digest, Sha256};
use switchyard_core::{Claim, ControlPlane, IdempotentRequest, KeptResponse, Outcome};
use switchyard_domain::Error;

use crate::{ApiError, ApiState, extract::Authenticated};

pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub(crate) const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The headers of a kept response that a replay repeats; the others describe the first answer
/// only (its date, its request id, rate-limit counters).
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// How much longer than the request timeout a `pending` key may stay claimed: the time to store
/// the response. A request cannot run longer, so a claim older than that was abandoned (a crash).
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// Set on a success whose body holds a secret shown once (a new API token, an invitation token):
/// the key is still checked for reuse and in-progress, but the body is not kept,
/// and a replay is a 409 saying it cannot be shown again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoReplay;

/// The route templates (`/v1/projects/{slug}/services`) that take `Idempotency-Key`.
#[derive(Debug, Clone, Default)]
pub(crate) struct CreatingRoutes(pub(crate) Arc<HashSet<String>>);

/// What the middleware needs.
#[derive(Clone)]
pub(crate) struct Idempotency {
    cp: ControlPlane,
    routes: CreatingRoutes,
    lease: Duration,
}

impl Idempotency {
    pub(crate) fn new(state: &ApiState, routes: CreatingRoutes) -> Self {
        Self {
            cp: state.cp.clone(),
            routes,
            lease: state.config.request_timeout + LEASE_MARGIN,
        }
    }
}

/// A valid key: 1–255 visible ASCII characters. `None` when the header is absent.
fn parse_key(headers: &HeaderMap) -> Result<Option<String>, Error> {
    let mut values = headers.get_all(&IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if values.next().is_some()
        || !(1..=255).contains(&bytes.len())
        || !bytes.iter().all(u8::is_ascii_graphic)
    {
        return Err(Error::invalid(
            "Idempotency-Key",
            "Idempotency-Key must be one value of 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex_lower(&hasher.finalize())
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Method, path (with query) and body; a newline cannot occur in the first two, so different
/// requests never hash alike by shifting bytes between fields.
fn request_hash(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    sha256_hex(&[
        method.as_str().as_bytes(),
        b"\n",
        path_and_query.as_bytes(),
        b"\n",
        body,
    ])
}

/// Whether a response is kept for replays: successes only (see the module comment).
fn kept(status: StatusCode) -> bool {
    status.is_success()
}

fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect()
}

fn replay(kept: KeptResponse) -> Response {
    let Ok(status) = StatusCode::from_u16(kept.status) else {
        return ApiError::from(Error::Internal {
            context: format!("replaying a kept response with status {}", kept.status),
            source: None,
        })
        .into_response();
    };
    let mut response = Response::new(Body::from(kept.body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in kept.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name),
            HeaderValue::try_from(value.as_str()),
        ) {
            headers.insert(name, value);
        }
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Frees the key if the request is abandoned while its handler runs (the timeout, or the client
/// hung up): an unfinished transaction is rolled back with it, so a retry must be able to run.
/// (Abandoned between its commit and its response, a request's retry runs again; the lease
/// cannot close that window without knowing whether the handler committed.)
struct ReleaseOnDrop(Option<(ControlPlane, IdempotentRequest)>);

impl ReleaseOnDrop {
    fn disarm(mut self) -> Option<(ControlPlane, IdempotentRequest)> {
        self.0.take()
    }
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if let Some((cp, request)) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move { finish(&cp, &request, Outcome::Release).await });
        }
    }
}

async fn finish(cp: &ControlPlane, request: &IdempotentRequest, outcome: Outcome) {
    if let Err(e) = cp.idempotency_complete(request, outcome).await {
        // The key stays `pending` until its lease ends: retries meanwhile get a 409, none runs twice.
        tracing::warn!(
            error = &e as &dyn std::error::Error,
            idempotency.key = %request.key,
            "could not record the outcome of idempotency key {}",
            request.key
        );
    }
}

/// Replays, refuses or runs a `POST` to a creating route that carries `Idempotency-Key`.
pub(crate) async fn idempotency(
    State(idem): State<Idempotency>,
    request: Request,
    next: Next,
) -> Response {
    let creating = request.method() == Method::POST
        && request
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|path| idem.routes.0.contains(path.as_str()));
    if !creating || !request.headers().contains_key(&IDEMPOTENCY_KEY) {
        return next.run(request).await;
    }
    match prepare(&idem, request).await {
        Ok(Prepared::Run(request, claim)) => run(&idem, request, claim, next).await,
        Ok(Prepared::Anonymous(request)) => next.run(request).await,
        Ok(Prepared::Answer(response)) => response,
        Err(e) => e.into_response(),
    }
}

enum Prepared {
    /// The key is claimed: run the request, then record its outcome.
    Run(Request, IdempotentRequest),
    /// No bearer: nothing to scope the key to, so the request just runs.
    Anonymous(Request),
    /// A replay of the first response.
    Answer(Response),
}

/// Validates the key, authenticates the caller (a revoked token gets no replay), reads the body
/// (within the body limit) to hash it, and claims the key.
async fn prepare(idem: &Idempotency, request: Request) -> Result<Prepared, ApiError> {
    let key = parse_key(request.headers())?;
    let (mut parts, body) = request.into_parts();
    let (Some(key), Some(token)) = (key, crate::extract::bearer(&parts)) else {
        return Ok(Prepared::Anonymous(Request::from_parts(parts, body)));
    };
    let principal = idem.cp.authenticate(&token).await?;
    parts.extensions.insert(Authenticated(principal));
    let bytes = Bytes::from_request(Request::new(body), &())
        .await
        .map_err(|r| ApiError::Rejected {
            status: r.status(),
            message: r.body_text(),
        })?;
    let path_and_query = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let claim = IdempotentRequest {
        scope: sha256_hex(&[token.as_bytes()]),
        key,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        request_hash: request_hash(&parts.method, path_and_query, &bytes),
    };
    match idem.cp.idempotency_claim(&claim, idem.lease).await? {
        Claim::Replay(kept) => Ok(Prepared::Answer(replay(kept))),
        Claim::Run => Ok(Prepared::Run(
            Request::from_parts(parts, Body::from(bytes)),
            claim,
        )),
    }
}

async fn run(
    idem: &Idempotency,
    request: Request,
    claim: IdempotentRequest,
    next: Next,
) -> Response {
    let guard = ReleaseOnDrop(Some((idem.cp.clone(), claim)));
    let response = next.run(request).await;
    let Some((cp, claim)) = guard.disarm() else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let (outcome, body) = if !kept(parts.status) {
        (Outcome::Release, body)
    } else if parts.extensions.get::<NoReplay>().is_some() {
        let status = parts.status.as_u16();
        (Outcome::Withhold { status }, body)
    } else {
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => {
                let kept = KeptResponse {
                    status: parts.status.as_u16(),
                    headers: kept_headers(&parts.headers),
                    body: bytes.to_vec(),
                };
                (Outcome::Keep(kept), Body::from(bytes))
            }
            Err(e) => {
                finish(&cp, &claim, Outcome::Release).await;
                return ApiError::from(Error::internal("reading a response to keep it", e))
                    .into_response();
            }
        }
    };
    // Recorded in its own task, so a client hanging up now cannot leave the key half-written.
    let recorded = tokio::spawn(async move { finish(&cp, &claim, outcome).await });
    if let Err(e) = recorded.await {
        tracing::error!(
            error = &e as &dyn std::error::Error,
            "recording an idempotency key failed"
        );
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(IDEMPOTENCY_KEY, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn keys_are_one_value_of_1_to_255_visible_ascii_characters() {
        assert_eq!(parse_key(&headers(&[])).unwrap(), None);
        let longest = "k".repeat(255);
        for ok in [
            "a",
            "0190c8a2-7b7e-7c4e-9d3c-6b1f0a2b3c4d",
            "!~{}",
            longest.as_str(),
        ] {
            assert_eq!(
                parse_key(&headers(&[ok.as_bytes()])).unwrap().as_deref(),
                Some(ok)
            );
        }
        let too_long = "k".repeat(256);
        for bad in [
            &b""[..],
            b"two words",
            b"tab\there",
            "caf\u{e9}".as_bytes(),
            too_long.as_bytes(),
        ] {
            let error = parse_key(&headers(&[bad])).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidInput { field: Some(f), .. } if f == "Idempotency-Key"),
                "{bad:?}: {error:?}"
            );
        }
        assert!(parse_key(&headers(&[b"a", b"b"])).is_err(), "two values");
    }

    #[test]
    fn only_successes_are_kept() {
        for status in [200, 201, 202, 207] {
            assert!(kept(StatusCode::from_u16(status).unwrap()), "{status}");
        }
        for status in [
            400, 401, 403, 404, 409, 412, 413, 422, 429, 500, 502, 503, 504,
        ] {
            assert!(!kept(StatusCode::from_u16(status).unwrap()), "{status}");
        }
    }

    #[test]
    fn the_hash_covers_method_path_and_body_without_ambiguity() {
        let base = request_hash(&Method::POST, "/v1/projects", b"{}");
        assert_eq!(base.len(), 64);
        assert_eq!(base, request_hash(&Method::POST, "/v1/projects", b"{}"));
        for other in [
            request_hash(&Method::PUT, "/v1/projects", b"{}"),
            request_hash(&Method::POST, "/v1/teams", b"{}"),
            request_hash(&Method::POST, "/v1/projects?x=1", b"{}"),
            request_hash(&Method::POST, "/v1/projects", b"{ }"),
            request_hash(&Method::POST, "/v1/project", b"s{}"),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn a_replay_repeats_the_kept_headers_and_says_it_is_one() {
        let mut first = HeaderMap::new();
        first.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        first.insert(header::ETAG, HeaderValue::from_static("\"1\""));
        first.insert("x-request-id", HeaderValue::from_static("first"));
        first.insert("x-ratelimit-remaining", HeaderValue::from_static("9"));
        let kept = kept_headers(&first);
        assert_eq!(
            kept,
            [
                ("content-type".to_owned(), "application/json".to_owned()),
                ("etag".to_owned(), "\"1\"".to_owned()),
            ]
        );
        let response = replay(KeptResponse {
            status: 201,
            headers: kept,
            body: b"{}".to_vec(),
        });
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[IDEMPOTENT_REPLAYED], "true");
        assert_eq!(response.headers()[header::ETAG], "\"1\"");
        assert!(response.headers().get("x-request-id").is_none());
    }

    #[test]
    fn every_creating_post_takes_the_key_and_nothing_else_does() {
        let routes = crate::openapi::creating_routes(crate::routes::routes().into_openapi());
        for path in [
            "/v1/projects",
            "/v1/projects/{slug}/environments",
            "/v1/projects/{slug}/services",
            "/v1/projects/{slug}/services/bulk",
            "/v1/teams",
            "/v1/teams/{slug}/invitations",
            "/v1/user/tokens",
        ] {
            assert!(routes.contains(path), "{path}");
        }
        // Sign-up answers 201 but has no bearer to scope a key to; the others answer 200.
        for path in [
            "/v1/auth/register",
            "/v1/auth/login",
            "/v1/auth/refresh",
            "/v1/invitations/{token}/accept",
        ] {
            assert!(!routes.contains(path), "{path}");
        }
    }
}
