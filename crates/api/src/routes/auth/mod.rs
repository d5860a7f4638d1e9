//! `/v1/auth/*`: local registration and login, refresh, logout, the caller's profile, the JWKS.

pub(crate) mod dto;
pub(crate) mod handlers;
