//! Makes every non-2xx response an error body with the request id, and logs the error once.

use std::any::Any;

use axum::{extract::Request, middleware::Next, response::Response};
use http::{StatusCode, header};

use super::RequestId;
use crate::error::{LoggedError, PROBLEM_JSON, Problem};

/// Marks a non-2xx response whose body is a document clients parse as it is (the `/health`
/// report, which the CLI and the tunnel read even when it says "unhealthy"; the bulk service
/// creation's `details`, which the UI reads).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeepBody;

/// Runs the rest of the stack; a response of 400 or more leaves with the `Problem` body.
pub(crate) async fn finish(request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    let response = next.run(request).await;
    let status = response.status();
    if status.as_u16() < 400 || response.extensions().get::<KeepBody>().is_some() {
        return response;
    }
    if let Some(LoggedError(error)) = response.extensions().get::<LoggedError>() {
        log(error, status);
    }
    let already_shaped = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    let mut problem = match response.extensions().get::<Problem>() {
        Some(problem) if already_shaped => problem.clone(),
        _ => Problem::for_status(status),
    };
    problem.request_id = request_id;
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let shaped = problem.into_response_with(status);
    let (shaped_parts, body) = shaped.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        shaped_parts.headers[header::CONTENT_TYPE].clone(),
    );
    Response::from_parts(parts, body)
}

/// Once per failed request, inside its span: a 500 is an error with its cause chain, a 503 (a
/// dependency is down; the health monitor reports the transition too) a warning, a refusal info.
fn log(error: &switchyard_domain::Error, status: StatusCode) {
    let code = status.as_u16();
    if matches!(error, switchyard_domain::Error::Unavailable { .. }) {
        tracing::warn!(http.status = code, "request failed: {}", chain(error));
    } else if status.is_server_error() {
        tracing::error!(
            error = error as &dyn std::error::Error,
            http.status = code,
            "request failed: {}",
            chain(error)
        );
    } else {
        tracing::info!(http.status = code, "request refused: {error}");
    }
}

fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// A panicking handler becomes a plain 500; `finish` gives it the body. The panic text goes to
/// the log only.
pub(crate) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %text, "handler panicked");
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
