//! Deployments: a release placed in an environment.

pub(crate) mod dto;
