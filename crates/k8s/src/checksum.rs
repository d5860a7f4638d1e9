//! The pod template's `enclii.dev/config-checksum`: a SHA-256 over the variables in effect, so
//! changing a secret value (which the pod template only references by key) still rolls the pods.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Hex SHA-256 over every plain and secret variable, sorted by name, each field length-prefixed
/// so no two different sets hash alike. Only the digest leaves this function.
///
/// It is an unkeyed hash: someone who may read Deployments but not Secrets could confirm a guess
/// of every secret value at once, never read one. Values worth protecting are not guessable.
pub fn config_checksum(
    env: &BTreeMap<String, String>,
    secrets: &BTreeMap<String, SecretString>,
) -> String {
    let mut hash = Sha256::new();
    hash.update(b"switchyard-config-v1");
    let field = |hash: &mut Sha256, bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    for (name, value) in env {
        field(&mut hash, b"env");
        field(&mut hash, name.as_bytes());
        field(&mut hash, value.as_bytes());
    }
    for (name, value) in secrets {
        field(&mut hash, b"secret");
        field(&mut hash, name.as_bytes());
        field(&mut hash, value.expose_secret().as_bytes());
    }
    hex::encode(hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(pairs: &[(&str, &str)]) -> BTreeMap<String, SecretString> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), SecretString::from(*v)))
            .collect()
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn any_change_of_name_value_or_kind_changes_the_digest() {
        let base = config_checksum(&env(&[("A", "1")]), &secrets(&[("S", "x")]));
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            config_checksum(&env(&[("A", "1")]), &secrets(&[("S", "x")])),
            "deterministic"
        );
        for other in [
            config_checksum(&env(&[("A", "1")]), &secrets(&[("S", "y")])),
            config_checksum(&env(&[("A", "2")]), &secrets(&[("S", "x")])),
            config_checksum(&env(&[("B", "1")]), &secrets(&[("S", "x")])),
            config_checksum(&env(&[("A", "1"), ("S", "x")]), &secrets(&[])),
            config_checksum(&env(&[("A", "1S")]), &secrets(&[("", "x")])),
        ] {
            assert_ne!(base, other);
        }
    }
}
