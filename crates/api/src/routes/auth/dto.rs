//! Bodies of `/v1/auth/*`, with the original field names.

use serde::{Deserialize, Serialize};
use switchyard_core::{BrowserLogin, Login, UserRow};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use utoipa::ToSchema;

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RegisterRequest {
    pub(crate) email: String,
    /// 8 to 72 bytes.
    pub(crate) password: String,
    /// At most 100 characters.
    #[serde(default)]
    pub(crate) name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct LoginRequest {
    pub(crate) email: String,
    pub(crate) password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RefreshRequest {
    pub(crate) refresh_token: String,
}

/// A user as the original serialised it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserView {
    id: String,
    email: String,
    name: String,
    /// `admin`, `developer` or `viewer`.
    role: String,
    active: bool,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_login_at: Option<String>,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email,
            name: u.name,
            role: u.role,
            active: u.active,
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
            last_login_at: u.last_login_at.map(rfc3339),
        }
    }
}

/// `LoginResponse` of the original (also the refresh response, without `user`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LoginResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserView>,
    access_token: String,
    /// A new refresh token on every login and refresh; the previous one stops working.
    refresh_token: String,
    /// When the access token expires (RFC 3339).
    expires_at: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Browser (OIDC) sign-in only: the identity provider's access token, which the UI sends
    /// back as `X-IDP-Token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    idp_token: Option<String>,
    /// When `idp_token` expires (RFC 3339), when the provider said.
    #[serde(skip_serializing_if = "Option::is_none")]
    idp_token_expires_at: Option<String>,
}

impl From<Login> for LoginResponse {
    fn from(l: Login) -> Self {
        Self {
            user: l.user.map(UserView::from),
            access_token: l.access_token,
            refresh_token: l.refresh_token,
            expires_at: rfc3339(l.expires_at),
            token_type: "Bearer",
            idp_token: None,
            idp_token_expires_at: None,
        }
    }
}

impl From<BrowserLogin> for LoginResponse {
    fn from(b: BrowserLogin) -> Self {
        Self {
            idp_token: Some(b.idp_token),
            idp_token_expires_at: b.idp_token_expires_at.map(rfc3339),
            ..Self::from(b.login)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MessageView {
    pub(crate) message: &'static str,
}

/// One public key of `/v1/auth/jwks`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JwkView {
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    alg: &'static str,
    kid: String,
    n: String,
    e: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JwksView {
    keys: Vec<JwkView>,
}

impl From<switchyard_auth::Jwks> for JwksView {
    fn from(jwks: switchyard_auth::Jwks) -> Self {
        Self {
            keys: jwks
                .keys
                .into_iter()
                .map(|k| JwkView {
                    kty: k.kty,
                    use_: k.use_,
                    alg: k.alg,
                    kid: k.kid,
                    n: k.n,
                    e: k.e,
                })
                .collect(),
        }
    }
}
