//! `/v1/auth/*`: local registration and login, browser sign-in with Janua (OIDC), refresh,
//! logout, the caller's profile, the JWKS.

pub(crate) mod dto;
pub(crate) mod handlers;
pub(crate) mod oidc;
mod oidc_dto;
mod silent_page;
