//! Builds and their results: a commit (`GitSha`), the release version and image names the
//! original produced, and the one allowed state change of a release (`building → ready|failed`).

use std::fmt;

use crate::Error;

/// A commit id: 7 to 40 hex digits, stored lower-case (the original panicked on fewer than 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSha(String);

impl GitSha {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let sha = raw.trim();
        if (7..=40).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(sha.to_ascii_lowercase()))
        } else {
            Err(Error::invalid(
                "git_sha",
                "must be 7 to 40 hexadecimal digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 7 digits (tags and versions).
    pub fn short(&self) -> &str {
        &self.0[..7]
    }
}

impl fmt::Display for GitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a release is: the original's three states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseStatus {
    Building,
    Ready,
    Failed,
}

impl ReleaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Building => "building",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "building" => Some(Self::Building),
            "ready" => Some(Self::Ready),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// What a build result does to a release in `current` state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// `building → outcome`: apply it.
    Apply,
    /// The release already has this outcome: a replay, answered without a change.
    Duplicate,
    /// The release already has the other outcome: refused.
    Contradiction,
}

/// The only change a build result may make is `building → ready|failed`, once.
pub fn transition(current: ReleaseStatus, outcome: ReleaseStatus) -> Transition {
    match (current, outcome) {
        (ReleaseStatus::Building, _) => Transition::Apply,
        (a, b) if a == b => Transition::Duplicate,
        _ => Transition::Contradiction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shas() {
        let sha = GitSha::parse("ABCDEF0123456789").unwrap();
        assert_eq!(sha.as_str(), "abcdef0123456789");
        assert_eq!(sha.short(), "abcdef0");
        for bad in ["", "abc", "abcdef", "g123456", &"a".repeat(41), "abc def0"] {
            assert_eq!(
                GitSha::parse(bad).unwrap_err().code(),
                "invalid_input",
                "{bad}"
            );
        }
    }

    #[test]
    fn only_building_moves() {
        use ReleaseStatus::{Building, Failed, Ready};
        assert_eq!(transition(Building, Ready), Transition::Apply);
        assert_eq!(transition(Building, Failed), Transition::Apply);
        assert_eq!(transition(Ready, Ready), Transition::Duplicate);
        assert_eq!(transition(Failed, Failed), Transition::Duplicate);
        assert_eq!(transition(Ready, Failed), Transition::Contradiction);
        assert_eq!(transition(Failed, Ready), Transition::Contradiction);
    }
}
