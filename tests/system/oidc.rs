//! Browser sign-in with a real OpenID Provider (npm `oidc-provider`, started by the harness on
//! loopback): login redirect → provider login → callback → tokens → `/v1/auth/me`, and each way
//! a callback must fail: wrong state, replayed state or code, unverified e-mail, wrong nonce.

use std::collections::BTreeMap;

use reqwest::{StatusCode, Url, header};
use serde_json::Value;
use switchyard_api::{BrowserLoginConfig, HttpConfig, RedirectMode};
use switchyard_testkit::{OidcProvider, TestApp, test_auth_config};

pub(crate) const UI_CALLBACK: &str = "http://ui.test/auth/callback";

/// How the app under test is configured.
pub(crate) struct Options {
    pub(crate) browser_login: BrowserLoginConfig,
    pub(crate) admin_emails: Vec<String>,
    pub(crate) id_token_claims: bool,
    pub(crate) start_provider: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            browser_login: BrowserLoginConfig {
                post_login_redirect: Some(UI_CALLBACK.to_owned()),
                redirect_mode: RedirectMode::Query,
                ui_origin: Some("http://ui.test".to_owned()),
            },
            admin_emails: Vec::new(),
            id_token_claims: false,
            start_provider: true,
        }
    }
}

/// An app in oidc mode, its provider, and a browser that does not follow redirects.
pub(crate) struct Setup {
    pub(crate) app: TestApp,
    pub(crate) provider: OidcProvider,
    pub(crate) browser: reqwest::Client,
}

pub(crate) async fn setup(options: Options) -> Setup {
    let mut provider = OidcProvider::reserve();
    let mut auth = test_auth_config();
    auth.oidc = Some(provider.oidc_config());
    auth.admin_emails = options.admin_emails;
    let app = TestApp::builder()
        .auth(auth)
        .http(HttpConfig {
            browser_login: options.browser_login,
            ..HttpConfig::default()
        })
        .spawn()
        .await;
    if options.start_provider {
        provider.start(&app, options.id_token_claims).await;
    }
    let browser = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Setup {
        app,
        provider,
        browser,
    }
}

pub(crate) fn query(url: &str) -> BTreeMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn set_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

