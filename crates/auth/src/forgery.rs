//! Test support (feature `test-support`): a corpus of forged JWTs built around one genuine token,
//! so every verifier — our session tokens, Janua's tokens — is checked against the same attacks:
//! `alg: none`, HMAC keyed with public material, other algorithms over a valid signature, foreign
//! keys under trusted or hostile `kid`s, `jku`/`x5u`/`jwk`/`x5c` headers, broken claims and
//! structural damage.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, errors::Error};
use serde_json::{Value, json};

use crate::session::MAX_TOKEN_BYTES;

/// What the verifier under test trusts, and the claims of a token it would accept.
pub struct Target<'a> {
    /// The `kid` the verifier knows.
    pub kid: &'a str,
    /// PEM of the key the verifier trusts (claim-level cases are signed with it).
    pub trusted_pem: &'a str,
    /// PEM of a key the verifier must not trust.
    pub attacker_pem: &'a str,
    /// Public material an attacker has (JWKS JSON, modulus, public PEM), used as HMAC secrets.
    pub public_material: Vec<(&'static str, Vec<u8>)>,
    /// Claims the verifier accepts.
    pub claims: Value,
    /// Claim sets the verifier must refuse even when signed with the trusted key.
    pub broken_claims: Vec<(&'static str, Value)>,
    /// A claim an attacker would like to change (name, value), for the signature-reuse case.
    pub escalation: (&'static str, Value),
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// Signs `claims` with `alg` and `key`; `extra` header fields are spliced in after signing (the
/// signature then covers the header without them, as an attacker's splice would).
fn signed(
    alg: Algorithm,
    key: &EncodingKey,
    kid: Option<&str>,
    claims: &Value,
    extra: &[(&str, Value)],
) -> Result<String, Error> {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let token = encode(&header, claims, key)?;
    if extra.is_empty() {
        return Ok(token);
    }
    let mut spliced = serde_json::to_value(&header).unwrap_or_default();
    for (k, v) in extra {
        spliced[k] = v.clone();
    }
    let parts: Vec<&str> = token.splitn(3, '.').collect();
    Ok(format!("{}.{}.{}", b64(&spliced), parts[1], parts[2]))
}

/// The genuine token of `target` (signed with the trusted key): it must verify, or the corpus
/// proves nothing.
pub fn genuine(target: &Target<'_>) -> Result<String, Error> {
    let key = EncodingKey::from_rsa_pem(target.trusted_pem.as_bytes())?;
    signed(
        Algorithm::RS256,
        &key,
        Some(target.kid),
        &target.claims,
        &[],
    )
}

/// Every forged variant, named.
pub fn corpus(target: &Target<'_>) -> Result<Vec<(String, String)>, Error> {
    let kid = target.kid;
    let claims = &target.claims;
    let trusted = EncodingKey::from_rsa_pem(target.trusted_pem.as_bytes())?;
    let attacker = EncodingKey::from_rsa_pem(target.attacker_pem.as_bytes())?;
    let mut out: Vec<(String, String)> = Vec::new();

    // 1. alg "none" in every spelling, with and without a signature segment.
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        for sig in ["", "AAAA"] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
            out.push((
                format!("alg {alg:?} sig {sig:?}"),
                format!("{}.{}.{sig}", b64(&header), b64(claims)),
            ));
        }
    }
    // 2. HMAC keyed with public material (the classic RS→HS confusion).
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        for (what, secret) in target
            .public_material
            .iter()
            .chain([&("empty", Vec::new())])
        {
            let key = EncodingKey::from_secret(secret);
            out.push((
                format!("{alg:?} keyed with {what}"),
                signed(alg, &key, Some(kid), claims, &[])?,
            ));
        }
    }
    // 3. Other algorithms named in the header over a valid RS256 signature.
    let valid = genuine(target)?;
    let parts: Vec<&str> = valid.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    for alg in [
        "RS384", "RS512", "PS256", "PS512", "ES256", "EdDSA", "rs256", "RS256 ",
    ] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
        out.push((
            format!("header alg {alg}"),
            format!("{}.{p}.{s}", b64(&header)),
        ));
    }
    // 4. A foreign key under the trusted kid, unknown and hostile kids; no kid at all.
    let long_kid = "k".repeat(5000);
    for hostile in [
        kid,
        "unknown",
        "",
        "../../../../etc/passwd",
        "' OR '1'='1",
        "\u{0}",
        long_kid.as_str(),
    ] {
        out.push((
            format!("attacker key, kid {hostile:.20}"),
            signed(Algorithm::RS256, &attacker, Some(hostile), claims, &[])?,
        ));
    }
    out.push((
        "attacker key, no kid".into(),
        signed(Algorithm::RS256, &attacker, None, claims, &[])?,
    ));
    out.push((
        "trusted key, no kid".into(),
        signed(Algorithm::RS256, &trusted, None, claims, &[])?,
    ));
    for hostile in ["unknown", "", "../x", "null"] {
        out.push((
            format!("trusted key, kid {hostile:?}"),
            signed(Algorithm::RS256, &trusted, Some(hostile), claims, &[])?,
        ));
    }
    // 5. Key-location header fields pointing at the attacker's key.
    let attacker_jwk = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "attacker"});
    for (field, value) in [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", attacker_jwk),
        ("x5c", json!(["MIIB"])),
    ] {
        for kid_choice in [Some(kid), Some("attacker"), None] {
            out.push((
                format!("{field} with kid {kid_choice:?}"),
                signed(
                    Algorithm::RS256,
                    &attacker,
                    kid_choice,
                    claims,
                    &[(field, value.clone())],
                )?,
            ));
        }
    }
    // 6. Broken claims: signed with the trusted key (only the claim is wrong), with HMAC over
    //    public material, and with the attacker's key.
    let hs_public = target.public_material.first().map_or_else(
        || EncodingKey::from_secret(b""),
        |(_, m)| EncodingKey::from_secret(m),
    );
    for (name, c) in &target.broken_claims {
        out.push((
            format!("claim: {name}"),
            signed(Algorithm::RS256, &trusted, Some(kid), c, &[])?,
        ));
        out.push((
            format!("claim: {name}, HS256"),
            signed(Algorithm::HS256, &hs_public, Some(kid), c, &[])?,
        ));
        out.push((
            format!("claim: {name}, attacker key"),
            signed(Algorithm::RS256, &attacker, Some(kid), c, &[])?,
        ));
    }
    // 7. Structural damage to the genuine token.
    let mut other_claims = claims.clone();
    other_claims["sub"] = json!("someone-else");
    let other = signed(Algorithm::RS256, &trusted, Some(kid), &other_claims, &[])?;
    let other_sig = other.split('.').nth(2).unwrap_or_default().to_owned();
    let mut escalated = claims.clone();
    escalated[target.escalation.0] = target.escalation.1.clone();
    let mut flipped = URL_SAFE_NO_PAD.decode(s).unwrap_or_default();
    if let Some(byte) = flipped.get_mut(10) {
        *byte ^= 1;
    }
    let flipped = URL_SAFE_NO_PAD.encode(flipped);
    for (name, token) in [
        ("stripped signature", format!("{h}.{p}.")),
        ("no signature segment", format!("{h}.{p}")),
        ("swapped signature", format!("{h}.{p}.{other_sig}")),
        ("flipped signature bit", format!("{h}.{p}.{flipped}")),
        (
            "escalated claim, old signature",
            format!("{h}.{}.{s}", b64(&escalated)),
        ),
        (
            "truncated signature",
            format!("{h}.{p}.{}", &s[..s.len().saturating_sub(4)]),
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
        out.push((name.to_owned(), token));
    }
    Ok(out)
}
