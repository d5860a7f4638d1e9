//! Deployments: a release placed in an environment; deploy, lists, status, rollback.

pub(crate) mod dto;
pub(crate) mod handlers;
