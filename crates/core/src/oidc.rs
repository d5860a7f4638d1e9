//! Browser sign-in with Janua (OpenID Connect, `ENCLII_AUTH_MODE=oidc`): starting a sign-in
//! (state, PKCE verifier and nonce kept in Redis for the cookie's lifetime) and completing it
//! (state checked against the cookie and taken once, code exchanged, ID token verified, verified
//! e-mail required, user found or created as for Janua access tokens, session issued as for a
//! password login).

use std::time::Duration;

use switchyard_auth::{
    LoginFlow, OidcClient, OidcError,
    oidc::{self, PendingLogin},
};
use switchyard_db::repo::users;
use switchyard_domain::Error;
use time::OffsetDateTime;

use crate::{ControlPlane, Login, auth::db_unavailable};

/// How long a pending interactive sign-in lives (the `oauth_state` cookie's `Max-Age`).
const LOGIN_STATE_TTL: Duration = Duration::from_secs(300);
/// How long a pending silent sign-in lives (the `oauth_state_silent` cookie's `Max-Age`).
const SILENT_STATE_TTL: Duration = Duration::from_secs(60);

const BAD_STATE: &str = "Invalid or expired sign-in state: start the sign-in again";

/// The lifetime of the state of `flow`.
pub fn state_ttl(flow: LoginFlow) -> Duration {
    match flow {
        LoginFlow::Interactive => LOGIN_STATE_TTL,
        LoginFlow::Silent => SILENT_STATE_TTL,
    }
}

/// Where to send the browser, and the state its cookie must carry back.
#[derive(Debug, Clone)]
pub struct LoginRedirect {
    pub authorize_url: String,
    pub state: String,
}

/// What the provider's redirect brought back, and the state cookie of the browser.
#[derive(Debug, Clone, Copy)]
pub struct LoginCallback<'a> {
    pub flow: LoginFlow,
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    pub cookie_state: Option<&'a str>,
}

/// A completed browser sign-in: our session (with the user) and the provider's access token,
/// which the UI sends back as `X-IDP-Token`.
#[derive(Debug, Clone)]
pub struct BrowserLogin {
    pub login: Login,
    pub idp_token: String,
    pub idp_token_expires_at: Option<OffsetDateTime>,
}

impl ControlPlane {
    fn oidc(&self) -> Result<&OidcClient, Error> {
        self.inner
            .auth
            .oidc
            .as_deref()
            .ok_or_else(|| Error::not_configured("browser sign-in", "ENCLII_AUTH_MODE=oidc"))
    }

    /// `GET /v1/auth/login` and `GET /v1/auth/silent-check`: a fresh authorization request; what
    /// the callback needs is kept in Redis under a hash of the state, for the cookie's lifetime.
    #[tracing::instrument(skip_all, fields(oidc.flow = ?flow))]
    pub async fn browser_login_begin(&self, flow: LoginFlow) -> Result<LoginRedirect, Error> {
        let client = self.oidc()?;
        let store = self.sessions_store()?;
        let start = client.begin(flow).await.map_err(provider_error)?;
        store
            .login_state_put(
                &oidc::state_key(&start.state),
                &start.pending.encode(),
                state_ttl(flow),
            )
            .await?;
        Ok(LoginRedirect {
            authorize_url: start.authorize_url,
            state: start.state,
        })
    }

    /// `GET /v1/auth/callback` and `GET /v1/auth/callback/silent`: checks the state (equal to
    /// the cookie, pending, for this flow; used up either way), exchanges the code, maps the
    /// identity to a user and starts a session.
    #[tracing::instrument(skip_all, fields(oidc.flow = ?callback.flow))]
    pub async fn browser_login_complete(
        &self,
        callback: LoginCallback<'_>,
    ) -> Result<BrowserLogin, Error> {
        let client = self.oidc()?;
        let store = self.sessions_store()?;
        let (Some(state), Some(cookie)) = (callback.state, callback.cookie_state) else {
            return Err(Error::invalid("state", BAD_STATE));
        };
        if !oidc::states_match(state, cookie) {
            return Err(Error::invalid("state", BAD_STATE));
        }
        let pending = store
            .login_state_take(&oidc::state_key(state))
            .await?
            .as_deref()
            .and_then(PendingLogin::decode)
            .filter(|p| p.flow == callback.flow)
            .ok_or_else(|| Error::invalid("state", BAD_STATE))?;
        let code = callback
            .code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::invalid("code", "The callback carries no authorization code"))?;
        let identity = client
            .complete(code, &pending)
            .await
            .map_err(provider_error)?;
        if identity.claims.email_verified != Some(true) {
            tracing::info!(oidc.issuer = %identity.claims.iss, "sign-in refused: e-mail not verified");
            return Err(Error::invalid(
                "email_verified",
                "Your e-mail address is not verified at the identity provider",
            ));
        }
        let user = self.user_for_external(&identity.claims).await?;
        if !user.active {
            return Err(Error::unauthenticated("Authentication required"));
        }
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let user = users::record_login(&mut conn, user.id()).await?;
        drop(conn);
        let login = self.start_session(store, user).await?;
        Ok(BrowserLogin {
            login,
            idp_token: secrecy::ExposeSecret::expose_secret(&identity.access_token).to_owned(),
            idp_token_expires_at: identity.access_token_expires_at,
        })
    }
}

/// The caller's fault (a bad code or ID token) is 400; the provider's is 503 naming it.
fn provider_error(e: OidcError) -> Error {
    match e {
        OidcError::Unavailable { issuer, source } => Error::Unavailable {
            message: format!("the identity provider {issuer} is unavailable; try again shortly"),
            source,
        },
        OidcError::CodeRejected(reason) => {
            tracing::info!(oidc.error = %reason, "authorization code refused by the provider");
            Error::invalid(
                "code",
                "The authorization code is invalid, expired or already used",
            )
        }
        OidcError::IdToken(reason) => {
            tracing::info!(oidc.error = %reason, "ID token rejected");
            Error::invalid("id_token", "The identity token could not be verified")
        }
    }
}
