//! Envelope encryption of stored values (environment variables). A value is sealed with
//! AES-256-GCM under a data key (DEK) and associated data that binds it to its row; data keys are
//! stored wrapped (AES-256-GCM again) by the key-encryption key (KEK) from configuration, which
//! never reaches the database. Keys live in `SecretBox`es: zeroed on drop, never printed.

use aes_gcm::{
    Aes256Gcm, KeyInit as _, Nonce,
    aead::{Aead as _, Payload},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use rsa::rand_core::{OsRng, RngCore as _};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// Bytes of an AES-256 key.
pub const KEY_LEN: usize = 32;
/// Bytes of an AES-GCM nonce (random per sealing).
pub const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("expected 32 bytes as base64 or 64 hex characters (e.g. `openssl rand -base64 32`)")]
    MalformedKey,
    #[error("the current and previous keys are the same key")]
    SameKeys,
    #[error("data key {version} is wrapped by key {kek_id}, which is not configured")]
    UnknownKek { version: i32, kek_id: String },
    /// Only for a plaintext beyond AES-GCM's limit (64 GiB).
    #[error("the value is too long to encrypt")]
    Encrypt,
    /// Wrong key, tampered ciphertext, or ciphertext of another row.
    #[error("the value does not decrypt with its key and row")]
    Decrypt,
}

/// An AES-256 key: a KEK from configuration or an unwrapped DEK.
pub struct AesKey(SecretBox<[u8; KEY_LEN]>);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey([redacted])")
    }
}

/// A sealed value: the nonce and the ciphertext with its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl AesKey {
    /// A key given as standard base64 (padded or not) or as 64 hex characters.
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
                .ok()
        };
        let bytes = bytes.ok_or(SealError::MalformedKey)?;
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| SealError::MalformedKey)?;
        Ok(Self(SecretBox::new(Box::new(array))))
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut bytes);
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// The key as standard base64 (for a key file).
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.0.expose_secret()))
    }

    /// Names this key without revealing it: `sha256:` and 16 hex characters of a hash of the key
    /// under a fixed label (stored next to the data keys it wraps).
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"switchyard-kek-fingerprint\0");
        hasher.update(self.0.expose_secret());
        format!("sha256:{}", &hex::encode(hasher.finalize())[..16])
    }

    fn cipher(&self) -> Aes256Gcm {
        // The array has the one length AES-256 takes, so this cannot fail.
        Aes256Gcm::new(&(*self.0.expose_secret()).into())
    }

    /// Seals `plaintext` bound to `aad` under a fresh random nonce.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Sealed, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| SealError::Encrypt)?;
        Ok(Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Opens `sealed`, which must have been sealed under this key with this `aad`.
    pub fn open(&self, aad: &[u8], sealed: &Sealed) -> Result<SecretBox<Vec<u8>>, SealError> {
        let nonce: [u8; NONCE_LEN] = sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| SealError::Decrypt)?;
        let plain = self
            .cipher()
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| SealError::Decrypt)?;
        Ok(SecretBox::new(Box::new(plain)))
    }

    /// Seals a text value of the variable `key` stored in row `row` (see [`value_aad`]).
    pub fn seal_value(
        &self,
        row: Uuid,
        key: &str,
        value: &SecretString,
    ) -> Result<Sealed, SealError> {
        self.seal(&value_aad(row, key), value.expose_secret().as_bytes())
    }

    /// Opens the text value of the variable `key` in row `row`.
    pub fn open_value(
        &self,
        row: Uuid,
        key: &str,
        sealed: &Sealed,
    ) -> Result<SecretString, SealError> {
        let plain = self.open(&value_aad(row, key), sealed)?;
        let text = std::str::from_utf8(plain.expose_secret()).map_err(|_| SealError::Decrypt)?;
        Ok(SecretString::from(text.to_owned()))
    }
}

/// The associated data of a stored value: the row id (16 bytes) then the variable's key, so a
/// ciphertext copied onto another row, or kept under a renamed key, no longer opens.
pub fn value_aad(row: Uuid, key: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + key.len());
    aad.extend_from_slice(row.as_bytes());
    aad.extend_from_slice(key.as_bytes());
    aad
}

