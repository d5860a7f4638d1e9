//! Bodies of `/v1/user/tokens`, with the original field names (plus the envelope the UI expects).

use serde::{Deserialize, Serialize};
use switchyard_core::ApiTokenRow;
use utoipa::{IntoParams, ToSchema};

use crate::routes::auth::dto::rfc3339;

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct TokenCreate {
    /// 1 to 100 characters.
    pub(crate) name: String,
    /// Roles that narrow what the token may do (`viewer`, `developer`, `admin`); never more than
    /// your own role. Empty: your role.
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// 1 to 3650; absent means the token does not expire.
    pub(crate) expires_in_days: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct TokenListQuery {
    /// Include revoked tokens.
    #[serde(default)]
    pub(crate) include_revoked: bool,
    /// 1 to 200; default 50.
    pub(crate) limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

/// A token as listed (never the token itself).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenView {
    id: String,
    name: String,
    /// The first 16 characters, to recognise the token.
    prefix: String,
    scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_used_at: Option<String>,
    created_at: String,
    revoked: bool,
}

impl From<ApiTokenRow> for TokenView {
    fn from(t: ApiTokenRow) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            prefix: t.prefix,
            scopes: t.scopes,
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            created_at: rfc3339(t.created_at),
            revoked: t.revoked_at.is_some(),
        }
    }
}

/// `{tokens: [...]}` (the original sent a bare array, which the UI could not read).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenList {
    pub(crate) tokens: Vec<TokenView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

/// The created token. `token` is shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenCreated {
    token: String,
    id: String,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    /// The original's field name for the expiry (RFC 3339 or null).
    expire_at: Option<String>,
    /// The same value under the name the list uses.
    expires_at: Option<String>,
}

impl TokenCreated {
    pub(crate) fn new(row: ApiTokenRow, token: String) -> Self {
        let expiry = row.expires_at.map(rfc3339);
        Self {
            token,
            id: row.id.to_string(),
            name: row.name,
            prefix: row.prefix,
            scopes: row.scopes,
            expire_at: expiry.clone(),
            expires_at: expiry,
        }
    }
}
