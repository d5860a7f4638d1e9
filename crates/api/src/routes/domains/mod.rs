//! `/v1/services/:id/domains[/:domain_id[/verify]]`, `/v1/domains` and `/v1/domains/stats`.

pub(crate) mod dto;
pub(crate) mod handlers;
pub(crate) mod lists;
