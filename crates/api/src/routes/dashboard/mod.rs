//! `GET /v1/dashboard/stats`.

pub(crate) mod handlers;
