//! Authentication of Roundhouse's build callbacks (DESIGN.md §10): an HMAC-SHA256 signature over
//! `"<unix timestamp>.<raw body>"` sent as `X-Enclii-Signature: sha256=<hex>` with
//! `X-Enclii-Timestamp` (at most 300 s old or ahead), or — for today's Roundhouse, which only
//! knows a static key — `Authorization: Bearer <key>`. Also GitHub's webhook signature. Every
//! comparison is constant-time.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// How far a signed timestamp may be from our clock.
pub const MAX_SKEW_SECS: i64 = 300;

/// The credentials a callback request carries (header values as sent).
#[derive(Debug, Default, Clone, Copy)]
pub struct CallbackCredentials<'a> {
    pub authorization: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Why a callback was refused (never says which part of a secret was wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallbackRefusal {
    #[error("missing X-Enclii-Signature/X-Enclii-Timestamp or Authorization")]
    Missing,
    #[error("signature timestamp is malformed or more than 300 s from now")]
    Stale,
    #[error("invalid signature or key")]
    Invalid,
}

/// `sha256=<hex HMAC-SHA256(key, "<timestamp>.<body>")>`: what Roundhouse sends (and the README
/// shows how to compute).
pub fn sign(key: &SecretString, timestamp: i64, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac(key, timestamp, body)))
}

fn mac(key: &SecretString, timestamp: i64, body: &[u8]) -> Vec<u8> {
    hmac_of(key, &[timestamp.to_string().as_bytes(), b".", body])
}

/// HMAC-SHA256 of the concatenated `parts`.
#[expect(clippy::expect_used, reason = "HMAC accepts keys of any length")]
fn hmac_of(key: &SecretString, parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Constant-time equality of two byte strings (compared as SHA-256 digests, so their lengths
/// leak nothing either).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Accepts the request when it is signed with `key` at a timestamp within the skew of `now`, or
/// carries `Bearer <key>`. A signature, when present, is the only credential considered.
pub fn verify(
    key: &SecretString,
    credentials: CallbackCredentials<'_>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), CallbackRefusal> {
    match (credentials.signature, credentials.timestamp) {
        (Some(signature), Some(timestamp)) => {
            let ts: i64 = timestamp
                .trim()
                .parse()
                .map_err(|_| CallbackRefusal::Stale)?;
            if (now_unix - ts).abs() > MAX_SKEW_SECS {
                return Err(CallbackRefusal::Stale);
            }
            let expected = sign(key, ts, body);
            if constant_time_eq(signature.trim().as_bytes(), expected.as_bytes()) {
                Ok(())
            } else {
                Err(CallbackRefusal::Invalid)
            }
        }
        (Some(_), None) | (None, Some(_)) => Err(CallbackRefusal::Missing),
        (None, None) => {
            let header = credentials.authorization.ok_or(CallbackRefusal::Missing)?;
            let token = header
                .strip_prefix("Bearer ")
                .ok_or(CallbackRefusal::Invalid)?;
            if constant_time_eq(token.as_bytes(), key.expose_secret().as_bytes()) {
                Ok(())
            } else {
                Err(CallbackRefusal::Invalid)
            }
        }
    }
}

/// GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn verify_github(
    secret: &SecretString,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), CallbackRefusal> {
    let header = header.ok_or(CallbackRefusal::Missing)?;
    let expected = format!("sha256={}", hex::encode(hmac_of(secret, &[body])));
    if constant_time_eq(header.trim().as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(CallbackRefusal::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretString {
        SecretString::from("callback-key".to_owned())
    }

    fn signed<'a>(ts: &'a str, sig: &'a str) -> CallbackCredentials<'a> {
        CallbackCredentials {
            authorization: None,
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    #[test]
    fn signatures_bind_key_timestamp_and_body() {
        let body = br#"{"job_id":"j"}"#;
        let now = 1_800_000_000;
        let sig = sign(&key(), now, body);
        let ts = now.to_string();
        assert_eq!(verify(&key(), signed(&ts, &sig), body, now + 10), Ok(()));
        assert_eq!(
            verify(&key(), signed(&ts, &sig), br#"{"job_id":"k"}"#, now),
            Err(CallbackRefusal::Invalid)
        );
        let other = SecretString::from("other".to_owned());
        assert_eq!(
            verify(&other, signed(&ts, &sig), body, now),
            Err(CallbackRefusal::Invalid)
        );
        assert_eq!(
            verify(&key(), signed(&ts, &sig), body, now + MAX_SKEW_SECS + 1),
            Err(CallbackRefusal::Stale)
        );
        let later = (now + 1).to_string();
        assert_eq!(
            verify(&key(), signed(&later, &sig), body, now),
            Err(CallbackRefusal::Invalid),
            "the timestamp is signed"
        );
        assert_eq!(
            verify(&key(), signed("soon", &sig), body, now),
            Err(CallbackRefusal::Stale)
        );
    }

    #[test]
    fn github_signatures() {
        let body = br#"{"zen":"x"}"#;
        let good = format!("sha256={}", hex::encode(hmac_of(&key(), &[body])));
        assert_eq!(verify_github(&key(), Some(&good), body), Ok(()));
        assert_eq!(
            verify_github(&key(), Some(&good), b"{}"),
            Err(CallbackRefusal::Invalid)
        );
        assert_eq!(
            verify_github(&key(), None, body),
            Err(CallbackRefusal::Missing)
        );
    }

    #[test]
    fn bearer_is_the_fallback_and_nothing_is_refused() {
        let bearer = |h| CallbackCredentials {
            authorization: Some(h),
            ..CallbackCredentials::default()
        };
        assert_eq!(
            verify(&key(), bearer("Bearer callback-key"), b"x", 0),
            Ok(())
        );
        for bad in [
            "Bearer callback-ke",
            "Bearer ",
            "callback-key",
            "Basic callback-key",
        ] {
            assert_eq!(
                verify(&key(), bearer(bad), b"x", 0),
                Err(CallbackRefusal::Invalid),
                "{bad}"
            );
        }
        assert_eq!(
            verify(&key(), CallbackCredentials::default(), b"x", 0),
            Err(CallbackRefusal::Missing)
        );
    }
}
