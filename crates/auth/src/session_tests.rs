//! Session tokens: round trips, key rotation, and a corpus of forged tokens of which none may be
//! accepted.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
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

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn good_claims(issuer: &SessionIssuer) -> Value {
    let tokens = issuer.issue(&user(), Uuid::now_v7()).unwrap();
    let payload = tokens.access_token.split('.').nth(1).unwrap().to_owned();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Signs `claims` with `alg` and `key`, with extra header fields.
fn signed(
    alg: Algorithm,
    key: &EncodingKey,
    kid: Option<&str>,
    claims: &Value,
    extra: &[(&str, Value)],
) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let mut header = serde_json::to_value(&header).unwrap();
    for (k, v) in extra {
        header[k] = v.clone();
    }
    let mut header_obj: Header =
        serde_json::from_value(header.clone()).unwrap_or_else(|_| Header::new(alg));
    header_obj.kid = kid.map(str::to_owned);
    let token = encode(&header_obj, claims, key).unwrap();
    // Re-emit the header with the extra fields, keeping the signature (it then covers the original
    // header: a splice attackers try).
    if extra.is_empty() {
        token
    } else {
        let parts: Vec<&str> = token.splitn(3, '.').collect();
        format!("{}.{}.{}", b64(&header), parts[1], parts[2])
    }
}

fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64(header), b64(claims))
}