impl Setup {
    /// `GET path` from the browser (redirects are not followed).
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.browser.get(self.app.url(path)).send().await.unwrap()
    }

    /// Registers `email` with a password; the response.
    pub(crate) async fn register(&self, email: &str) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url("/v1/auth/register"))
            .json(&serde_json::json!({"email": email, "password": "correct horse"}))
            .send()
            .await
            .unwrap()
    }

    /// `GET /v1/auth/login`: the authorize URL and the state of its cookie.
    pub(crate) async fn begin(&self) -> (String, String) {
        let response = self.get("/v1/auth/login").await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let cookie = set_cookie(&response);
        let state = cookie
            .strip_prefix("oauth_state=")
            .and_then(|c| c.split(';').next())
            .unwrap()
            .to_owned();
        (location(&response), state)
    }

    /// The browser's request to our callback `url` carrying `cookie` as its state cookie.
    pub(crate) async fn callback(
        &self,
        url: &str,
        name: &str,
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.browser.get(url);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, format!("{name}={cookie}"));
        }
        request.send().await.unwrap()
    }

    /// A full sign-in as `account`: the callback's response.
    pub(crate) async fn sign_in(&self, account: &str) -> reqwest::Response {
        let (authorize, state) = self.begin().await;
        let back = self.provider.sign_in(&authorize, account).await;
        self.callback(&back, "oauth_state", Some(&state)).await
    }

    pub(crate) async fn me(&self, access_token: &str) -> Value {
        let response = self
            .app
            .client
            .get(self.app.url("/v1/auth/me"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

/// The field a 400 names.
async fn rejected_field(response: reqwest::Response) -> Value {
    problem(response, StatusCode::BAD_REQUEST).await["errors"][0]["field"].clone()
}

pub(crate) async fn problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

#[tokio::test]
async fn browser_sign_in_end_to_end_with_the_original_query_string_contract() {
    let s = setup(Options::default()).await;
    let response = s.get("/v1/auth/login").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let authorize = location(&response);
    assert!(
        authorize.starts_with(&format!("{}/auth?", s.provider.issuer)),
        "{authorize}"
    );
    let params = query(&authorize);
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["scope"], "openid profile email");
    assert_eq!(params["redirect_uri"], s.app.url("/v1/auth/callback"));
    assert!(params["code_challenge"].len() >= 43 && params["nonce"].len() >= 16);
    let cookie = set_cookie(&response);
    let state = &params["state"];
    assert!(
        cookie.starts_with(&format!("oauth_state={state};")),
        "{cookie}"
    );
    for attribute in [
        "Max-Age=300",
        "Path=/v1/auth",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }

    let back = s.provider.sign_in(&authorize, "grace@example.com").await;
    assert!(back.starts_with(&s.app.url("/v1/auth/callback?")), "{back}");
    let response = s.callback(&back, "oauth_state", Some(state)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(set_cookie(&response).contains("oauth_state=; Max-Age=0"));
    let to_ui = location(&response);
    assert!(
        to_ui.starts_with(&format!("{UI_CALLBACK}?access_token=")),
        "{to_ui}"
    );
    let tokens = query(&to_ui);
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(
        tokens["expires_at"].parse::<i64>().unwrap()
            > time::OffsetDateTime::now_utc().unix_timestamp()
    );
    assert!(!tokens["refresh_token"].is_empty() && !tokens["idp_token"].is_empty());
    assert!(tokens["idp_token_expires_at"].parse::<i64>().is_ok());

    let me = s.me(&tokens["access_token"]).await;
    assert_eq!(me["email"], "grace@example.com");
    assert_eq!(
        me["name"], "Test grace@example.com",
        "from the userinfo endpoint"
    );
    assert_eq!(me["role"], "developer");

    // The same callback again: the state was used up.
    let replay = s.callback(&back, "oauth_state", Some(state)).await;
    assert_eq!(rejected_field(replay).await, "state");
}

#[tokio::test]
async fn json_mode_returns_login_response_and_admin_emails_make_admins() {
    let s = setup(Options {
        browser_login: BrowserLoginConfig::default(),
        admin_emails: vec!["boss@example.com".to_owned()],
        id_token_claims: true,
        ..Options::default()
    })
    .await;
    let response = s.sign_in("boss@example.com").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "boss@example.com");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(
        body["user"]["name"], "Test boss@example.com",
        "from the ID token"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        body["expires_at"].as_str().unwrap().contains('T'),
        "RFC 3339: {body}"
    );
    assert!(body["idp_token"].is_string());
    assert_eq!(
        s.me(body["access_token"].as_str().unwrap()).await["role"],
        "admin"
    );
}

#[tokio::test]
async fn an_existing_local_user_with_the_same_email_is_linked() {
    let s = setup(Options {
        browser_login: BrowserLoginConfig::default(),
        ..Options::default()
    })
    .await;
    let registered: Value = s.register("ada@example.com").await.json().await.unwrap();
    let first: Value = s.sign_in("ada@example.com").await.json().await.unwrap();
    assert_eq!(first["user"]["id"], registered["user"]["id"]);
    let again: Value = s.sign_in("ada@example.com").await.json().await.unwrap();
    assert_eq!(
        again["user"]["id"], registered["user"]["id"],
        "found by (issuer, subject)"
    );
}

#[tokio::test]
async fn a_state_that_is_not_the_cookies_is_rejected_and_leaves_the_sign_in_pending() {
    let s = setup(Options::default()).await;
    let (authorize, state) = s.begin().await;
    let (_, other_state) = s.begin().await;
    let back = s.provider.sign_in(&authorize, "eve@example.com").await;
    for cookie in [Some(other_state.as_str()), None] {
        let response = s.callback(&back, "oauth_state", cookie).await;
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["code"], "invalid_input");
        assert_eq!(body["errors"][0]["field"], "state");
    }
    let silent_cookie = s.callback(&back, "oauth_state_silent", Some(&state)).await;
    assert_eq!(silent_cookie.status(), StatusCode::BAD_REQUEST);
    let right = s.callback(&back, "oauth_state", Some(&state)).await;
    assert_eq!(right.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn a_replayed_code_is_refused_by_the_provider() {
    let s = setup(Options::default()).await;
    let (authorize, state) = s.begin().await;
    let back = s.provider.sign_in(&authorize, "mallory@example.com").await;
    assert_eq!(
        s.callback(&back, "oauth_state", Some(&state))
            .await
            .status(),
        StatusCode::FOUND
    );
    // The used code under a fresh, valid state: the state check passes, the exchange does not.
    let (_, fresh) = s.begin().await;
    let code = &query(&back)["code"];
    let replay = format!(
        "{}?code={code}&state={fresh}",
        s.app.url("/v1/auth/callback")
    );
    let response = s.callback(&replay, "oauth_state", Some(&fresh)).await;
    assert_eq!(rejected_field(response).await, "code");
}

#[tokio::test]
async fn an_unverified_email_is_rejected_and_creates_no_user() {
    let s = setup(Options::default()).await;
    let response = s.sign_in("unverified-kim").await;
    assert_eq!(rejected_field(response).await, "email_verified");
    // No user holds the address: registering it locally succeeds.
    let register = s.register("unverified-kim@example.com").await;
    assert_eq!(register.status(), StatusCode::CREATED);
}

/// The nonce kept for the state is replaced before the browser returns, as if the ID token had
/// been issued for another sign-in: the ID token's nonce no longer matches.
#[tokio::test]
async fn an_id_token_with_another_nonce_is_rejected() {
    let s = setup(Options::default()).await;
    let (authorize, state) = s.begin().await;
    let redis = s.app.redis.as_ref().unwrap();
    let key = switchyard_auth::oidc::state_key(&state);
    let stored = redis.login_state_take(&key).await.unwrap().unwrap();
    let mut pending: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(pending["nonce"], query(&authorize)["nonce"]);
    pending["nonce"] = "another-sign-ins-nonce".into();
    redis
        .login_state_put(
            &key,
            &pending.to_string(),
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    let back = s.provider.sign_in(&authorize, "nina@example.com").await;
    let response = s.callback(&back, "oauth_state", Some(&state)).await;
    assert_eq!(rejected_field(response).await, "id_token");
}

#[tokio::test]
async fn a_provider_error_is_400_without_its_text() {
    let s = setup(Options::default()).await;
    let url = format!(
        "{}?error=access_denied&error_description=%3Cb%3Ehostile%3C%2Fb%3E&state=x",
        s.app.url("/v1/auth/callback")
    );
    let response = s.callback(&url, "oauth_state", Some("x")).await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert!(body["error"].as_str().unwrap().contains("access_denied"));
    assert!(!body.to_string().contains("hostile"));
}
