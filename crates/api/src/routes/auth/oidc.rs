//! Handlers of browser sign-in with Janua (OIDC): `GET /v1/auth/login`, `/v1/auth/callback`,
//! `/v1/auth/silent-check`, `/v1/auth/callback/silent`. Outside oidc mode they answer 503 naming
//! `ENCLII_AUTH_MODE`.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode, Uri, header};
use switchyard_auth::LoginFlow;
use switchyard_core::LoginCallback;
use switchyard_domain::Error;

use super::{
    dto::LoginResponse,
    oidc_dto::{
        CallbackQuery, SilentCheckView, clear_cookie, cookie_name, deliver, provider_error_code,
        request_cookie, state_cookie,
    },
    silent_page::{SilentResult, render},
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Json, Query},
};

/// Start a browser sign-in (oidc mode): redirects to the identity provider.
#[utoipa::path(get, path = "/v1/auth/login", tag = "auth",
    responses(
        (status = 302, description = "To the provider's authorization endpoint (PKCE S256, state, nonce); sets the `oauth_state` cookie (5 min, HttpOnly, Secure, SameSite=Lax)"),
        (status = 429, description = "More than 10 sign-ins a minute from this address", body = Problem),
        (status = 503, description = "Not in oidc mode (`ENCLII_AUTH_MODE`), no Redis (`ENCLII_REDIS_URL`) or the provider unreachable", body = Problem),
    ))]
pub(crate) async fn auth_oidc_login(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let redirect = state.cp.browser_login_begin(LoginFlow::Interactive).await?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, redirect.authorize_url.clone()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        [(
            header::SET_COOKIE,
            state_cookie(LoginFlow::Interactive, &redirect),
        )],
    )
        .into_response())
}

/// Where the provider returns the browser: checks the state, signs the user in and hands the
/// tokens to the UI.
#[utoipa::path(get, path = "/v1/auth/callback", tag = "auth", params(CallbackQuery),
    responses(
        (status = 200, description = "Signed in (no `ENCLII_POST_LOGIN_REDIRECT_URL`)", body = LoginResponse),
        (status = 302, description = "To `ENCLII_POST_LOGIN_REDIRECT_URL` with `access_token`, `refresh_token`, `expires_at` (unix s), `token_type`, `idp_token`[, `idp_token_expires_at`] in the query string (or the fragment)"),
        (status = 400, description = "Wrong or used state, bad code, ID token rejected, e-mail not verified, or the provider refused", body = Problem),
        (status = 503, description = "Not in oidc mode, no Redis, or the provider unreachable", body = Problem),
    ))]
pub(crate) async fn auth_oidc_callback(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let flow = LoginFlow::Interactive;
    let result = match &query.error {
        Some(error) => Err(Error::invalid(
            "error",
            format!(
                "The identity provider refused the sign-in: {}",
                provider_error_code(error)
            ),
        )),
        None => {
            let cookie = request_cookie(&headers, cookie_name(flow));
            state
                .cp
                .browser_login_complete(callback(flow, &query, cookie.as_deref()))
                .await
        }
    };
    let mut response = match result {
        Ok(login) => deliver(&state.config.browser_login, login),
        Err(e) => ApiError::from(e).into_response(),
    };
    finish(&mut response, flow);
    response
}

/// An authorization URL for silent re-authentication (`prompt=none`) in a hidden iframe.
#[utoipa::path(get, path = "/v1/auth/silent-check", tag = "auth",
    responses(
        (status = 200, description = "Sets the `oauth_state_silent` cookie (60 s)", body = SilentCheckView),
        (status = 503, description = "Not in oidc mode, no Redis, the provider unreachable, or no UI origin (`ENCLII_UI_ORIGIN`)", body = Problem),
    ))]
pub(crate) async fn auth_silent_check(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let redirect = state.cp.browser_login_begin(LoginFlow::Silent).await?;
    if state.config.browser_login.ui_origin.is_none() {
        return Err(Error::Unavailable {
            message: "silent sign-in needs the UI's origin: set ENCLII_UI_ORIGIN (or \
                      ENCLII_POST_LOGIN_REDIRECT_URL)"
                .to_owned(),
            source: None,
        }
        .into());
    }
    let cookie = state_cookie(LoginFlow::Silent, &redirect);
    let body = Json(SilentCheckView {
        auth_url: redirect.authorize_url,
    });
    Ok((
        [(header::SET_COOKIE, cookie)],
        [(header::CACHE_CONTROL, "no-store")],
        body,
    )
        .into_response())
}

/// Where the provider returns the hidden iframe: always a 200 page that posts the result to the
/// UI origin.
#[utoipa::path(get, path = "/v1/auth/callback/silent", tag = "auth", params(CallbackQuery),
    responses(
        (status = 200, description = "`text/html` posting `{type: \"silent-auth-result\", success, access_token, refresh_token, expires_at, token_type, idp_token, idp_token_expires_at?}` or `{type, success: false, error, error_description}` to the UI origin", content_type = "text/html", body = String),
    ))]
pub(crate) async fn auth_silent_callback(
    State(state): State<ApiState>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let flow = LoginFlow::Silent;
    // Always a page: an unreadable query is a failed sign-in, not a JSON error.
    let query = axum::extract::Query::<CallbackQuery>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let result = match &query.error {
        Some(error) => SilentResult::failure(provider_error_code(error)),
        None => {
            let cookie = request_cookie(&headers, cookie_name(flow));
            match state
                .cp
                .browser_login_complete(callback(flow, &query, cookie.as_deref()))
                .await
            {
                Ok(login) => SilentResult::success(&login),
                Err(e) => {
                    tracing::info!(
                        error = &e as &dyn std::error::Error,
                        "silent sign-in failed"
                    );
                    SilentResult::failure(match e {
                        Error::InvalidInput { .. } | Error::Unauthenticated { .. } => {
                            "invalid_request"
                        }
                        Error::Unavailable { .. } => "temporarily_unavailable",
                        _ => "server_error",
                    })
                }
            }
        }
    };
    let mut response = render(state.config.browser_login.ui_origin.as_deref(), &result);
    finish(&mut response, flow);
    response
}

fn callback<'a>(
    flow: LoginFlow,
    query: &'a CallbackQuery,
    cookie: Option<&'a str>,
) -> LoginCallback<'a> {
    LoginCallback {
        flow,
        code: query.code.as_deref(),
        state: query.state.as_deref(),
        cookie_state: cookie,
    }
}

/// Every callback answer removes the state cookie and is never cached.
fn finish(response: &mut Response, flow: LoginFlow) {
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, clear_cookie(flow));
    headers.insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
}
