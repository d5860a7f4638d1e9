//! A real OpenID Provider for browser sign-in tests: the npm package `oidc-provider`, configured
//! by `tests/oidc-provider/server.mjs`, on a loopback port, killed on drop. Its npm dependencies
//! are installed once (`npm ci`, behind a file lock) into
//! `~/.cache/switchyard-oidc-provider/<hash of package-lock.json, package.json, server.mjs>`,
//! outside the clone. Node and npm come from the system (`scripts/ensure-system-packages`).
//!
//! [`OidcProvider::sign_in`] plays the browser at the provider: it follows the provider's
//! redirects, logs in the given account id on the development login form and returns the
//! redirect back to the app (cookies are kept, so a later `prompt=none` request finds the
//! provider session).

use std::{
    collections::BTreeMap,
    fs::File,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Mutex,
    time::Duration,
};

use secrecy::SecretString;
use sha2::{Digest, Sha256};
use switchyard_auth::OidcConfig;
use tokio::{
    io::{AsyncBufReadExt as _, BufReader},
    process::{Child, Command},
};

use crate::TestApp;

pub const CLIENT_ID: &str = "switchyard-test";
pub const CLIENT_SECRET: &str = "switchyard-test-secret";

/// The provider: reserved with [`OidcProvider::reserve`] (the app's configuration needs the
/// issuer first), started with [`OidcProvider::start`] once the app's callback URLs are known.
pub struct OidcProvider {
    pub issuer: String,
    port: u16,
    child: Option<Child>,
    browser: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl OidcProvider {
    /// Picks the provider's port and issuer; nothing runs yet.
    pub fn reserve() -> Self {
        let port = switchyard::local::free_port().expect("a free port for the provider");
        Self {
            issuer: format!("http://127.0.0.1:{port}"),
            port,
            child: None,
            browser: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    /// The app's client settings; the empty redirect URLs become the app's own callbacks when
    /// `TestApp` binds its port.
    pub fn oidc_config(&self) -> OidcConfig {
        OidcConfig {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.to_owned(),
            client_secret: SecretString::from(CLIENT_SECRET.to_owned()),
            redirect_url: String::new(),
            silent_redirect_url: String::new(),
        }
    }

    /// Starts the provider with `app`'s callbacks registered; `id_token_claims` puts e-mail and
    /// name in the ID token (else they are at the userinfo endpoint only).
    pub async fn start(&mut self, app: &TestApp, id_token_claims: bool) {
        let dir = installed().await;
        let config = serde_json::json!({
            "port": self.port,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [app.url("/v1/auth/callback"), app.url("/v1/auth/callback/silent")],
            "id_token_claims": id_token_claims,
        });
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("OIDC_TEST_CONFIG", config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("starting node (install nodejs and npm: scripts/ensure-system-packages)");
        let stdout = child.stdout.take().expect("provider stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.starts_with("oidc-provider ready") {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(
            matches!(ready, Ok(true)),
            "the OpenID Provider did not start"
        );
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child = Some(child);
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().expect("cookie jar");
        cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, response: &reqwest::Response) {
        let mut cookies = self.cookies.lock().expect("cookie jar");
        for header in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let Some((name, rest)) = header.to_str().ok().and_then(|h| h.split_once('=')) else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default();
            let expired = rest
                .to_ascii_lowercase()
                .contains("expires=thu, 01 jan 1970");
            if value.is_empty() || expired {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn request(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let response = request
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .expect("request to the provider");
        self.keep_cookies(&response);
        response
    }

    /// Follows `authorize_url` at the provider as a browser would, signing in as `account` when
    /// the login form appears, and returns the first URL outside the provider (the app's
    /// callback with `code` and `state`, or with `error`).
    pub async fn sign_in(&self, authorize_url: &str, account: &str) -> String {
        let mut url = authorize_url.to_owned();
        for _ in 0..12 {
            if !url.starts_with(&self.issuer) {
                return url;
            }
            let response = self.request(self.browser.get(&url)).await;
            let response = if response.status().is_redirection() {
                response
            } else {
                assert!(
                    response.status().is_success(),
                    "provider: {}",
                    response.status()
                );
                let page = response.text().await.expect("provider page");
                assert!(
                    page.contains("name=\"prompt\" value=\"login\""),
                    "unexpected provider page at {url}"
                );
                let form = reqwest::Url::parse_with_params(
                    "http://form.invalid/",
                    [("prompt", "login"), ("login", account), ("password", "any")],
                )
                .expect("form");
                let post = self
                    .browser
                    .post(&url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form.query().unwrap_or_default().to_owned());
                self.request(post).await
            };
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .expect("a redirect from the provider");
            url = reqwest::Url::parse(&url)
                .and_then(|base| base.join(location))
                .expect("a redirect URL")
                .to_string();
        }
        panic!("the provider kept redirecting");
    }
}

/// The directory holding `server.mjs` and its installed `node_modules`.
async fn installed() -> PathBuf {
    tokio::task::spawn_blocking(install)
        .await
        .expect("installing the provider")
}

fn install() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider");
    let files = ["package.json", "package-lock.json", "server.mjs"];
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(std::fs::read(source.join(file)).expect("tests/oidc-provider files"));
    }
    let hash = hex::encode(hasher.finalize());
    let vars = switchyard::config::process_env();
    let root = vars
        .get("HOME")
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join(".cache/switchyard-oidc-provider");
    let dir = root.join(&hash[..16]);
    std::fs::create_dir_all(&root).expect("provider cache directory");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join("lock"))
        .expect("provider cache lock");
    lock.lock().expect("locking the provider cache");
    let marker = dir.join(".installed");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("provider directory");
        for file in files {
            std::fs::copy(source.join(file), dir.join(file)).expect("copying the provider");
        }
        let status = std::process::Command::new("npm")
            .args([
                "ci",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .status()
            .expect("running npm (install nodejs and npm: scripts/ensure-system-packages)");
        assert!(status.success(), "npm ci failed in {}", dir.display());
        File::create(&marker).expect("provider install marker");
    }
    let _ = lock.unlock();
    dir
}
