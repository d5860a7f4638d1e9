//! `X-Request-Id`: accepted from the caller when well-formed, generated (UUID v7) otherwise,
//! stored in the request extensions and echoed on the response.

use axum::{extract::Request, middleware::Next, response::Response};
use http::{HeaderName, HeaderValue};

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id of the current request.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) HeaderValue);

impl RequestId {
    pub(crate) fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

/// 1–128 characters of `[A-Za-z0-9._:-]`: enough for UUIDs, ULIDs and trace ids, nothing that
/// could forge a log line or a header.
fn well_formed(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=128).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
}

pub(crate) async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&X_REQUEST_ID)
        .filter(|v| well_formed(v))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::try_from(uuid::Uuid::now_v7().to_string())
                .unwrap_or(HeaderValue::from_static("unknown"))
        });
    request.headers_mut().insert(X_REQUEST_ID, id.clone());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    response.headers_mut().insert(X_REQUEST_ID, id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ids_and_rejects_injection() {
        for ok in ["abc", "0190c8a2-7b7e-7c4e-9d3c-6b1f0a2b3c4d", "trace:1.2_3"] {
            assert!(well_formed(&HeaderValue::from_static(ok)), "{ok}");
        }
        let long = "a".repeat(129);
        for bad in ["", "a b", "x\"y", "id;drop", long.as_str()] {
            assert!(!well_formed(&HeaderValue::try_from(bad).unwrap()), "{bad}");
        }
    }
}
