//! Settings of the HTTP server, built by the server's config loader.

use std::time::Duration;

use http::HeaderValue;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The one port (4200 unless `ENCLII_PORT` says otherwise).
    pub port: u16,
    /// Browser origins allowed by CORS (`ENCLII_ALLOWED_ORIGINS`).
    pub allowed_origins: Vec<HeaderValue>,
    /// Browser origins that may open the log WebSockets (`ENCLII_WEBSOCKET_ALLOWED_ORIGINS`);
    /// `None`: the CORS origins. An upgrade without `Origin` (the CLI) is not checked.
    pub websocket_origins: Option<Vec<HeaderValue>>,
    /// Largest request body accepted (`ENCLII_MAX_REQUEST_SIZE_BYTES`).
    pub body_limit_bytes: usize,
    /// Longest a request may take before it is answered 504 (`ENCLII_REQUEST_TIMEOUT_SECS`).
    pub request_timeout: Duration,
    /// How long shutdown waits for in-flight requests (`ENCLII_SHUTDOWN_TIMEOUT_SECS`).
    pub shutdown_timeout: Duration,
    /// Send `Strict-Transport-Security` (on in production, where TLS ends at the tunnel).
    pub hsts: bool,
    /// Peers allowed to set `X-Forwarded-For` (`ENCLII_TRUSTED_PROXIES`); none by default.
    pub trusted_proxies: Vec<crate::IpNet>,
    /// Where browser sign-in (OIDC) delivers the tokens.
    pub browser_login: BrowserLoginConfig,
}

impl HttpConfig {
    /// The origins a WebSocket upgrade's `Origin` must be one of.
    pub fn websocket_origins(&self) -> &[HeaderValue] {
        self.websocket_origins
            .as_deref()
            .unwrap_or(&self.allowed_origins)
    }
}

/// How `/v1/auth/callback` and `/v1/auth/callback/silent` hand the tokens to the UI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrowserLoginConfig {
    /// `ENCLII_POST_LOGIN_REDIRECT_URL`: the callback redirects here with the tokens; unset, it
    /// answers JSON.
    pub post_login_redirect: Option<String>,
    /// `ENCLII_POST_LOGIN_REDIRECT_MODE`: tokens in the query string (the original contract) or
    /// in the fragment.
    pub redirect_mode: RedirectMode,
    /// `ENCLII_UI_ORIGIN`: the only origin the silent sign-in page posts its result to.
    pub ui_origin: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RedirectMode {
    /// `<url>?access_token=…&refresh_token=…&expires_at=<unix s>&token_type=Bearer`.
    #[default]
    Query,
    /// The same parameters after `#`, so they never reach a server log or a `Referer`.
    Fragment,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            port: 4200,
            allowed_origins: Vec::new(),
            websocket_origins: None,
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(20),
            hsts: false,
            trusted_proxies: Vec::new(),
            browser_login: BrowserLoginConfig::default(),
        }
    }
}
