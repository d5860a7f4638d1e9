//! The page `/v1/auth/callback/silent` answers (in the UI's hidden iframe): it posts the result
//! to the configured UI origin only, never `*`. The result is data in a
//! `<script type="application/json">` block (serialised by serde_json, with `<`, `>`, `&`, U+2028
//! and U+2029 escaped, so nothing can close the block); the one executable script is constant and
//! allowed by its hash in the page's `Content-Security-Policy`. No request input is reflected:
//! provider errors are reduced to standard codes with fixed descriptions.

use std::sync::LazyLock;

use axum::response::{IntoResponse, Response};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use sha2::{Digest, Sha256};
use switchyard_core::BrowserLogin;

use super::oidc_dto::token_params;

/// The page's only script: reads the data block, posts it to the parent at the given origin.
const SCRIPT: &str = "(function(){var d=JSON.parse(document.getElementById('silent-auth-result').textContent);\
if(d.origin&&window.parent&&window.parent!==window){window.parent.postMessage(d.message,d.origin);}})();";

static SCRIPT_HASH: LazyLock<String> =
    LazyLock::new(|| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(SCRIPT))));

/// What the UI receives (the original's `silent-auth-result` message).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum SilentResult {
    Success(serde_json::Map<String, serde_json::Value>),
    Failure {
        #[serde(rename = "type")]
        kind: &'static str,
        success: bool,
        error: &'static str,
        error_description: &'static str,
    },
}

const MESSAGE_TYPE: &str = "silent-auth-result";

impl SilentResult {
    pub(crate) fn success(login: &BrowserLogin) -> Self {
        let mut message = serde_json::Map::new();
        message.insert("type".into(), MESSAGE_TYPE.into());
        message.insert("success".into(), true.into());
        for (name, value) in token_params(login) {
            // Times are numbers (unix seconds) in the message, as the original sent them.
            let value = match value.parse::<i64>() {
                Ok(n) if name.ends_with("expires_at") => n.into(),
                _ => value.into(),
            };
            message.insert(name.into(), value);
        }
        Self::Success(message)
    }

    /// A failure with a standard `error` code and a fixed description.
    pub(crate) fn failure(error: &'static str) -> Self {
        let error_description = match error {
            "login_required"
            | "interaction_required"
            | "consent_required"
            | "account_selection_required" => "Sign-in at the identity provider is required",
            "temporarily_unavailable" => "Sign-in is temporarily unavailable; try again shortly",
            "invalid_request" => "The sign-in could not be completed; start it again",
            _ => "The sign-in failed",
        };
        Self::Failure {
            kind: MESSAGE_TYPE,
            success: false,
            error,
            error_description,
        }
    }
}

/// JSON that is safe inside a `<script>` element.
fn script_json(value: &impl Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".to_owned())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// HTTP 200 `text/html` posting `result` to `origin` (nothing is posted without one).
pub(crate) fn render(origin: Option<&str>, result: &SilentResult) -> Response {
    #[derive(Serialize)]
    struct Data<'a> {
        origin: Option<&'a str>,
        message: &'a SilentResult,
    }
    let data = script_json(&Data {
        origin,
        message: result,
    });
    let body = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Signing in</title></head><body>\n\
         <script type=\"application/json\" id=\"silent-auth-result\">{data}</script>\n\
         <script>{SCRIPT}</script>\n</body></html>\n"
    );
    // Only the UI may frame the page; only our script runs; nothing else loads.
    let ancestors = origin.unwrap_or("'none'");
    let csp = format!(
        "default-src 'none'; script-src {}; frame-ancestors {ancestors}; base-uri 'none'; form-action 'none'",
        *SCRIPT_HASH
    );
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_hash_is_the_scripts() {
        let expected = format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()))
        );
        assert_eq!(*SCRIPT_HASH, expected);
    }

    #[test]
    fn script_json_cannot_close_the_block() {
        let json = script_json(&"</script><script>alert(1)</script>&\u{2028}");
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        assert!(!json.contains('\u{2028}'));
        let back: String = serde_json::from_str(&json).unwrap();
        assert_eq!(back, "</script><script>alert(1)</script>&\u{2028}");
    }

    #[test]
    fn without_an_origin_nothing_may_frame_or_receive() {
        let response = render(None, &SilentResult::failure("login_required"));
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
}
