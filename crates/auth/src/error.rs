//! Why a token or key was refused. Callers map every token failure to `Unauthenticated`; the
//! variant is for logs and tests, never for the response body.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("token is malformed")]
    Malformed,
    #[error("token is larger than {0} bytes")]
    TooLarge(usize),
    #[error("token is not signed with RS256")]
    WrongAlgorithm,
    #[error("token names no key or an unknown key")]
    UnknownKey,
    #[error("token signature or claims are invalid: {0}")]
    Invalid(String),
    #[error("token is a {found} token where a {expected} token is required")]
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    #[error("signing key: {0}")]
    Key(String),
}
