//! Local sign-in (register, login), session refresh with rotation and reuse detection, logout,
//! and turning a bearer token into a `Principal`.

use switchyard_auth::{AuthError, TokenType, api_token, session::SessionUser};
use switchyard_db::repo::{api_tokens, users};
use switchyard_domain::{ApiTokenId, Email, Error, Password, SessionId, UserId};
use switchyard_queue::Rotation;
use time::OffsetDateTime;

use crate::{ControlPlane, Principal, PrincipalKind, UserRow};

const BAD_CREDENTIALS: &str = "Invalid email or password";
const BAD_TOKEN: &str = "Invalid or expired token";
const BAD_API_TOKEN: &str = "Invalid or expired API token";
const BAD_REFRESH: &str = "Invalid or expired refresh token";

/// Tokens of a fresh or refreshed session (and the user, at login).
#[derive(Debug, Clone)]
pub struct Login {
    pub user: Option<UserRow>,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: OffsetDateTime,
}

/// What `register` needs, already parsed.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub name: String,
}

fn session_user(user: &UserRow) -> SessionUser {
    SessionUser {
        id: user.id,
        email: user.email.clone(),
        role: user.role(),
    }
}

/// Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal("running a password hash", e))
}

impl ControlPlane {
    /// `POST /v1/auth/register`: creates the user with the default role (admin when the e-mail
    /// is in `ENCLII_ADMIN_EMAILS`) and signs them in.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, new: Registration) -> Result<Login, Error> {
        let sessions = self.sessions_store()?;
        let password = new.password.clone();
        let hash = blocking(move || switchyard_auth::password::hash(password.expose()))
            .await?
            .map_err(|e| Error::internal("hashing a password", e))?;
        let role = self.inner.auth.role_for(&new.email);
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let user = users::insert_local(
            &mut conn,
            &users::NewLocalUser {
                id: UserId::new(),
                email: new.email.as_str(),
                name: &new.name,
                role,
                password_hash: &hash,
            },
        )
        .await?;
        tracing::info!(user.id = %user.id, "registered user {}", user.id);
        self.start_session(sessions, user).await
    }

    /// `POST /v1/auth/login` (local mode).
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, email: &str, password: String) -> Result<Login, Error> {
        let sessions = self.sessions_store()?;
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let user = users::find_by_email(&mut conn, email).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        // Verify even for unknown users, so timing does not reveal which e-mails exist.
        let matches = blocking(move || match stored {
            Some(phc) => switchyard_auth::password::verify(&password, &phc),
            None => {
                let _ = switchyard_auth::password::verify(&password, &DUMMY_HASH);
                false
            }
        })
        .await?;
        let Some(user) = user.filter(|_| matches) else {
            return Err(Error::unauthenticated(BAD_CREDENTIALS));
        };
        if !user.active {
            return Err(Error::unauthenticated("Authentication required"));
        }
        let user = users::record_login(&mut conn, user.id()).await?;
        self.start_session(sessions, user).await
    }

    /// Issues a session pair for `user` and records the session (every sign-in ends here).
    pub(crate) async fn start_session(
        &self,
        sessions: &switchyard_queue::Redis,
        user: UserRow,
    ) -> Result<Login, Error> {
        let issuer = &self.inner.auth.sessions;
        let session = SessionId::new();
        let tokens = issuer
            .issue(&session_user(&user), session.as_uuid())
            .map_err(|e| Error::internal("signing session tokens", e))?;
        sessions
            .session_start(session, tokens.refresh_jti, ttl(issuer.refresh_ttl()))
            .await?;
        Ok(Login {
            user: Some(user),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_at: tokens.access_expires_at,
        })
    }

    /// `POST /v1/auth/refresh`: a new access **and** refresh token; the presented refresh token
    /// stops working, and presenting it again ends the whole session. Refuses (503) when the
    /// session store cannot be asked.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<Login, Error> {
        let sessions = self.sessions_store()?;
        let issuer = &self.inner.auth.sessions;
        let claims = issuer
            .verify(refresh_token, TokenType::Refresh)
            .map_err(|_| Error::unauthenticated(BAD_REFRESH))?;
        let session = SessionId::from_uuid(claims.session_id);
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let user = users::find(&mut conn, UserId::from_uuid(claims.user_id))
            .await?
            .filter(|u| u.active)
            .ok_or(Error::unauthenticated(BAD_REFRESH))?;
        let tokens = issuer
            .issue(&session_user(&user), session.as_uuid())
            .map_err(|e| Error::internal("signing session tokens", e))?;
        match sessions
            .session_rotate(
                session,
                claims.jti,
                tokens.refresh_jti,
                ttl(issuer.refresh_ttl()),
            )
            .await?
        {
            Rotation::Rotated => Ok(Login {
                user: None,
                access_token: tokens.access_token,
                refresh_token: tokens.refresh_token,
                expires_at: tokens.access_expires_at,
            }),
            Rotation::Reused => {
                tracing::warn!(user.id = %user.id, session.id = %session, "refresh token reused; session {session} ended");
                Err(Error::unauthenticated(BAD_REFRESH))
            }
            Rotation::Unknown => Err(Error::unauthenticated(BAD_REFRESH)),
        }
    }

    /// `POST /v1/auth/logout`: ends the caller's session (an API token has none to end).
    pub async fn logout(&self, principal: &Principal) -> Result<(), Error> {
        if let Some(session) = principal.session_id() {
            self.sessions_store()?.session_end(session).await?;
        }
        Ok(())
    }

    /// `GET /v1/auth/me`.
    pub async fn me(&self, principal: &Principal) -> Result<UserRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        users::find(&mut conn, principal.user_id)
            .await?
            .ok_or(Error::unauthenticated(BAD_TOKEN))
    }

    /// The public keys of our session tokens (`GET /v1/auth/jwks`).
    pub fn jwks(&self) -> switchyard_auth::Jwks {
        self.inner.auth.sessions.keys().jwks()
    }

    /// Resolves a bearer token: an `enclii_` API token, or one of our session access tokens.
    /// The user is re-read, so a deactivated user or a lowered role takes effect at once.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, Error> {
        if token.starts_with(api_token::PREFIX) {
            return self.authenticate_api_token(token).await;
        }
        let claims = match self.inner.auth.sessions.verify(token, TokenType::Access) {
            Ok(claims) => claims,
            // Not one of ours: a Janua token, when those are accepted.
            Err(AuthError::UnknownKey) if self.inner.auth.external.is_some() => {
                return self.authenticate_external(token).await;
            }
            Err(e) => {
                tracing::debug!(reason = %e, "session token refused");
                return Err(Error::unauthenticated(BAD_TOKEN));
            }
        };
        let session = SessionId::from_uuid(claims.session_id);
        // Without Redis nothing can be revoked; with Redis down, access checks fail open (health
        // reports it) while refresh fails closed.
        if let Some(redis) = &self.inner.redis {
            match redis.session_live(session).await {
                Ok(true) => {}
                Ok(false) => return Err(Error::unauthenticated(BAD_TOKEN)),
                Err(e) => {
                    tracing::warn!(error = %e, "session store unreachable; accepting a valid access token");
                }
            }
        }
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let user = users::find(&mut conn, UserId::from_uuid(claims.user_id))
            .await?
            .filter(|u| u.active)
            .ok_or(Error::unauthenticated(BAD_TOKEN))?;
        Ok(Principal::new(&user, PrincipalKind::Session(session), &[]))
    }

    async fn authenticate_external(&self, token: &str) -> Result<Principal, Error> {
        let verifier = self
            .inner
            .auth
            .external
            .as_ref()
            .ok_or(Error::unauthenticated(BAD_TOKEN))?;
        let claims = verifier.verify(token).await.map_err(|e| {
            tracing::debug!(reason = %e, "external token refused");
            Error::unauthenticated(BAD_TOKEN)
        })?;
        let user = self.user_for_external(&claims).await?;
        if !user.active {
            return Err(Error::unauthenticated(BAD_TOKEN));
        }
        Ok(Principal::new(&user, PrincipalKind::External, &[]))
    }

    async fn authenticate_api_token(&self, token: &str) -> Result<Principal, Error> {
        if !api_token::is_well_formed(token) {
            return Err(Error::unauthenticated(BAD_API_TOKEN));
        }
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let (row, user) = api_tokens::find_live_by_hash(&mut conn, &api_token::hash(token))
            .await?
            .ok_or(Error::unauthenticated(BAD_API_TOKEN))?;
        let id = ApiTokenId::from_uuid(row.id);
        // Recording use must not slow the request down.
        let pool = self.pool().clone();
        tokio::spawn(async move {
            if let Ok(mut conn) = pool.acquire().await
                && let Err(e) = api_tokens::record_use(&mut conn, id).await
            {
                tracing::warn!(error = %e, api_token.id = %id, "could not record API token use");
            }
        });
        Ok(Principal::new(
            &user,
            PrincipalKind::ApiToken(id),
            &row.scopes,
        ))
    }
}

fn ttl(d: time::Duration) -> std::time::Duration {
    std::time::Duration::from_secs(u64::try_from(d.whole_seconds()).unwrap_or(1))
}

pub(crate) fn db_unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::unavailable("database unavailable", e)
}

/// A real Argon2id hash, verified against when the e-mail is unknown so both paths cost the same.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    switchyard_auth::password::hash("switchyard-timing-equaliser").unwrap_or_default()
});