fn corpus(issuer: &SessionIssuer) -> Vec<(String, String)> {
    let kid = issuer.keys().kid().to_owned();
    let claims = good_claims(issuer);
    let attacker = EncodingKey::from_rsa_pem(KEY_2.as_bytes()).unwrap();
    let our_key = EncodingKey::from_rsa_pem(KEY_1.as_bytes()).unwrap();
    let jwks_json = serde_json::to_string(&issuer.keys().jwks()).unwrap();
    let public_n = issuer.keys().jwks().keys[0].n.clone();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |name: String, token: String| out.push((name, token));

    // 1. alg "none" in every spelling, with and without a signature segment.
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        for sig in ["", "AAAA"] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
            add(
                format!("alg {alg:?} sig {sig:?}"),
                unsigned(&header, &claims, sig),
            );
        }
    }
    // 2. HMAC keyed with public material (the classic RS→HS confusion).
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        for (what, secret) in [
            ("jwks json", jwks_json.as_bytes().to_vec()),
            ("modulus", public_n.as_bytes().to_vec()),
            ("public pem", KEY_2_PUBLIC.as_bytes().to_vec()),
            ("empty", Vec::new()),
        ] {
            let key = EncodingKey::from_secret(&secret);
            add(
                format!("{alg:?} keyed with {what}"),
                signed(alg, &key, Some(&kid), &claims, &[]),
            );
        }
    }
    // 3. Other asymmetric algorithms named in the header over a valid RS256 signature.
    let valid = signed(Algorithm::RS256, &our_key, Some(&kid), &claims, &[]);
    let parts: Vec<&str> = valid.split('.').collect();
    for alg in [
        "RS384", "RS512", "PS256", "PS512", "ES256", "EdDSA", "rs256", "RS256 ",
    ] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
        add(
            format!("header alg {alg}"),
            format!("{}.{}.{}", b64(&header), parts[1], parts[2]),
        );
    }
    // 4. Attacker's RSA key with our kid, an unknown kid, hostile kids, no kid.
    let long_kid = "k".repeat(5000);
    for hostile in [
        kid.as_str(),
        "unknown",
        "",
        "../../../../etc/passwd",
        "' OR '1'='1",
        "enclii-jwt-key-1",
        "\u{0}",
        long_kid.as_str(),
    ] {
        add(
            format!("attacker key, kid {:.20}", hostile),
            signed(Algorithm::RS256, &attacker, Some(hostile), &claims, &[]),
        );
    }
    add(
        "attacker key, no kid".into(),
        signed(Algorithm::RS256, &attacker, None, &claims, &[]),
    );
    add(
        "our key, no kid".into(),
        signed(Algorithm::RS256, &our_key, None, &claims, &[]),
    );
    for hostile in ["unknown", "", "../x", "null"] {
        add(
            format!("our key, kid {hostile:?}"),
            signed(Algorithm::RS256, &our_key, Some(hostile), &claims, &[]),
        );
    }
    // 5. Key-location header fields pointing at the attacker's key.
    let attacker_jwk = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "attacker"});
    for (field, value) in [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", attacker_jwk.clone()),
        ("x5c", json!(["MIIB"])),
    ] {
        for kid_choice in [Some(kid.as_str()), Some("attacker"), None] {
            add(
                format!("{field} with kid {kid_choice:?}"),
                signed(
                    Algorithm::RS256,
                    &attacker,
                    kid_choice,
                    &claims,
                    &[(field, value.clone())],
                ),
            );
        }
    }
    // 6. Claims we check, each broken, signed with OUR key (only the claim is wrong).
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let mut claim_cases: Vec<(&str, Value)> = Vec::new();
    let mut set = |name: &'static str, f: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        f(&mut c);
        claim_cases.push((name, c));
    };
    set("wrong iss", &|c| c["iss"] = json!("janua"));
    set("empty iss", &|c| c["iss"] = json!(""));
    set("missing iss", &|c| {
        drop(c.as_object_mut().unwrap().remove("iss"))
    });
    set("expired", &|c| c["exp"] = json!(now - 3600));
    set("expired beyond leeway", &|c| c["exp"] = json!(now - 31));
    set("missing exp", &|c| {
        drop(c.as_object_mut().unwrap().remove("exp"))
    });
    set("exp as string", &|c| c["exp"] = json!("9999999999"));
    set("not yet valid", &|c| c["nbf"] = json!(now + 3600));
    set("missing nbf", &|c| {
        drop(c.as_object_mut().unwrap().remove("nbf"))
    });
    set("missing sub", &|c| {
        drop(c.as_object_mut().unwrap().remove("sub"))
    });
    set("refresh type", &|c| c["token_type"] = json!("refresh"));
    set("unknown type", &|c| c["token_type"] = json!("admin"));
    set("missing session", &|c| {
        drop(c.as_object_mut().unwrap().remove("session_id"))
    });
    set("user id not uuid", &|c| c["user_id"] = json!("1 OR 1=1"));
    let hs_public = EncodingKey::from_secret(jwks_json.as_bytes());
    for (name, c) in &claim_cases {
        add(
            format!("claim: {name}"),
            signed(Algorithm::RS256, &our_key, Some(&kid), c, &[]),
        );
        add(
            format!("claim: {name}, HS256 with the JWKS"),
            signed(Algorithm::HS256, &hs_public, Some(&kid), c, &[]),
        );
        add(
            format!("claim: {name}, attacker key"),
            signed(Algorithm::RS256, &attacker, Some(&kid), c, &[]),
        );
    }
    // 7. Structural damage to a valid token.
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let other = issuer.issue(&user(), Uuid::now_v7()).unwrap().access_token;
    let other_sig = other.split('.').nth(2).unwrap();
    let mut escalated = claims.clone();
    escalated["role"] = json!("admin");
    let flipped_sig = {
        let mut bytes = URL_SAFE_NO_PAD.decode(s).unwrap();
        bytes[10] ^= 1;
        URL_SAFE_NO_PAD.encode(bytes)
    };
    for (name, token) in [
        ("stripped signature", format!("{h}.{p}.")),
        ("no signature segment", format!("{h}.{p}")),
        ("swapped signature", format!("{h}.{p}.{other_sig}")),
        ("flipped signature bit", format!("{h}.{p}.{flipped_sig}")),
        (
            "escalated role, old signature",
            format!("{h}.{}.{s}", b64(&escalated)),
        ),
        (
            "truncated signature",
            format!("{h}.{p}.{}", &s[..s.len() - 4]),
        ),
        ("extra segment", format!("{valid}.AAAA")),
        ("padding added", format!("{h}.{p}.{s}==")),
        ("spaces", format!(" {valid} ")),
        ("empty", String::new()),
        ("dots", "..".into()),
        ("garbage", "not.a.jwt".into()),
        ("header only", h.to_owned()),
        ("json header", format!("{{\"alg\":\"RS256\"}}.{p}.{s}")),
        (
            "oversized",
            format!("{h}.{}.{s}", "A".repeat(MAX_TOKEN_BYTES)),
        ),
    ] {
        add(name.to_owned(), token);
    }
    out
}

#[test]
fn no_forged_token_is_accepted() {
    let issuer = issuer();
    let corpus = corpus(&issuer);
    assert!(corpus.len() >= 100, "corpus has {} variants", corpus.len());
    let accepted: Vec<&String> = corpus
        .iter()
        .filter(|(name, token)| {
            // "claim: refresh type" is a genuine refresh token of ours: only its use as an access
            // token is a forgery.
            let as_refresh =
                name != "claim: refresh type" && issuer.verify(token, TokenType::Refresh).is_ok();
            issuer.verify(token, TokenType::Access).is_ok() || as_refresh
        })
        .map(|(name, _)| name)
        .collect();
    assert!(accepted.is_empty(), "accepted forged tokens: {accepted:?}");
    // The corpus is not vacuous: the untouched token it was built from verifies.
    let claims = good_claims(&issuer);
    let key = EncodingKey::from_rsa_pem(KEY_1.as_bytes()).unwrap();
    let genuine = signed(
        Algorithm::RS256,
        &key,
        Some(issuer.keys().kid()),
        &claims,
        &[],
    );
    issuer.verify(&genuine, TokenType::Access).unwrap();
}
