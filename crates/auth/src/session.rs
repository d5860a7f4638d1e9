//! Session JWTs we issue (RS256, `kid` set): an access token and a refresh token sharing one
//! `session_id`, with the original claim names so the UI keeps working. Verification pins the
//! algorithm, requires a `kid` we know (current or previous key), and checks issuer, expiry and
//! token type; the header's `jku`, `x5u` and `jwk` are never consulted.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use switchyard_domain::Role;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{AuthError, KeySet};

/// `iss` of every session token (the original's value).
pub const ISSUER: &str = "enclii-switchyard";
/// Tokens longer than this are refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Clock skew tolerated on `exp`/`nbf`.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

impl TokenType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// The claims of a session token (names as the original sent them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
    pub session_id: Uuid,
    pub token_type: TokenType,
    /// Unique per token; the refresh token's `jti` is what rotation tracks.
    pub jti: Uuid,
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
}

impl SessionClaims {
    /// The role claim, parsed; an unknown role is the weakest.
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::Viewer)
    }
}

/// Who a session is for.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
}

/// A freshly issued pair.
#[derive(Debug, Clone)]
pub struct SessionTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: OffsetDateTime,
    pub refresh_expires_at: OffsetDateTime,
    pub session_id: Uuid,
    pub refresh_jti: Uuid,
}

/// Issues and verifies session tokens with the deployment's keys.
#[derive(Debug, Clone)]
pub struct SessionIssuer {
    keys: Arc<KeySet>,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl SessionIssuer {
    pub fn new(keys: Arc<KeySet>, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        Self {
            keys,
            access_ttl,
            refresh_ttl,
        }
    }

    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    /// A new access + refresh pair for `user` in session `session_id`.
    pub fn issue(&self, user: &SessionUser, session_id: Uuid) -> Result<SessionTokens, AuthError> {
        let now = OffsetDateTime::now_utc();
        let claims = |token_type, ttl: Duration| SessionClaims {
            user_id: user.id,
            email: user.email.clone(),
            role: user.role.as_str().to_owned(),
            session_id,
            token_type,
            jti: Uuid::now_v7(),
            sub: user.id.to_string(),
            iat: now.unix_timestamp(),
            nbf: now.unix_timestamp(),
            exp: (now + ttl).unix_timestamp(),
            iss: ISSUER.to_owned(),
        };
        let access = claims(TokenType::Access, self.access_ttl);
        let refresh = claims(TokenType::Refresh, self.refresh_ttl);
        Ok(SessionTokens {
            access_token: self.sign(&access)?,
            refresh_token: self.sign(&refresh)?,
            access_expires_at: now + self.access_ttl,
            refresh_expires_at: now + self.refresh_ttl,
            session_id,
            refresh_jti: refresh.jti,
        })
    }

    fn sign(&self, claims: &SessionClaims) -> Result<String, AuthError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.keys.kid().to_owned());
        encode(&header, claims, self.keys.signing_key()).map_err(|e| AuthError::Key(e.to_string()))
    }

    /// Verifies signature, algorithm, key, issuer, time window and type.
    pub fn verify(&self, token: &str, expected: TokenType) -> Result<SessionClaims, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLarge(MAX_TOKEN_BYTES));
        }
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::WrongAlgorithm);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.decoding_key(kid))
            .ok_or(AuthError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let claims = decode::<SessionClaims>(token, key, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?
            .claims;
        if claims.token_type != expected {
            return Err(AuthError::WrongType {
                expected: expected.as_str(),
                found: claims.token_type.as_str(),
            });
        }
        Ok(claims)
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
