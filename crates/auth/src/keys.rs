//! RS256 signing keys: the current key signs, previous keys still verify, all are published as a
//! JWKS. `kid` is the RFC 7638 thumbprint of the public key, so it is stable across restarts and
//! replicas for as long as the key is.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::{
    RsaPrivateKey, RsaPublicKey,
    pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey},
    pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, LineEnding},
    traits::PublicKeyParts,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::AuthError;

/// One public key as published at `/v1/auth/jwks`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

/// `{"keys": [...]}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

struct VerifyingKey {
    jwk: Jwk,
    decoding: DecodingKey,
}

impl VerifyingKey {
    fn new(public: &RsaPublicKey) -> Result<Self, AuthError> {
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        // RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let decoding =
            DecodingKey::from_rsa_components(&n, &e).map_err(|e| AuthError::Key(e.to_string()))?;
        Ok(Self {
            jwk: Jwk {
                kty: "RSA",
                use_: "sig",
                alg: "RS256",
                kid,
                n,
                e,
            },
            decoding,
        })
    }
}

/// The keys of this deployment.
pub struct KeySet {
    signing: EncodingKey,
    current: VerifyingKey,
    previous: Vec<VerifyingKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kid", &self.current.jwk.kid)
            .field("previous", &self.previous.len())
            .finish_non_exhaustive()
    }
}

/// Splits a file of concatenated PEM blocks.
fn pem_blocks(text: &str) -> Vec<String> {
    text.split("-----BEGIN ")
        .filter(|b| !b.trim().is_empty())
        .map(|b| format!("-----BEGIN {b}"))
        .collect()
}

fn private_key(pem: &str) -> Result<RsaPrivateKey, AuthError> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| AuthError::Key("not an RSA private key in PEM (PKCS#8 or PKCS#1)".into()))
}

fn public_key(pem: &str) -> Result<RsaPublicKey, AuthError> {
    if pem.contains("PRIVATE KEY") {
        return private_key(pem).map(|k| RsaPublicKey::from(&k));
    }
    RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| AuthError::Key("not an RSA public or private key in PEM".into()))
}

impl KeySet {
    /// `current` signs; `previous` (PEM blocks of public or private keys) only verify.
    pub fn from_pem(current: &SecretString, previous: &str) -> Result<Self, AuthError> {
        let private = private_key(current.expose_secret())?;
        if private.size() < 256 {
            return Err(AuthError::Key(
                "RSA keys must have at least 2048 bits".into(),
            ));
        }
        // jsonwebtoken takes PKCS#1 DER for RSA, whatever form the PEM came in.
        let der = private
            .to_pkcs1_der()
            .map_err(|e| AuthError::Key(e.to_string()))?;
        let signing = EncodingKey::from_rsa_der(der.as_bytes());
        let current = VerifyingKey::new(&RsaPublicKey::from(&private))?;
        let previous = pem_blocks(previous)
            .iter()
            .map(|pem| VerifyingKey::new(&public_key(pem)?))
            .filter(|k| !matches!(k, Ok(k) if k.jwk.kid == current.jwk.kid))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            signing,
            current,
            previous,
        })
    }

    /// A new RSA-2048 private key as PKCS#8 PEM (what `switchyard dev` stores in its data dir).
    pub fn generate_pem() -> Result<SecretString, AuthError> {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| AuthError::Key(e.to_string()))?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| AuthError::Key(e.to_string()))?;
        Ok(SecretString::from(pem.to_string()))
    }

    /// The `kid` new tokens carry.
    pub fn kid(&self) -> &str {
        &self.current.jwk.kid
    }

    pub(crate) fn signing_key(&self) -> &EncodingKey {
        &self.signing
    }

    /// The verifying key named `kid`, current or previous.
    pub(crate) fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.jwk.kid == kid)
            .map(|k| &k.decoding)
    }

    /// Every public key, current first.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: std::iter::once(&self.current)
                .chain(&self.previous)
                .map(|k| k.jwk.clone())
                .collect(),
        }
    }
}
