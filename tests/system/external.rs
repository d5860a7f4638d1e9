//! Janua access tokens (what the CLI sends), verified against a JWKS served over a real socket:
//! the user is created just in time, bad tokens are refused, unknown `kid`s refetch the JWKS at
//! most once per floor, and a rotated Janua key is picked up.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchyard_auth::{ExternalConfig, KeySet};
use switchyard_testkit::{TestApp, test_auth_config};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const JANUA_KEY: &str = include_str!("../../crates/auth/testdata/test-key-2.pem");
const ISSUER: &str = "https://janua.test";
const AUDIENCE: &str = "enclii-cli";

/// Janua's JWKS endpoint: serves `jwks`, counts requests.
struct Janua {
    url: String,
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

fn jwks_with_kid(kid: &str) -> Value {
    let keys = KeySet::from_pem(&JANUA_KEY.to_owned().into(), "")
        .unwrap()
        .jwks();
    let mut key = serde_json::to_value(&keys.keys[0]).unwrap();
    key["kid"] = json!(kid);
    json!({ "keys": [key] })
}

async fn janua() -> Janua {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    let jwks = Arc::new(Mutex::new(jwks_with_kid("janua-1")));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (served, count) = (jwks.clone(), fetches.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (served, count) = (served.clone(), count.clone());
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let Ok(n) = socket.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                count.fetch_add(1, Ordering::SeqCst);
                let body = served.lock().unwrap().to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    Janua { url, jwks, fetches }
}

async fn app_trusting(janua: &Janua) -> TestApp {
    let mut auth = test_auth_config();
    auth.external = Some(ExternalConfig {
        jwks_url: janua.url.clone(),
        issuer: Some(ISSUER.to_owned()),
        audience: Some(AUDIENCE.to_owned()),
        cache_ttl: Duration::from_secs(300),
        refetch_floor: Duration::from_secs(10),
    });
    TestApp::builder().auth(auth).spawn().await
}

fn claims(sub: &str, email: &str) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({"iss": ISSUER, "aud": [AUDIENCE, "other"], "sub": sub, "email": email,
           "email_verified": true, "name": "Cli User", "iat": now, "exp": now + 600})
}

fn janua_token(kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(JANUA_KEY.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/v1/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_janua_token_signs_in_and_creates_the_user_once() {
    let janua = janua().await;
    let app = app_trusting(&janua).await;
    let token = janua_token("janua-1", &claims("sub-1", "cli@example.com"));
    let first: Value = me(&app, &token).await.json().await.unwrap();
    assert_eq!(first["email"], "cli@example.com", "{first}");
    assert_eq!(first["role"], "developer");
    let again = janua_token("janua-1", &claims("sub-1", "renamed@example.com"));
    let second: Value = me(&app, &again).await.json().await.unwrap();
    assert_eq!(
        second["id"], first["id"],
        "found again by (issuer, subject)"
    );
    assert_eq!(janua.fetches.load(Ordering::SeqCst), 1, "keys are cached");
}

#[tokio::test]
async fn bad_janua_tokens_are_refused() {
    let janua = janua().await;
    let app = app_trusting(&janua).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let base = claims("sub-2", "bad@example.com");
    let mut cases: Vec<(&str, String)> = Vec::new();
    for (name, field, value) in [
        ("wrong issuer", "iss", json!("https://evil.test")),
        ("wrong audience", "aud", json!(["someone-else"])),
        ("expired", "exp", json!(now - 120)),
        ("not yet valid", "nbf", json!(now + 600)),
        ("unverified email", "email_verified", json!(false)),
    ] {
        let mut c = base.clone();
        c[field] = value;
        cases.push((name, janua_token("janua-1", &c)));
    }
    let hs = encode(
        &{
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some("janua-1".into());
            h
        },
        &base,
        &EncodingKey::from_secret(janua.jwks.lock().unwrap().to_string().as_bytes()),
    )
    .unwrap();
    cases.push(("HS256 with the JWKS as secret", hs));
    let ours = KeySet::from_pem(
        &include_str!("../../crates/auth/testdata/test-key-1.pem")
            .to_owned()
            .into(),
        "",
    )
    .unwrap();
    let mut forged_kid = Header::new(Algorithm::RS256);
    forged_kid.kid = Some(ours.kid().to_owned());
    let janua_signed_with_our_kid = encode(
        &forged_kid,
        &base,
        &EncodingKey::from_rsa_pem(JANUA_KEY.as_bytes()).unwrap(),
    )
    .unwrap();
    cases.push(("Janua key under our kid", janua_signed_with_our_kid));
    for (name, token) in cases {
        assert_eq!(
            me(&app, &token).await.status(),
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
    }
    // The genuine token still works, so the refusals above were about the claims.
    assert_eq!(
        me(&app, &janua_token("janua-1", &base)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_kids_refetch_at_most_once_per_floor_and_rotation_is_picked_up() {
    let janua = janua().await;
    let app = app_trusting(&janua).await;
    let good = janua_token("janua-1", &claims("sub-3", "rot@example.com"));
    assert_eq!(me(&app, &good).await.status(), StatusCode::OK);
    assert_eq!(janua.fetches.load(Ordering::SeqCst), 1);
    for i in 0..20 {
        let forged = janua_token(&format!("forged-{i}"), &claims("sub-3", "rot@example.com"));
        assert_eq!(me(&app, &forged).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        janua.fetches.load(Ordering::SeqCst),
        1,
        "within the floor nothing is refetched"
    );
    // A second app (fresh cache) sees Janua's rotated key on its first unknown kid.
    *janua.jwks.lock().unwrap() = jwks_with_kid("janua-2");
    let other = app_trusting(&janua).await;
    let rotated = janua_token("janua-2", &claims("sub-3", "rot@example.com"));
    assert_eq!(me(&other, &rotated).await.status(), StatusCode::OK);
}

/// The shared forgery corpus against the Janua path, over HTTP: none may sign in.
#[tokio::test]
async fn no_forged_janua_token_is_accepted() {
    let janua = janua().await;
    let app = app_trusting(&janua).await;
    let base = claims("sub-forged", "forged@example.com");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let with = |field: &str, value: Option<Value>| {
        let mut c = base.clone();
        match value {
            Some(v) => c[field] = v,
            None => drop(c.as_object_mut().unwrap().remove(field)),
        }
        c
    };
    let jwks = janua.jwks.lock().unwrap().clone();
    let target = switchyard_auth::forgery::Target {
        kid: "janua-1",
        trusted_pem: JANUA_KEY,
        attacker_pem: include_str!("../../crates/auth/testdata/test-key-1.pem"),
        public_material: vec![
            ("jwks json", serde_json::to_vec(&jwks).unwrap()),
            (
                "modulus",
                jwks["keys"][0]["n"].as_str().unwrap().as_bytes().to_vec(),
            ),
        ],
        claims: base.clone(),
        broken_claims: vec![
            ("wrong iss", with("iss", Some(json!("https://evil.test")))),
            ("missing iss", with("iss", None)),
            ("wrong aud", with("aud", Some(json!(["someone-else"])))),
            ("missing aud", with("aud", None)),
            ("expired beyond leeway", with("exp", Some(json!(now - 61)))),
            ("missing exp", with("exp", None)),
            ("not yet valid", with("nbf", Some(json!(now + 600)))),
            ("missing sub", with("sub", None)),
            (
                "unverified email",
                with("email_verified", Some(json!(false))),
            ),
            ("no email", with("email", None)),
            (
                "iss with a trailing slash",
                with("iss", Some(json!("https://janua.test/"))),
            ),
            (
                "iss in upper case",
                with("iss", Some(json!("HTTPS://JANUA.TEST"))),
            ),
            (
                "aud as another string",
                with("aud", Some(json!("enclii-cli-evil"))),
            ),
            ("exp as string", with("exp", Some(json!("9999999999")))),
        ],
        escalation: ("sub", json!("someone-else")),
    };
    let corpus = switchyard_auth::forgery::corpus(&target).unwrap();
    assert!(corpus.len() >= 100, "{} variants", corpus.len());
    let mut accepted = Vec::new();
    for (name, token) in &corpus {
        // The bearer extractor trims whitespace, so "spaces" is the genuine token over HTTP.
        if name == "spaces" {
            continue;
        }
        if me(&app, token).await.status() != StatusCode::UNAUTHORIZED {
            accepted.push(name.clone());
        }
    }
    assert!(accepted.is_empty(), "accepted forged tokens: {accepted:?}");
    let genuine = switchyard_auth::forgery::genuine(&target).unwrap();
    assert_eq!(me(&app, &genuine).await.status(), StatusCode::OK);
}
