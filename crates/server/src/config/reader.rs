//! `Reader`: reads one `ENCLII_*` variable at a time into a typed value, collecting every
//! problem (named after its variable) instead of stopping at the first.

use std::{collections::BTreeMap, time::Duration};

pub(super) struct Reader<'a> {
    pub(super) vars: &'a BTreeMap<String, String>,
    pub(super) errors: Vec<String>,
}

impl<'a> Reader<'a> {
    pub(super) fn get(&self, name: &str) -> Option<&'a str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn parse<T: std::str::FromStr>(
        &mut self,
        name: &str,
        default: T,
        expected: &str,
    ) -> T {
        match self.get(name) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.errors
                    .push(format!("{name}: expected {expected}, got {raw:?}"));
                default
            }),
        }
    }

    /// Seconds, or a number with `s`, `m` or `h` (`30m`, Roundhouse's spelling), within
    /// `bounds` (in seconds); `expected` describes the range in the error.
    pub(super) fn duration(
        &mut self,
        name: &str,
        default: Duration,
        bounds: (u64, u64),
        expected: &str,
    ) -> Duration {
        let Some(raw) = self.get(name) else {
            return default;
        };
        let (number, unit) = match raw.char_indices().last() {
            Some((i, c @ ('s' | 'm' | 'h'))) => (&raw[..i], c),
            _ => (raw, 's'),
        };
        let factor = match unit {
            'h' => 3600,
            'm' => 60,
            _ => 1,
        };
        match number
            .trim()
            .parse::<u64>()
            .map(|n| n.saturating_mul(factor))
        {
            Ok(secs) if (bounds.0..=bounds.1).contains(&secs) => Duration::from_secs(secs),
            _ => {
                self.errors
                    .push(format!("{name}: expected {expected}, got {raw:?}"));
                default
            }
        }
    }

    pub(super) fn secs(&mut self, name: &str, default: u64) -> Duration {
        Duration::from_secs(self.parse(name, default, "a whole number of seconds"))
    }

    /// A secret given as `NAME`, or as the contents of the file `NAME_FILE` (trimmed).
    pub(super) fn secret(&mut self, name: &str) -> Option<secrecy::SecretString> {
        if let Some(value) = self.get(name) {
            return Some(secrecy::SecretString::from(value.to_owned()));
        }
        let file = format!("{name}_FILE");
        let path = self.get(&file)?;
        match std::fs::read_to_string(path) {
            Ok(value) if !value.trim().is_empty() => {
                Some(secrecy::SecretString::from(value.trim().to_owned()))
            }
            Ok(_) => {
                self.errors.push(format!("{file}: {path} is empty"));
                None
            }
            Err(e) => {
                self.errors.push(format!("{file}: cannot read {path}: {e}"));
                None
            }
        }
    }
}
