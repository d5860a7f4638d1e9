//! Identity primitives: the RS256 signing keys and their JWKS, session JWTs (issue and verify),
//! API tokens (`enclii_…`), password hashes, envelope encryption of stored values (`sealing`),
//! and the OpenID Connect relying party for Janua
//! browser sign-in. Pure and synchronous: storage (users, tokens) lives
//! in `switchyard-db`, revocation in Redis, the flows in `switchyard-core`.

pub mod api_token;
pub mod callback;
mod error;
pub mod external;
#[cfg(any(test, feature = "test-support"))]
pub mod forgery;
pub mod keys;
pub mod oidc;
mod oidc_http;
pub mod password;
pub mod sealing;
pub mod session;

pub use error::AuthError;
pub use external::{ExternalClaims, ExternalConfig, ExternalVerifier};
pub use keys::{Jwk, Jwks, KeySet};
pub use oidc::{LoginFlow, OidcClient, OidcConfig, OidcError, OidcIdentity};
pub use session::{SessionClaims, SessionIssuer, SessionTokens, TokenType};
