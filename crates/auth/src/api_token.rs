//! API tokens for the CLI and CI: `enclii_` + 64 lower-case hex characters (32 random bytes).
//! Only the SHA-256 (hex) is stored; the first 16 characters are shown to identify a token.

use rsa::rand_core::{OsRng, RngCore as _};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "enclii_";
const HEX_LEN: usize = 64;
/// How many leading characters are stored and shown (`enclii_` + 9 hex).
pub const DISPLAY_PREFIX_LEN: usize = 16;

/// A freshly minted token: the plaintext is shown to its owner once and never stored.
#[derive(Debug)]
pub struct NewApiToken {
    pub plaintext: SecretString,
    pub hash: String,
    pub prefix: String,
}

pub fn generate() -> NewApiToken {
    generate_with(PREFIX)
}

/// A secret of the same shape and storage under another `prefix` (invitation tokens use
/// `encinv_`): `prefix` + 64 hex characters of 32 random bytes, stored as its SHA-256.
pub fn generate_with(prefix: &str) -> NewApiToken {
    let mut bytes = [0u8; HEX_LEN / 2];
    OsRng.fill_bytes(&mut bytes);
    let plaintext = format!("{prefix}{}", hex::encode(bytes));
    NewApiToken {
        hash: hash(&plaintext),
        prefix: plaintext[..DISPLAY_PREFIX_LEN].to_owned(),
        plaintext: SecretString::from(plaintext),
    }
}

/// Whether `token` has the API token shape (checked before any lookup).
pub fn is_well_formed(token: &str) -> bool {
    is_well_formed_with(PREFIX, token)
}

/// Whether `token` is `prefix` followed by 64 lower-case hex characters.
pub fn is_well_formed_with(prefix: &str, token: &str) -> bool {
    token.len() == prefix.len() + HEX_LEN
        && token.starts_with(prefix)
        && token[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The stored form: hex SHA-256 of the whole token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The stored hash of a secret token.
pub fn hash_secret(token: &SecretString) -> String {
    hash(token.expose_secret())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_the_original_shape() {
        let a = generate();
        let b = generate();
        let text = a.plaintext.expose_secret();
        assert!(is_well_formed(text), "{}", a.prefix);
        assert_eq!(text.len(), 71);
        assert_eq!(a.prefix, &text[..16]);
        assert_eq!(a.hash, hash(text));
        assert_eq!(a.hash.len(), 64);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        let good = format!("enclii_{}", "a".repeat(64));
        assert!(is_well_formed(&good));
        for bad in [
            format!("enclii_{}", "A".repeat(64)),
            format!("enclii_{}", "a".repeat(63)),
            format!("enclii_{}", "g".repeat(64)),
            format!("enclil_{}", "a".repeat(64)),
            String::new(),
        ] {
            assert!(!is_well_formed(&bad), "{bad}");
        }
    }
}
