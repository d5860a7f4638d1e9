//! `POST /v1/callbacks/build-complete`: Roundhouse's build result, authenticated by signature
//! (or the shared key as a bearer); the raw body is what is signed.

use axum::{body::Bytes, extract::State};
use http::HeaderMap;
use switchyard_auth::callback::CallbackCredentials;

use super::dto::CallbackProcessed;
use crate::{ApiError, ApiState, Problem, extract::Json};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A build finished. Signed with `X-Enclii-Timestamp` and `X-Enclii-Signature: sha256=<hex
/// HMAC-SHA256(ENCLII_ROUNDHOUSE_API_KEY, "<timestamp>.<body>")>`, or `Authorization: Bearer
/// <ENCLII_ROUNDHOUSE_API_KEY>`. Only `building → ready|failed` happens, once.
#[utoipa::path(post, path = "/v1/callbacks/build-complete", tag = "builds",
    request_body(content = Object, description = "`{job_id, release_id, success, image_uri, image_digest, image_size_mb, sbom, sbom_format, image_signature, duration_secs, error_message, logs_url}`"),
    params(
        ("X-Enclii-Timestamp" = Option<String>, Header, description = "Unix seconds, within 300 s"),
        ("X-Enclii-Signature" = Option<String>, Header, description = "sha256=<hex HMAC>"),
    ),
    responses(
        (status = 200, description = "Applied, or a replay of the same result (`duplicate`)", body = CallbackProcessed),
        (status = 400, description = "Not a build result", body = Problem),
        (status = 401, description = "Bad or missing signature/key, or a stale timestamp", body = Problem),
        (status = 404, description = "No such release", body = Problem),
        (status = 409, description = "The release already has the other result, or another job", body = Problem),
        (status = 503, description = "ENCLII_ROUNDHOUSE_API_KEY is not set", body = Problem),
    ))]
pub(crate) async fn build_complete(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CallbackProcessed>, ApiError> {
    let credentials = CallbackCredentials {
        authorization: header(&headers, "authorization"),
        timestamp: header(&headers, "x-enclii-timestamp"),
        signature: header(&headers, "x-enclii-signature"),
    };
    let outcome = state.cp.build_completed(credentials, &body).await?;
    Ok(Json(outcome.into()))
}
