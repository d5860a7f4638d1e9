//! `/v1/projects/:slug/services[/bulk]` and `/v1/services/:id[/settings]`.

pub(crate) mod dto;
pub(crate) mod handlers;
