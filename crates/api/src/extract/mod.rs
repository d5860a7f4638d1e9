//! Extractors: `Caller` (the authenticated principal), `Upgrade` and `AllowedOrigin` (of
//! WebSocket routes), and `Json`, `Path`, `Query` whose rejections use the error body, so a malformed body or parameter gets a problem+json 4xx, never axum's
//! plain-text rejection.

mod etag;
mod principal;
mod websocket;

pub use etag::{IfMatch, etag};
pub use principal::Caller;
pub(crate) use principal::{Authenticated, bearer};
pub(crate) use websocket::{AllowedOrigin, Upgrade};

use axum::extract::{
    FromRequest, FromRequestParts,
    rejection::{JsonRejection, PathRejection, QueryRejection},
    ws::rejection::WebSocketUpgradeRejection,
};

use crate::error::ApiError;

/// `axum::Json` with problem+json rejections.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// `axum::extract::Path` with problem+json rejections.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` with problem+json rejections.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        Self::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}

impl From<WebSocketUpgradeRejection> for ApiError {
    fn from(r: WebSocketUpgradeRejection) -> Self {
        Self::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}
