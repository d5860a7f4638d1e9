//! Optimistic concurrency (DESIGN.md §6): single resources carry `ETag: "<version>"`, and
//! `If-Match` on PATCH/PUT must name the current version or the change is refused with 412.

use axum::{extract::FromRequestParts, http::request::Parts};
use http::{HeaderValue, header};
use switchyard_domain::Error;

use crate::ApiError;

/// The version an `If-Match` header asks for; `None` when absent or `*`.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let value = value.to_str().unwrap_or_default().trim();
        if value == "*" {
            return Ok(Self(None));
        }
        // A tag we never issued cannot match the current version.
        let version = value
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse()
            .map_err(|_| Error::PreconditionFailed)?;
        Ok(Self(Some(version)))
    }
}

/// The `ETag` of a resource at `version`.
pub fn etag(version: i64) -> (header::HeaderName, HeaderValue) {
    let value = HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    (header::ETAG, value)
}
