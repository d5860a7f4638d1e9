//! Browser sign-in, continued: silent re-authentication (`prompt=none` in an iframe, the result
//! posted to the UI origin only, nothing reflected), the fragment redirect mode, the rate limit,
//! and the 503s of a sign-in that cannot work (not in oidc mode, no Redis, provider down).

use reqwest::{StatusCode, header};
use serde_json::Value;
use switchyard_api::{BrowserLoginConfig, RedirectMode};
use switchyard_testkit::{OidcProvider, TestApp, test_auth_config};

use crate::oidc::{Options, UI_CALLBACK, location, problem, query, set_cookie, setup};

/// The data block of the silent page.
fn page_data(page: &str) -> Value {
    let start =
        page.find("id=\"silent-auth-result\">").unwrap() + "id=\"silent-auth-result\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}

#[tokio::test]
async fn silent_sign_in_posts_the_tokens_to_the_ui_origin_only() {
    let s = setup(Options::default()).await;
    // An interactive sign-in first, so the provider has a session for prompt=none.
    assert_eq!(
        s.sign_in("sam@example.com").await.status(),
        StatusCode::FOUND
    );

    let check = s.get("/v1/auth/silent-check").await;
    assert_eq!(check.status(), StatusCode::OK);
    let cookie = set_cookie(&check);
    assert!(cookie.starts_with("oauth_state_silent="), "{cookie}");
    for attribute in ["Max-Age=60", "HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let body: Value = check.json().await.unwrap();
    let auth_url = body["auth_url"].as_str().unwrap();
    let params = query(auth_url);
    assert_eq!(params["prompt"], "none");
    assert_eq!(
        params["redirect_uri"],
        s.app.url("/v1/auth/callback/silent")
    );
    let state = params["state"].clone();

    let back = s.provider.sign_in(auth_url, "nobody-logs-in").await;
    assert!(
        back.starts_with(&s.app.url("/v1/auth/callback/silent?code=")),
        "{back}"
    );
    let page = s.callback(&back, "oauth_state_silent", Some(&state)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'sha256-") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors http://ui.test"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("'*'") && !html.contains("location.origin"),
        "{html}"
    );
    let data = page_data(&html);
    assert_eq!(data["origin"], "http://ui.test");
    let message = &data["message"];
    assert_eq!(message["type"], "silent-auth-result");
    assert_eq!(message["success"], true);
    assert!(message["expires_at"].is_i64());
    let me = s.me(message["access_token"].as_str().unwrap()).await;
    assert_eq!(me["email"], "sam@example.com");
}

#[tokio::test]
async fn the_silent_page_reflects_no_request_input() {
    let s = setup(Options::default()).await;
    let hostile = "%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    for (error, expected) in [
        ("login_required", "login_required"),
        (hostile, "provider_error"),
    ] {
        let url = format!(
            "{}?error={error}&error_description={hostile}&state={hostile}",
            s.app.url("/v1/auth/callback/silent")
        );
        let page = s.callback(&url, "oauth_state_silent", Some("x")).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(!html.contains("alert"), "{html}");
        assert_eq!(html.matches("<script").count(), 2, "{html}");
        let message = &page_data(&html)["message"];
        assert_eq!(message["success"], false);
        assert_eq!(message["error"], expected);
    }
    // A callback whose state is not the cookie's: a failure page, still 200.
    let url = format!("{}?code=c&state=a", s.app.url("/v1/auth/callback/silent"));
    let page = s.callback(&url, "oauth_state_silent", Some("b")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page_data(&page.text().await.unwrap())["message"]["error"],
        "invalid_request"
    );
}

#[tokio::test]
async fn fragment_mode_puts_the_tokens_after_the_hash() {
    let s = setup(Options {
        browser_login: BrowserLoginConfig {
            post_login_redirect: Some(format!("{UI_CALLBACK}?next=%2Fprojects")),
            redirect_mode: RedirectMode::Fragment,
            ui_origin: None,
        },
        ..Options::default()
    })
    .await;
    let response = s.sign_in("fran@example.com").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let to_ui = location(&response);
    let (before, fragment) = to_ui.split_once('#').unwrap();
    assert_eq!(before, format!("{UI_CALLBACK}?next=%2Fprojects"));
    let tokens = query(&format!("http://x/?{fragment}"));
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(
        s.me(&tokens["access_token"]).await["email"],
        "fran@example.com"
    );
    // Without a UI origin there is nobody to post a silent result to.
    let check = s.get("/v1/auth/silent-check").await;
    let body = problem(check, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        body["error"].as_str().unwrap().contains("ENCLII_UI_ORIGIN"),
        "{body}"
    );
}

#[tokio::test]
async fn the_eleventh_sign_in_start_in_a_minute_is_429() {
    let s = setup(Options::default()).await;
    for _ in 0..10 {
        s.begin().await;
    }
    let response = s.get("/v1/auth/login").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn outside_oidc_mode_the_routes_answer_503_naming_the_mode() {
    let app = TestApp::spawn().await;
    for path in [
        "/v1/auth/login",
        "/v1/auth/callback?code=c&state=s",
        "/v1/auth/silent-check",
    ] {
        let response = app.get(path).await;
        let body = problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
        assert!(
            body["error"].as_str().unwrap().contains("ENCLII_AUTH_MODE"),
            "{path}: {body}"
        );
    }
    let page = app.get("/v1/auth/callback/silent?code=c&state=s").await;
    assert_eq!(page.status(), StatusCode::OK);
    let data = page_data(&page.text().await.unwrap());
    assert_eq!(data["message"]["error"], "temporarily_unavailable");
    assert_eq!(data["origin"], Value::Null);
}

#[tokio::test]
async fn without_redis_sign_in_answers_503_naming_redis() {
    let provider = OidcProvider::reserve();
    let mut auth = test_auth_config();
    auth.oidc = Some(provider.oidc_config());
    let app = TestApp::builder().auth(auth).redis_url(None).spawn().await;
    let body = problem(
        app.get("/v1/auth/login").await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(
        body["error"].as_str().unwrap().contains("ENCLII_REDIS_URL"),
        "{body}"
    );
}

#[tokio::test]
async fn while_the_provider_is_down_sign_in_answers_503_naming_it_then_recovers() {
    let mut s = setup(Options {
        start_provider: false,
        ..Options::default()
    })
    .await;
    let response = s.get("/v1/auth/login").await;
    let body = problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        body["error"].as_str().unwrap().contains(&s.provider.issuer),
        "{body}"
    );
    s.provider.start(&s.app, false).await;
    // Discovery is retried on demand (at most every 2 s): poll until it has been, within the
    // rate limit of 10 starts a minute.
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..8 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        status = s.get("/v1/auth/login").await.status();
        if status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
    }
    assert_eq!(status, StatusCode::FOUND);
}
