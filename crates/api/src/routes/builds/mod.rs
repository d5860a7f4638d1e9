//! Builds and releases: `POST /v1/services/:id/build`, release lists, SBOMs, build status, and
//! Roundhouse's callback.

pub(crate) mod callbacks;
pub(crate) mod dto;
pub(crate) mod handlers;
pub(crate) mod status;
