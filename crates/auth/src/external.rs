//! Access tokens issued by Janua (what the `enclii` CLI sends): verified against Janua's JWKS,
//! RS256 only, `iss`/`aud` as configured, 60 s leeway. Keys are cached; an unknown `kid` refetches
//! the JWKS, at most once per `refetch_floor`, so a flood of forged `kid`s cannot hammer Janua.
//! Verified tokens are remembered (by SHA-256) until they expire.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{AuthError, session::MAX_TOKEN_BYTES};

/// Where Janua's keys are and what its tokens must say.
#[derive(Debug, Clone)]
pub struct ExternalConfig {
    pub jwks_url: String,
    /// Required `iss` (`ENCLII_EXTERNAL_ISSUER`); unchecked when `None`.
    pub issuer: Option<String>,
    /// `aud` must contain this (`ENCLII_EXTERNAL_AUDIENCE`); unchecked when `None`.
    pub audience: Option<String>,
    /// How long fetched keys are trusted without refetching.
    pub cache_ttl: Duration,
    /// Least time between two fetches.
    pub refetch_floor: Duration,
}

/// The claims we use from a Janua access token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExternalClaims {
    pub iss: String,
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

/// At most this many verified tokens are remembered.
const VERIFIED_CAPACITY: usize = 10_000;
const LEEWAY_SECS: u64 = 60;

pub struct ExternalVerifier {
    config: ExternalConfig,
    http: reqwest::Client,
    keys: tokio::sync::Mutex<KeyCache>,
    verified: Mutex<HashMap<[u8; 32], ExternalClaims>>,
}

impl std::fmt::Debug for ExternalVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalVerifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ExternalVerifier {
    pub fn new(config: ExternalConfig) -> Result<Self, AuthError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| AuthError::Key(format!("building the JWKS client: {e}")))?;
        Ok(Self {
            config,
            http,
            keys: tokio::sync::Mutex::new(KeyCache::default()),
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// Verifies a Janua access token.
    pub async fn verify(&self, token: &str) -> Result<ExternalClaims, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLarge(MAX_TOKEN_BYTES));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Some(claims) = self.remembered(&digest, now) {
            return Ok(claims);
        }
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::WrongAlgorithm);
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        if let Some(issuer) = &self.config.issuer {
            validation.set_issuer(&[issuer]);
        }
        match &self.config.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                // A token without `aud` must not pass an audience check.
                validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
            }
            None => {
                validation.validate_aud = false;
                validation.set_required_spec_claims(&["exp", "iss", "sub"]);
            }
        }
        let claims = decode::<ExternalClaims>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?
            .claims;
        self.remember(digest, &claims, now);
        Ok(claims)
    }

    fn remembered(&self, digest: &[u8; 32], now: i64) -> Option<ExternalClaims> {
        let cache = self.verified.lock().ok()?;
        cache.get(digest).filter(|c| c.exp > now).cloned()
    }

    fn remember(&self, digest: [u8; 32], claims: &ExternalClaims, now: i64) {
        if let Ok(mut cache) = self.verified.lock() {
            if cache.len() >= VERIFIED_CAPACITY {
                cache.retain(|_, c| c.exp > now);
                if cache.len() >= VERIFIED_CAPACITY {
                    cache.clear();
                }
            }
            cache.insert(digest, claims.clone());
        }
    }

    /// The key `kid`, refetching the JWKS when it is unknown or the cache is old, but never more
    /// often than the floor allows. A failed fetch keeps the old keys.
    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let mut cache = self.keys.lock().await;
        let fresh = cache
            .fetched_at
            .is_some_and(|t| t.elapsed() < self.config.cache_ttl);
        if fresh && let Some(key) = cache.keys.get(kid) {
            return Ok(key.clone());
        }
        let may_fetch = cache
            .last_attempt
            .is_none_or(|t| t.elapsed() >= self.config.refetch_floor);
        if may_fetch {
            cache.last_attempt = Some(Instant::now());
            match self.fetch().await {
                Ok(keys) => {
                    cache.keys = keys;
                    cache.fetched_at = Some(Instant::now());
                }
                Err(e) => tracing::warn!("external JWKS unavailable, keeping cached keys: {e}"),
            }
        }
        cache.keys.get(kid).cloned().ok_or(AuthError::UnknownKey)
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, String> {
        let response = self
            .http
            .get(&self.config.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("fetching {}: {e}", self.config.jwks_url))?;
        let set: JwkSet = response
            .json()
            .await
            .map_err(|e| format!("reading {}: {e}", self.config.jwks_url))?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect())
    }
}
