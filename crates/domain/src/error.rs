//! The one error type every layer returns at its public boundary. `switchyard-api` maps it to
//! HTTP in one place; nothing else decides status codes.

use std::fmt;

/// The kind of thing a `NotFound`/`AlreadyExists` refers to, named in messages and error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Route,
    User,
    ApiToken,
    Project,
    Environment,
    Team,
    TeamMember,
    Invitation,
    Service,
    Release,
    Deployment,
    EnvVar,
    Domain,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Route => "route",
            Self::User => "user",
            Self::ApiToken => "API token",
            Self::Project => "project",
            Self::Environment => "environment",
            Self::Team => "team",
            Self::TeamMember => "team member",
            Self::Invitation => "invitation",
            Self::Service => "service",
            Self::Release => "release",
            Self::Deployment => "deployment",
            Self::EnvVar => "environment variable",
            Self::Domain => "domain",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every failure a caller can act on differently. External messages never carry internals:
/// `Internal` and `Unavailable` keep their cause in `source` for the log line only.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    InvalidInput {
        field: Option<String>,
        message: String,
    },
    /// 401 with one of the original's fixed messages ("Invalid email or password", ...).
    #[error("{message}")]
    Unauthenticated { message: &'static str },
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{kind} {key} not found")]
    NotFound { kind: ResourceKind, key: String },
    #[error("{kind} {name} already exists")]
    AlreadyExists { kind: ResourceKind, name: String },
    #[error("{message}")]
    Conflict { message: String },
    #[error("the resource was modified since you read it")]
    PreconditionFailed,
    /// An `Idempotency-Key` sent again with a different request (method, path or body).
    #[error("this Idempotency-Key was used for a different request; send a new key")]
    IdempotencyKeyReused,
    #[error("too many requests, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{message}")]
    Unavailable {
        message: String,
        #[source]
        source: Option<Source>,
    },
    #[error("internal error while {context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Source>,
    },
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn unauthenticated(message: &'static str) -> Self {
        Self::Unauthenticated { message }
    }

    pub fn not_found(kind: ResourceKind, key: impl Into<String>) -> Self {
        Self::NotFound {
            kind,
            key: key.into(),
        }
    }

    pub fn unavailable(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::Unavailable {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A subsystem that is not configured: 503 naming the setting to configure.
    pub fn not_configured(what: &str, setting: &str) -> Self {
        Self::Unavailable {
            message: format!("{what} is not configured: set {setting}"),
            source: None,
        }
    }

    /// `what` did not answer within `timeout` (a probe or call that was abandoned).
    pub fn no_answer(what: &str, timeout: std::time::Duration) -> Self {
        Self::Unavailable {
            message: format!("{what} did not answer within {} ms", timeout.as_millis()),
            source: None,
        }
    }

    pub fn internal(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// The stable machine-readable code clients branch on (part of the API contract).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "invalid_input",
            Self::Unauthenticated { .. } => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::AlreadyExists { .. } => "already_exists",
            Self::Conflict { .. } => "conflict",
            Self::PreconditionFailed => "precondition_failed",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    /// The message safe to show a caller. For `Internal` it hides the context too.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal { .. } => "an internal error occurred".to_owned(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_message_hides_context_and_source() {
        let err = Error::internal("reading users", std::io::Error::other("secret driver text"));
        assert_eq!(err.public_message(), "an internal error occurred");
        assert_eq!(err.code(), "internal");
        // the cause stays reachable for the log line
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("secret driver text"));
    }

    #[test]
    fn display_does_not_repeat_the_source() {
        let err = Error::unavailable("database unavailable", std::io::Error::other("refused"));
        assert_eq!(err.to_string(), "database unavailable");
    }

    #[test]
    fn not_found_names_kind_and_key() {
        let err = Error::not_found(ResourceKind::Route, "/nope");
        assert_eq!(err.public_message(), "route /nope not found");
        assert_eq!(err.code(), "not_found");
    }
}
