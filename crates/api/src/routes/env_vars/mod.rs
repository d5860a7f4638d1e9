//! `/v1/services/:id/env-vars[/bulk]` and `/v1/services/:id/env-vars/:var_id[/reveal]`.

pub(crate) mod dto;
pub(crate) mod handlers;
