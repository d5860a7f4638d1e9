//! `/v1/activity`: the audit log of what the caller can see.

pub(crate) mod dto;
pub(crate) mod handlers;
