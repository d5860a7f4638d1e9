//! The HTTP shapes of browser sign-in: the callback's query, the state cookies, the redirect that
//! carries the tokens to the UI (query string or fragment), and the provider error codes we pass
//! on (only known codes: provider text never reaches a response).

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use switchyard_auth::LoginFlow;
use switchyard_core::{BrowserLogin, LoginRedirect, state_ttl};
use utoipa::{IntoParams, ToSchema};

use super::dto::LoginResponse;
use crate::{BrowserLoginConfig, RedirectMode, extract::Json};

/// What the identity provider's redirect carries.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallbackQuery {
    /// The authorization code.
    pub(crate) code: Option<String>,
    /// Must equal the state cookie.
    pub(crate) state: Option<String>,
    /// The provider's error code (e.g. `access_denied`, `login_required`).
    pub(crate) error: Option<String>,
    /// Ignored: provider text is never shown.
    #[expect(dead_code, reason = "documented in the OpenAPI parameters, never read")]
    pub(crate) error_description: Option<String>,
}

/// `GET /v1/auth/silent-check`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SilentCheckView {
    /// The provider's authorization URL with `prompt=none`, for a hidden iframe.
    pub(crate) auth_url: String,
}

/// The cookie that binds a sign-in to the browser that started it.
pub(crate) fn cookie_name(flow: LoginFlow) -> &'static str {
    match flow {
        LoginFlow::Interactive => "oauth_state",
        LoginFlow::Silent => "oauth_state_silent",
    }
}

fn cookie(flow: LoginFlow, value: &str, max_age: u64) -> HeaderValue {
    let cookie = format!(
        "{}={value}; Max-Age={max_age}; Path=/v1/auth; HttpOnly; Secure; SameSite=Lax",
        cookie_name(flow)
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` of a started sign-in (5 min interactive, 60 s silent, as the original).
pub(crate) fn state_cookie(flow: LoginFlow, redirect: &LoginRedirect) -> HeaderValue {
    cookie(flow, &redirect.state, state_ttl(flow).as_secs())
}

/// `Set-Cookie` that removes the state cookie (the state is used up whatever the outcome).
pub(crate) fn clear_cookie(flow: LoginFlow) -> HeaderValue {
    cookie(flow, "", 0)
}

/// The value of cookie `name` from the request.
pub(crate) fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The provider's error code when it is one of the standard ones, else `provider_error`.
pub(crate) fn provider_error_code(error: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "login_required",
        "interaction_required",
        "consent_required",
        "account_selection_required",
        "access_denied",
        "invalid_request",
        "invalid_scope",
        "unauthorized_client",
        "unsupported_response_type",
        "server_error",
        "temporarily_unavailable",
    ];
    KNOWN
        .iter()
        .find(|known| **known == error)
        .copied()
        .unwrap_or("provider_error")
}

/// The tokens as `name=value` pairs, in the original's order and format (`expires_at` in unix
/// seconds).
pub(crate) fn token_params(login: &BrowserLogin) -> Vec<(&'static str, String)> {
    let mut params = vec![
        ("access_token", login.login.access_token.clone()),
        ("refresh_token", login.login.refresh_token.clone()),
        (
            "expires_at",
            login.login.expires_at.unix_timestamp().to_string(),
        ),
        ("token_type", "Bearer".to_owned()),
        ("idp_token", login.idp_token.clone()),
    ];
    if let Some(at) = login.idp_token_expires_at {
        params.push(("idp_token_expires_at", at.unix_timestamp().to_string()));
    }
    params
}

/// The successful callback: 302 to `ENCLII_POST_LOGIN_REDIRECT_URL` with the tokens in its query
/// string or fragment, or (no URL configured) 200 with `LoginResponse`.
pub(crate) fn deliver(config: &BrowserLoginConfig, login: BrowserLogin) -> Response {
    let Some(url) = &config.post_login_redirect else {
        return Json(LoginResponse::from(login)).into_response();
    };
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(token_params(&login))
        .finish();
    let separator = match config.redirect_mode {
        RedirectMode::Fragment => '#',
        RedirectMode::Query if url.contains('?') => '&',
        RedirectMode::Query => '?',
    };
    let location = format!("{url}{separator}{encoded}");
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::Login;
    use time::OffsetDateTime;

    fn login() -> BrowserLogin {
        BrowserLogin {
            login: Login {
                user: None,
                access_token: "a.b.c".into(),
                refresh_token: "d.e.f".into(),
                expires_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            },
            idp_token: "idp+/=".into(),
            idp_token_expires_at: None,
        }
    }

    fn location(mode: RedirectMode, url: &str) -> String {
        let config = BrowserLoginConfig {
            post_login_redirect: Some(url.into()),
            redirect_mode: mode,
            ui_origin: None,
        };
        let response = deliver(&config, login());
        assert_eq!(response.status(), StatusCode::FOUND);
        response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn query_mode_keeps_the_original_contract() {
        assert_eq!(
            location(RedirectMode::Query, "https://app.enclii.dev/auth/callback"),
            "https://app.enclii.dev/auth/callback?access_token=a.b.c&refresh_token=d.e.f\
             &expires_at=1700000000&token_type=Bearer&idp_token=idp%2B%2F%3D"
        );
        assert!(
            location(RedirectMode::Query, "https://ui/cb?next=%2F")
                .starts_with("https://ui/cb?next=%2F&access_token=")
        );
    }

    #[test]
    fn fragment_mode_puts_the_tokens_after_the_hash() {
        assert!(
            location(RedirectMode::Fragment, "https://ui/cb?next=1")
                .starts_with("https://ui/cb?next=1#access_token=a.b.c&")
        );
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("oauth_state_silent=s; oauth_state=i"),
        );
        assert_eq!(
            request_cookie(&headers, "oauth_state").as_deref(),
            Some("i")
        );
        assert_eq!(
            request_cookie(&headers, "oauth_state_silent").as_deref(),
            Some("s")
        );
        assert_eq!(request_cookie(&headers, "other"), None);
    }

    #[test]
    fn only_standard_provider_errors_pass() {
        assert_eq!(provider_error_code("login_required"), "login_required");
        assert_eq!(provider_error_code("<script>"), "provider_error");
    }
}
