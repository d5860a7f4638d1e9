//! `/v1/user/tokens`: the caller's API tokens.

pub(crate) mod dto;
pub(crate) mod handlers;
