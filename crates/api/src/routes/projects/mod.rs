//! `/v1/projects` and their environments, plus `/v1/environments`.

pub(crate) mod dto;
pub(crate) mod environments;
pub(crate) mod handlers;
