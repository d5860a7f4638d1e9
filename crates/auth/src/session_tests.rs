//! Session tokens: round trips, key rotation, and a corpus of forged tokens of which none may be
//! accepted.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::*;

const KEY_1: &str = include_str!("../testdata/test-key-1.pem");
const KEY_2: &str = include_str!("../testdata/test-key-2.pem");
const KEY_2_PUBLIC: &str = include_str!("../testdata/test-key-2.pub.pem");

fn keys(current: &str, previous: &str) -> Arc<KeySet> {
    Arc::new(KeySet::from_pem(&SecretString::from(current.to_owned()), previous).unwrap())
}

fn issuer() -> SessionIssuer {
    SessionIssuer::new(keys(KEY_1, ""), Duration::minutes(15), Duration::days(7))
}

fn user() -> SessionUser {
    SessionUser {
        id: Uuid::now_v7(),
        email: "dev@example.com".into(),
        role: Role::Developer,
    }
}

#[test]
fn issued_tokens_verify_with_their_type_only() {
    let issuer = issuer();
    let session = Uuid::now_v7();
    let tokens = issuer.issue(&user(), session).unwrap();
    let access = issuer
        .verify(&tokens.access_token, TokenType::Access)
        .unwrap();
    assert_eq!(access.session_id, session);
    assert_eq!(access.role(), Role::Developer);
    assert_eq!(access.iss, ISSUER);
    let refresh = issuer
        .verify(&tokens.refresh_token, TokenType::Refresh)
        .unwrap();
    assert_eq!(refresh.jti, tokens.refresh_jti);
    assert!(matches!(
        issuer.verify(&tokens.refresh_token, TokenType::Access),
        Err(AuthError::WrongType { .. })
    ));
    assert!(matches!(
        issuer.verify(&tokens.access_token, TokenType::Refresh),
        Err(AuthError::WrongType { .. })
    ));
}

#[test]
fn kid_is_the_key_thumbprint_and_stable() {
    let a = keys(KEY_1, "");
    let b = keys(KEY_1, "");
    assert_eq!(a.kid(), b.kid());
    assert_eq!(a.kid().len(), 43, "base64url SHA-256");
    assert_ne!(a.kid(), keys(KEY_2, "").kid());
    let jwks = a.jwks();
    assert_eq!(jwks.keys.len(), 1);
    assert_eq!(jwks.keys[0].kid, a.kid());
    assert_eq!(
        (jwks.keys[0].kty, jwks.keys[0].alg, jwks.keys[0].use_),
        ("RSA", "RS256", "sig")
    );
}

#[test]
fn rotation_keeps_old_sessions_valid_and_publishes_both_keys() {
    let old = SessionIssuer::new(keys(KEY_2, ""), Duration::minutes(15), Duration::days(7));
    let tokens = old.issue(&user(), Uuid::now_v7()).unwrap();
    // KEY_1 is the new signing key; KEY_2 stays as a previous key (public part is enough).
    let rotated = SessionIssuer::new(
        keys(KEY_1, KEY_2_PUBLIC),
        Duration::minutes(15),
        Duration::days(7),
    );
    rotated
        .verify(&tokens.access_token, TokenType::Access)
        .unwrap();
    assert_eq!(rotated.keys().jwks().keys.len(), 2);
    // Without the previous key, the old session is gone.
    assert_eq!(
        issuer().verify(&tokens.access_token, TokenType::Access),
        Err(AuthError::UnknownKey)
    );
}

#[test]
fn small_and_malformed_keys_are_refused() {
    let small = include_str!("../testdata/too-small.pem");
    assert!(KeySet::from_pem(&SecretString::from(small.to_owned()), "").is_err());
    assert!(KeySet::from_pem(&SecretString::from("not a key".to_owned()), "").is_err());
    assert!(
        KeySet::from_pem(&SecretString::from(KEY_1.to_owned()), "-----BEGIN nonsense").is_err()
    );
}

fn good_claims(issuer: &SessionIssuer) -> Value {
    let tokens = issuer.issue(&user(), Uuid::now_v7()).unwrap();
    let payload = tokens.access_token.split('.').nth(1).unwrap().to_owned();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Our session tokens as the forgery corpus's target: KEY_1 is trusted, KEY_2 is the attacker's.
fn target(issuer: &SessionIssuer) -> crate::forgery::Target<'_> {
    let claims = good_claims(issuer);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = claims.clone();
        f(c.as_object_mut().unwrap());
        c
    };
    let broken_claims = vec![
        (
            "wrong iss",
            with(&|c| drop(c.insert("iss".into(), json!("janua")))),
        ),
        (
            "empty iss",
            with(&|c| drop(c.insert("iss".into(), json!("")))),
        ),
        ("missing iss", with(&|c| drop(c.remove("iss")))),
        (
            "expired",
            with(&|c| drop(c.insert("exp".into(), json!(now - 3600)))),
        ),
        (
            "expired beyond leeway",
            with(&|c| drop(c.insert("exp".into(), json!(now - 31)))),
        ),
        ("missing exp", with(&|c| drop(c.remove("exp")))),
        (
            "exp as string",
            with(&|c| drop(c.insert("exp".into(), json!("9999999999")))),
        ),
        (
            "not yet valid",
            with(&|c| drop(c.insert("nbf".into(), json!(now + 3600)))),
        ),
        ("missing nbf", with(&|c| drop(c.remove("nbf")))),
        ("missing sub", with(&|c| drop(c.remove("sub")))),
        (
            "refresh type",
            with(&|c| drop(c.insert("token_type".into(), json!("refresh")))),
        ),
        (
            "unknown type",
            with(&|c| drop(c.insert("token_type".into(), json!("admin")))),
        ),
        ("missing session", with(&|c| drop(c.remove("session_id")))),
        (
            "user id not uuid",
            with(&|c| drop(c.insert("user_id".into(), json!("1 OR 1=1")))),
        ),
    ];
    let jwks = issuer.keys().jwks();
    crate::forgery::Target {
        kid: issuer.keys().kid(),
        trusted_pem: KEY_1,
        attacker_pem: KEY_2,
        public_material: vec![
            ("jwks json", serde_json::to_vec(&jwks).unwrap()),
            ("modulus", jwks.keys[0].n.as_bytes().to_vec()),
            ("attacker public pem", KEY_2_PUBLIC.as_bytes().to_vec()),
        ],
        claims,
        broken_claims,
        escalation: ("role", json!("admin")),
    }
}

#[test]
fn no_forged_token_is_accepted() {
    let issuer = issuer();
    let target = target(&issuer);
    let corpus = crate::forgery::corpus(&target).unwrap();
    assert!(corpus.len() >= 100, "corpus has {} variants", corpus.len());
    let accepted: Vec<&String> = corpus
        .iter()
        .filter(|(name, token)| {
            // "claim: refresh type" signed with our key is a genuine refresh token of ours: only
            // its use as an access token is a forgery.
            let as_refresh =
                name != "claim: refresh type" && issuer.verify(token, TokenType::Refresh).is_ok();
            issuer.verify(token, TokenType::Access).is_ok() || as_refresh
        })
        .map(|(name, _)| name)
        .collect();
    assert!(accepted.is_empty(), "accepted forged tokens: {accepted:?}");
    // The corpus is not vacuous: the genuine token it was built from verifies.
    let genuine = crate::forgery::genuine(&target).unwrap();
    issuer.verify(&genuine, TokenType::Access).unwrap();
}
