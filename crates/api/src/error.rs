//! The one error body (DESIGN.md §6) and the one place a domain error becomes an HTTP status.
//!
//! `ApiError::into_response` has no side effects: it stores the `Problem` and the error in the
//! response extensions, and `middleware::problem` adds the request id, writes the body and logs
//! the error once, inside the request span.

use std::sync::Arc;

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use switchyard_domain::Error;
use utoipa::ToSchema;

pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// A field-level validation problem.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every non-2xx body: readable by the CLI (`error`), the UI (`message`) and RFC 9457 clients.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Human-readable message (what the CLI prints).
    pub error: String,
    /// The same message (what the UI shows).
    pub message: String,
    /// Stable machine-readable code, e.g. `not_found`.
    pub code: String,
    /// The HTTP status.
    pub status: u16,
    /// The status's reason phrase.
    pub title: String,
    /// The same message (RFC 9457).
    pub detail: String,
    /// The `X-Request-Id` of this request, to quote when reporting a problem.
    pub request_id: String,
    /// Field problems of a 400.
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            error: message.clone(),
            message: message.clone(),
            code: code.to_owned(),
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            detail: message,
            request_id: String::new(),
            errors: Vec::new(),
        }
    }

    /// The problem for a response that left a layer without one (404 from routing, 405, 413,
    /// a timeout, a panic).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "not found"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method_not_allowed", "method not allowed for this route")
            }
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body is too large"),
            StatusCode::GATEWAY_TIMEOUT => {
                ("timeout", "the request took too long and was abandoned")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported_media_type", "unsupported content type")
            }
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "service unavailable"),
            s if s.is_server_error() => ("internal", "an internal error occurred"),
            _ => (
                "error",
                status.canonical_reason().unwrap_or("request failed"),
            ),
        };
        Self::new(status, code, message)
    }

    pub(crate) fn into_response_with(self, status: StatusCode) -> Response {
        let mut response = (status, Json(self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// An error leaving a handler or extractor.
#[derive(Debug)]
pub enum ApiError {
    Domain(Error),
    /// A framework rejection (bad JSON, bad path parameter) with its own status and text.
    Rejected {
        status: StatusCode,
        message: String,
    },
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self::Domain(e)
    }
}

/// The error carried to the logging middleware; `Arc` because extensions must be `Clone`.
#[derive(Clone)]
pub(crate) struct LoggedError(pub(crate) Arc<Error>);

pub(crate) fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::InvalidInput { .. } => StatusCode::BAD_REQUEST,
        Error::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
        Error::Forbidden => StatusCode::FORBIDDEN,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::AlreadyExists { .. } | Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        Error::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Rejected { status, message } => {
                let code = Problem::for_status(status).code;
                let problem = Problem::new(status, &code, message);
                let mut response = problem.clone().into_response_with(status);
                response.extensions_mut().insert(problem);
                response
            }
            Self::Domain(e) => {
                let status = status_of(&e);
                let mut problem = Problem::new(status, e.code(), e.public_message());
                if let Error::InvalidInput {
                    field: Some(field),
                    message,
                } = &e
                {
                    problem.errors.push(FieldError {
                        field: field.clone(),
                        message: message.clone(),
                    });
                }
                if matches!(e, Error::IdempotencyKeyReused) {
                    problem.errors.push(FieldError {
                        field: "Idempotency-Key".to_owned(),
                        message: e.to_string(),
                    });
                }
                let mut response = problem.clone().into_response_with(status);
                let headers = response.headers_mut();
                match &e {
                    Error::Unauthenticated { .. } => {
                        headers
                            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                    }
                    Error::RateLimited { retry_after_secs } => {
                        headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
                    }
                    _ => {}
                }
                response.extensions_mut().insert(problem);
                response.extensions_mut().insert(LoggedError(Arc::new(e)));
                response
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_domain::ResourceKind;

    #[test]
    fn every_domain_error_has_its_status() {
        let cases = [
            (Error::invalid("name", "too long"), 400),
            (Error::unauthenticated("no token"), 401),
            (Error::Forbidden, 403),
            (Error::not_found(ResourceKind::User, "x"), 404),
            (
                Error::AlreadyExists {
                    kind: ResourceKind::User,
                    name: "x".into(),
                },
                409,
            ),
            (
                Error::Conflict {
                    message: "busy".into(),
                },
                409,
            ),
            (Error::PreconditionFailed, 412),
            (Error::IdempotencyKeyReused, 422),
            (
                Error::RateLimited {
                    retry_after_secs: 3,
                },
                429,
            ),
            (
                Error::unavailable("db down", std::io::Error::other("x")),
                503,
            ),
            (Error::internal("x", std::io::Error::other("x")), 500),
        ];
        for (error, status) in cases {
            assert_eq!(status_of(&error).as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn invalid_input_lists_the_field() {
        let response = ApiError::from(Error::invalid("name", "must not be empty")).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let problem = response.extensions().get::<Problem>().cloned().unwrap();
        assert_eq!(
            problem.errors,
            vec![FieldError {
                field: "name".into(),
                message: "must not be empty".into()
            }]
        );
        assert_eq!(problem.code, "invalid_input");
    }

    #[test]
    fn rate_limited_and_unauthenticated_carry_their_headers() {
        let response = ApiError::from(Error::RateLimited {
            retry_after_secs: 7,
        })
        .into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        let response = ApiError::from(Error::unauthenticated("no token")).into_response();
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
