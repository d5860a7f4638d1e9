//! OpenID Connect relying party for browser sign-in with Janua: discovery (cached, refreshed
//! lazily), the authorization-code request with PKCE (S256), `state` and `nonce`, and the code
//! exchange with ID token verification (RS256 signature, `iss`, `aud` = client id, `exp`, `nonce`,
//! `at_hash`). Claims missing from the ID token are read from the userinfo endpoint.
//!
//! Discovery never makes the process fail: it is tried once at start (`warm_up`) and otherwise on
//! demand; while it fails every flow answers `Unavailable` naming the issuer. An ID token signed
//! by a key we do not know triggers one re-discovery (at most once per `REFETCH_FLOOR`), so a key
//! rotation at Janua is picked up.

use std::{
    borrow::Cow,
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse,
    core::{
        CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims,
        CoreProviderMetadata, CoreUserInfoClaims,
    },
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{ExternalClaims, oidc_http::ProviderHttp};

/// How long a discovery document and its keys are used before they are fetched again.
const DISCOVERY_MAX_AGE: Duration = Duration::from_secs(3600);
/// Least time between two discoveries once one succeeded (unknown-key refetches included).
const REFETCH_FLOOR: Duration = Duration::from_secs(10);
/// Least time between two attempts while no discovery has succeeded yet.
const RETRY_FLOOR: Duration = Duration::from_secs(2);
/// Bound of every request to the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);

/// Where Janua is and who we are to it (`ENCLII_OIDC_*`).
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Exactly the provider's `issuer` (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Our `/v1/auth/callback` as registered at the provider.
    pub redirect_url: String,
    /// Our `/v1/auth/callback/silent` as registered at the provider.
    pub silent_redirect_url: String,
}

/// Which callback a sign-in returns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginFlow {
    /// `GET /v1/auth/login` → `/v1/auth/callback`.
    Interactive,
    /// `GET /v1/auth/silent-check` (`prompt=none`) → `/v1/auth/callback/silent`.
    Silent,
}

/// What the server keeps, keyed by the state, until the browser comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub flow: LoginFlow,
    pub pkce_verifier: String,
    pub nonce: String,
}

impl PendingLogin {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn decode(raw: &str) -> Option<Self> {
        serde_json::from_str(raw).ok()
    }
}

/// The start of a sign-in: where to send the browser, the state to bind to it, what to keep.
#[derive(Debug, Clone)]
pub struct LoginStart {
    pub authorize_url: String,
    pub state: String,
    pub pending: PendingLogin,
}

/// A verified sign-in: the identity (in the shape Janua access tokens have) and the provider's
/// access token.
#[derive(Debug, Clone)]
pub struct OidcIdentity {
    pub claims: ExternalClaims,
    pub access_token: SecretString,
    pub access_token_expires_at: Option<OffsetDateTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("identity provider {issuer} is unavailable")]
    Unavailable {
        issuer: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The token endpoint refused the code (expired, used, or not ours), with its error code.
    #[error("the identity provider refused the authorization code: {0}")]
    CodeRejected(String),
    #[error("the ID token was rejected: {0}")]
    IdToken(String),
}