/// The associated data of a wrapped data key: a label and its version, so wrapped keys cannot be
/// swapped between versions.
fn dek_aad(version: i32) -> Vec<u8> {
    let mut aad = b"switchyard-dek\0".to_vec();
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

/// The key-encryption keys: the current one wraps new data keys; the previous one (during a
/// rotation of `ENCLII_ENVVAR_ENCRYPTION_KEY`) still unwraps the data keys it wrapped.
#[derive(Debug)]
pub struct KeyEncryptionKeys {
    current: AesKey,
    previous: Option<AesKey>,
}

impl KeyEncryptionKeys {
    pub fn new(current: AesKey, previous: Option<AesKey>) -> Result<Self, SealError> {
        if previous
            .as_ref()
            .is_some_and(|p| p.fingerprint() == current.fingerprint())
        {
            return Err(SealError::SameKeys);
        }
        Ok(Self { current, previous })
    }

    /// The fingerprint of the current key, stored with the data keys it wraps.
    pub fn current_id(&self) -> String {
        self.current.fingerprint()
    }

    /// Wraps the data key of `version` with the current key.
    pub fn wrap(&self, version: i32, dek: &AesKey) -> Result<Sealed, SealError> {
        self.current.seal(&dek_aad(version), dek.0.expose_secret())
    }

    /// Unwraps the data key of `version`, wrapped by the key named `kek_id`.
    pub fn unwrap(
        &self,
        version: i32,
        kek_id: &str,
        wrapped: &Sealed,
    ) -> Result<AesKey, SealError> {
        let kek = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| k.fingerprint() == kek_id)
            .ok_or_else(|| SealError::UnknownKek {
                version,
                kek_id: kek_id.to_owned(),
            })?;
        let plain = kek.open(&dek_aad(version), wrapped)?;
        let array: [u8; KEY_LEN] = plain
            .expose_secret()
            .as_slice()
            .try_into()
            .map_err(|_| SealError::Decrypt)?;
        Ok(AesKey(SecretBox::new(Box::new(array))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn keys_parse_from_base64_or_hex_only_at_32_bytes() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let from_hex = AesKey::parse(hex).unwrap();
        let from_b64 = AesKey::parse(from_hex.to_base64().expose_secret()).unwrap();
        assert_eq!(from_hex.fingerprint(), from_b64.fingerprint());
        for bad in ["", "short", "enclii-dev-key-32-bytes-exactly!", &hex[..62]] {
            assert_eq!(
                AesKey::parse(bad).unwrap_err(),
                SealError::MalformedKey,
                "{bad}"
            );
        }
        assert!(!format!("{from_hex:?}").contains("00112233"));
    }

    #[test]
    fn a_value_opens_only_in_its_row_under_its_key() {
        let dek = AesKey::generate();
        let (row, other) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = dek
            .seal_value(row, "DB_PASSWORD", &secret("hunter2"))
            .unwrap();
        assert!(!sealed.ciphertext.windows(7).any(|w| w == b"hunter2"));
        let opened = dek.open_value(row, "DB_PASSWORD", &sealed).unwrap();
        assert_eq!(opened.expose_secret(), "hunter2");
        assert_eq!(
            dek.open_value(other, "DB_PASSWORD", &sealed).unwrap_err(),
            SealError::Decrypt
        );
        assert_eq!(
            dek.open_value(row, "DB_PASS", &sealed).unwrap_err(),
            SealError::Decrypt
        );
        assert_eq!(
            AesKey::generate()
                .open_value(row, "DB_PASSWORD", &sealed)
                .unwrap_err(),
            SealError::Decrypt
        );
        let again = dek
            .seal_value(row, "DB_PASSWORD", &secret("hunter2"))
            .unwrap();
        assert_ne!(again.nonce, sealed.nonce, "a fresh nonce every time");
    }

    #[test]
    fn data_keys_unwrap_with_the_kek_that_wrapped_them() {
        let (old, new) = (AesKey::generate(), AesKey::generate());
        let old_id = old.fingerprint();
        let before = KeyEncryptionKeys::new(old, None).unwrap();
        let dek = AesKey::generate();
        let wrapped = before.wrap(1, &dek).unwrap();
        let unwrapped = before.unwrap(1, &old_id, &wrapped).unwrap();
        assert_eq!(unwrapped.fingerprint(), dek.fingerprint());
        assert!(
            before.unwrap(2, &old_id, &wrapped).is_err(),
            "bound to its version"
        );

        let old = AesKey::parse(before.current.to_base64().expose_secret()).unwrap();
        let rotated = KeyEncryptionKeys::new(new, Some(old)).unwrap();
        assert!(
            rotated.unwrap(1, &old_id, &wrapped).is_ok(),
            "previous key still unwraps"
        );
        let new_only = KeyEncryptionKeys::new(
            AesKey::parse(rotated.current.to_base64().expose_secret()).unwrap(),
            None,
        )
        .unwrap();
        assert!(matches!(
            new_only.unwrap(1, &old_id, &wrapped),
            Err(SealError::UnknownKek { version: 1, .. })
        ));
        let same = AesKey::parse(new_only.current.to_base64().expose_secret()).unwrap();
        assert_eq!(
            KeyEncryptionKeys::new(same, Some(new_only.current)).unwrap_err(),
            SealError::SameKeys
        );
    }
}
