//! Names that become URLs and Kubernetes objects, parsed once at the edge: a `Slug` names a
//! project or team, an `EnvName` an environment (and, with the project slug, its namespace).

use std::fmt;

use crate::Error;

/// `^[a-z0-9][a-z0-9-]*[a-z0-9]$` within a length range (projects 3–50, teams 2–50: the
/// original's rules).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// A project slug: 3–50 characters.
    pub fn project(raw: &str) -> Result<Self, Error> {
        Self::parse(raw, 3)
    }

    /// A team slug: 2–50 characters.
    pub fn team(raw: &str) -> Result<Self, Error> {
        Self::parse(raw, 2)
    }

    fn parse(raw: &str, min: usize) -> Result<Self, Error> {
        let ok = (min..=50).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::invalid(
                "slug",
                format!(
                    "must be {min} to 50 lower-case letters, digits or '-', starting and ending with a letter or digit"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An environment name: 1–63 letters, digits, `-` or `_`. Its namespace is
/// `enclii-<project slug>-<name lower-cased, '_' → '-'>` (the original's rule), which must be a
/// DNS label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvName(String);

impl EnvName {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let name = raw.trim();
        let ok = (1..=63).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && name.as_bytes()[0].is_ascii_alphanumeric();
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(Error::invalid(
                "name",
                "must be 1 to 63 letters, digits, '-' or '_', starting with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The namespace the original derived: `enclii-<slug>-<name>`.
    pub fn default_namespace(&self, project: &Slug) -> String {
        format!(
            "enclii-{project}-{}",
            self.0.to_lowercase().replace('_', "-")
        )
    }
}

/// A Kubernetes namespace name: an RFC 1123 DNS label.
pub fn parse_namespace(raw: &str, field: &str) -> Result<String, Error> {
    let ok = (1..=63).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !raw.starts_with('-')
        && !raw.ends_with('-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Error::invalid(
            field,
            format!(
                "{raw:?} is not a valid namespace: at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["abc", "my-app", "a1", "x".repeat(50).as_str()] {
            assert!(Slug::team(ok).is_ok(), "{ok}");
        }
        assert!(Slug::project("ab").is_err(), "projects need 3 characters");
        assert!(Slug::team("ab").is_ok());
        for bad in [
            "",
            "a",
            "-ab",
            "ab-",
            "Abc",
            "a_b",
            "a b",
            "é-ab",
            &"x".repeat(51),
        ] {
            let err = Slug::team(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_input", "{bad}");
        }
    }

    #[test]
    fn environment_names_and_namespaces() {
        let slug = Slug::project("shop").unwrap();
        let env = EnvName::parse("Staging_EU").unwrap();
        assert_eq!(env.default_namespace(&slug), "enclii-shop-staging-eu");
        for bad in ["", "-x", "a/b", "a.b", &"e".repeat(64)] {
            assert!(EnvName::parse(bad).is_err(), "{bad}");
        }
        assert!(parse_namespace("enclii-shop-prod", "kube_namespace").is_ok());
        for bad in ["", "Upper", "a_b", "-a", "a-", &"n".repeat(64)] {
            assert!(parse_namespace(bad, "kube_namespace").is_err(), "{bad}");
        }
    }
}