/// The key under which a pending sign-in is stored: the hex SHA-256 of its state, so the state
/// itself never appears in the store.
pub fn state_key(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// Compares two states in constant time (their digests, so lengths leak nothing either).
pub fn states_match(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

type ProviderClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Discovered {
    client: ProviderClient,
    at: Instant,
}

#[derive(Default)]
struct Cache {
    current: Option<Arc<Discovered>>,
    last_attempt: Option<Instant>,
}

/// The relying party. Cheap to share (`Arc`).
pub struct OidcClient {
    config: OidcConfig,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    silent_redirect: RedirectUrl,
    http: ProviderHttp,
    cache: tokio::sync::Mutex<Cache>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.config.issuer)
            .field("client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

impl OidcClient {
    /// Checks the URLs; contacts nobody.
    pub fn new(config: OidcConfig) -> Result<Self, String> {
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| format!("issuer {:?}: {e}", config.issuer))?;
        let redirect = RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| format!("redirect URL {:?}: {e}", config.redirect_url))?;
        let silent_redirect = RedirectUrl::new(config.silent_redirect_url.clone())
            .map_err(|e| format!("redirect URL {:?}: {e}", config.silent_redirect_url))?;
        let http = ProviderHttp::new(PROVIDER_TIMEOUT)
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(Self {
            config,
            issuer,
            redirect,
            silent_redirect,
            http,
            cache: tokio::sync::Mutex::new(Cache::default()),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// One discovery attempt at start, logged; failure is not fatal (flows retry on demand).
    pub async fn warm_up(&self) {
        match self.provider(false).await {
            Ok(_) => {
                tracing::info!(oidc.issuer = %self.config.issuer, "discovered identity provider {}", self.config.issuer)
            }
            Err(e) => {
                tracing::warn!(oidc.issuer = %self.config.issuer, error = &e as &dyn std::error::Error,
                "identity provider {} not reachable at start; browser sign-in answers 503 until it is", self.config.issuer)
            }
        }
    }

    fn unavailable(&self, source: Option<Box<dyn std::error::Error + Send + Sync>>) -> OidcError {
        OidcError::Unavailable {
            issuer: self.config.issuer.clone(),
            source,
        }
    }

    /// The discovered provider: cached for `DISCOVERY_MAX_AGE`; `force` refetches (unknown key).
    /// Attempts are spaced by a floor; a failed refresh keeps the previous discovery.
    async fn provider(&self, force: bool) -> Result<Arc<Discovered>, OidcError> {
        let mut cache = self.cache.lock().await;
        if let Some(current) = &cache.current
            && !force
            && current.at.elapsed() < DISCOVERY_MAX_AGE
        {
            return Ok(current.clone());
        }
        let floor = if cache.current.is_some() {
            REFETCH_FLOOR
        } else {
            RETRY_FLOOR
        };
        let mut failure = None;
        if cache.last_attempt.is_none_or(|t| t.elapsed() >= floor) {
            cache.last_attempt = Some(Instant::now());
            match self.discover().await {
                Ok(client) => {
                    cache.current = Some(Arc::new(Discovered {
                        client,
                        at: Instant::now(),
                    }));
                }
                Err(e) => {
                    tracing::warn!(oidc.issuer = %self.config.issuer, error = &*e as &dyn std::error::Error,
                        "discovery of {} failed", self.config.issuer);
                    failure = Some(e);
                }
            }
        }
        cache
            .current
            .clone()
            .ok_or_else(|| self.unavailable(failure))
    }

    async fn discover(&self) -> Result<ProviderClient, Box<dyn std::error::Error + Send + Sync>> {
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| e.to_string())?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(
                self.config.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(self.redirect.clone()))
    }

    fn redirect_for(&self, flow: LoginFlow) -> &RedirectUrl {
        match flow {
            LoginFlow::Interactive => &self.redirect,
            LoginFlow::Silent => &self.silent_redirect,
        }
    }

    /// The authorization request: scopes `openid profile email`, PKCE S256, fresh state and
    /// nonce; `prompt=none` for the silent flow.
    pub async fn begin(&self, flow: LoginFlow) -> Result<LoginStart, OidcError> {
        let provider = self.provider(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = provider
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".to_owned()))
            .add_scope(Scope::new("email".to_owned()))
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Borrowed(self.redirect_for(flow)));
        if flow == LoginFlow::Silent {
            request = request.add_prompt(CoreAuthPrompt::None);
        }
        let (url, state, nonce) = request.url();
        Ok(LoginStart {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            pending: PendingLogin {
                flow,
                pkce_verifier: verifier.secret().clone(),
                nonce: nonce.secret().clone(),
            },
        })
    }

    /// Exchanges `code` (with the pending login's PKCE verifier) and verifies the ID token.
    pub async fn complete(
        &self,
        code: &str,
        pending: &PendingLogin,
    ) -> Result<OidcIdentity, OidcError> {
        let provider = self.provider(false).await?;
        let token = provider
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| self.unavailable(Some(Box::new(e))))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .set_redirect_uri(Cow::Borrowed(self.redirect_for(pending.flow)))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => {
                    OidcError::CodeRejected(r.error().as_ref().to_owned())
                }
                other => self.unavailable(Some(Box::new(other))),
            })?;
        let nonce = Nonce::new(pending.nonce.clone());
        let id_token = token
            .id_token()
            .ok_or_else(|| OidcError::IdToken("the token response has no id_token".into()))?;
        let verify =
            |client: &ProviderClient| -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
                let verifier = client.id_token_verifier();
                let claims = id_token.claims(&verifier, &nonce)?.clone();
                if let Some(expected) = claims.access_token_hash() {
                    let alg = id_token
                        .signing_alg()
                        .map_err(ClaimsVerificationError::SignatureVerification)?;
                    let key = id_token
                        .signing_key(&verifier)
                        .map_err(ClaimsVerificationError::SignatureVerification)?;
                    let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
                        .map_err(|e| ClaimsVerificationError::Other(e.to_string()))?;
                    if actual != *expected {
                        return Err(ClaimsVerificationError::Other(
                            "at_hash does not match the access token".into(),
                        ));
                    }
                }
                Ok(claims)
            };
        let (client, claims) = match verify(&provider.client) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // Janua may have rotated its keys since discovery.
                let refreshed = self.provider(true).await?;
                let claims = verify(&refreshed.client);
                (refreshed, claims)
            }
            other => (provider, other),
        };
        let claims = claims.map_err(|e| OidcError::IdToken(e.to_string()))?;
        let mut identity = ExternalClaims {
            iss: claims.issuer().to_string(),
            sub: claims.subject().to_string(),
            exp: claims.expiration().timestamp(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified(),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
        };
        if identity.email.is_none() || identity.email_verified.is_none() {
            self.fill_from_userinfo(&client.client, &token, &mut identity)
                .await?;
        }
        Ok(OidcIdentity {
            claims: identity,
            access_token: SecretString::from(token.access_token().secret().clone()),
            access_token_expires_at: token
                .expires_in()
                .and_then(|d| time::Duration::try_from(d).ok())
                .map(|d| OffsetDateTime::now_utc() + d),
        })
    }

    /// Reads e-mail, its verification and the name from the userinfo endpoint (whose `sub` must
    /// be the ID token's), for providers that keep them out of the ID token.
    async fn fill_from_userinfo(
        &self,
        client: &ProviderClient,
        token: &openidconnect::core::CoreTokenResponse,
        identity: &mut ExternalClaims,
    ) -> Result<(), OidcError> {
        let Ok(request) = client.user_info(
            token.access_token().clone(),
            Some(openidconnect::SubjectIdentifier::new(identity.sub.clone())),
        ) else {
            return Ok(());
        };
        let info: CoreUserInfoClaims = request
            .request_async(&self.http)
            .await
            .map_err(|e| self.unavailable(Some(Box::new(e))))?;
        if identity.email.is_none() {
            identity.email = info.email().map(|e| e.to_string());
            identity.email_verified = info.email_verified();
        } else if identity.email_verified.is_none()
            && info.email().map(|e| e.as_str()) == identity.email.as_deref()
        {
            identity.email_verified = info.email_verified();
        }
        if identity.name.is_none() {
            identity.name = info.name().and_then(|n| n.get(None)).map(|n| n.to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_compare_by_value() {
        assert!(states_match("abc", "abc"));
        assert!(!states_match("abc", "abd"));
        assert!(!states_match("abc", "abcd"));
        assert!(!states_match("", "a"));
    }

    #[test]
    fn the_store_key_hides_the_state() {
        let key = state_key("s3cret-state");
        assert_eq!(key.len(), 64);
        assert!(!key.contains("s3cret"));
        assert_eq!(key, state_key("s3cret-state"));
    }

    #[test]
    fn pending_logins_round_trip() {
        let pending = PendingLogin {
            flow: LoginFlow::Silent,
            pkce_verifier: "v".into(),
            nonce: "n".into(),
        };
        assert_eq!(PendingLogin::decode(&pending.encode()), Some(pending));
        assert_eq!(PendingLogin::decode("{}"), None);
    }

    #[test]
    fn bad_urls_are_refused_without_contacting_anyone() {
        let config = OidcConfig {
            issuer: "not a url".into(),
            client_id: "c".into(),
            client_secret: SecretString::from("s".to_owned()),
            redirect_url: "http://localhost/v1/auth/callback".into(),
            silent_redirect_url: "http://localhost/v1/auth/callback/silent".into(),
        };
        assert!(OidcClient::new(config).unwrap_err().contains("issuer"));
    }
}
