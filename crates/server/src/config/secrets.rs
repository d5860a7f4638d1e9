//! The key-encryption key of env var values (`ENCLII_ENVVAR_ENCRYPTION_KEY`, 32 bytes as base64 or
//! 64 hex characters) and, while rotating it, the key before (`..._PREVIOUS`). No key means the
//! env var routes answer 503 (`dev` generates one); there is no built-in key.

use secrecy::{ExposeSecret as _, SecretString};
use switchyard_auth::sealing::{AesKey, KeyEncryptionKeys};

use super::Reader;

const KEY_VAR: &str = switchyard_core::ENCRYPTION_KEY_VAR;
const PREVIOUS_VAR: &str = "ENCLII_ENVVAR_ENCRYPTION_KEY_PREVIOUS";

/// The keys as configured (validated; turned into `KeyEncryptionKeys` where they are used).
#[derive(Debug, Clone, Default)]
pub struct EnvVarKeyConfig {
    pub current: Option<SecretString>,
    pub previous: Option<SecretString>,
}

impl EnvVarKeyConfig {
    /// The key-encryption keys, when a current key is set.
    pub fn keys(&self) -> Option<KeyEncryptionKeys> {
        let parse = |s: &SecretString| AesKey::parse(s.expose_secret()).ok();
        let current = parse(self.current.as_ref()?)?;
        let previous = self.previous.as_ref().and_then(parse);
        KeyEncryptionKeys::new(current, previous).ok()
    }

    /// The fingerprints, for `config check` (never the keys).
    pub fn describe(&self) -> (String, String) {
        let show = |key: &Option<SecretString>| match key.as_ref() {
            None => "(not set)".to_owned(),
            Some(s) => AesKey::parse(s.expose_secret()).map_or_else(
                |_| "(invalid)".to_owned(),
                |k| format!("(set, redacted; {})", k.fingerprint()),
            ),
        };
        (show(&self.current), show(&self.previous))
    }
}

pub(super) fn envvar_keys(r: &mut Reader<'_>) -> EnvVarKeyConfig {
    let mut read = |name: &str| {
        let raw = r.get(name)?;
        match AesKey::parse(raw) {
            Ok(_) => Some(SecretString::from(raw.to_owned())),
            Err(e) => {
                r.errors.push(format!("{name}: {e}"));
                None
            }
        }
    };
    let config = EnvVarKeyConfig {
        current: read(KEY_VAR),
        previous: read(PREVIOUS_VAR),
    };
    if config.current.is_none() && config.previous.is_some() {
        r.errors
            .push(format!("{PREVIOUS_VAR}: set only together with {KEY_VAR}"));
    } else if config.current.is_some() && config.previous.is_some() && config.keys().is_none() {
        r.errors
            .push(format!("{PREVIOUS_VAR}: is the same key as {KEY_VAR}"));
    }
    config
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::Config;

    const HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const B64: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";

    fn from(pairs: &[(&str, &str)]) -> Result<Config, Vec<String>> {
        let vars: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_vars(&vars).map_err(|e| e.0)
    }

    #[test]
    fn keys_are_optional_but_never_malformed() {
        assert!(from(&[]).unwrap().envvar_keys.keys().is_none());
        let config = from(&[(KEY_VAR, HEX), (PREVIOUS_VAR, B64)]).unwrap();
        assert!(config.envvar_keys.keys().is_some());
        let (current, previous) = config.envvar_keys.describe();
        assert!(current.starts_with("(set, redacted; sha256:"), "{current}");
        assert!(!current.contains(HEX) && !previous.contains(B64));
        // The original's hard-coded default is not a key we accept.
        let errors = from(&[(KEY_VAR, "enclii-dev-key-32-bytes-exactly!")]).unwrap_err();
        assert!(errors[0].starts_with(KEY_VAR), "{errors:?}");
        let errors = from(&[(PREVIOUS_VAR, HEX)]).unwrap_err();
        assert!(errors[0].starts_with(PREVIOUS_VAR), "{errors:?}");
        let errors = from(&[(KEY_VAR, HEX), (PREVIOUS_VAR, HEX)]).unwrap_err();
        assert!(errors[0].contains("same key"), "{errors:?}");
    }
}
