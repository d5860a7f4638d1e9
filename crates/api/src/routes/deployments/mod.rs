//! Deployments: a release placed in an environment; deploy (or its dry run), lists, status,
//! rollback, drift.

pub(crate) mod dto;
pub(crate) mod handlers;
pub(crate) mod plan;
