//! `ClusterError`: whether a failed cluster call is worth retrying (`Unavailable`) or needs a
//! change first (`Rejected`). Messages carry the API server's words and object names, never a
//! manifest, so no Secret value reaches an error or a log.

/// A cluster call that failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No answer, a timeout, a 5xx, or 429/408: try again later.
    #[error("Kubernetes API unavailable during {action}: {message}")]
    Unavailable { action: String, message: String },
    /// The API server refused the request (4xx: invalid object, forbidden, conflict…): retrying
    /// the same request will not help.
    #[error("Kubernetes API rejected {action} ({code} {reason}): {message}")]
    Rejected {
        action: String,
        code: u16,
        reason: String,
        message: String,
    },
    /// No usable kubeconfig or in-cluster configuration, or an invalid API server URL.
    #[error("cannot configure the Kubernetes client: {message}")]
    Config { message: String },
    /// A rendered object of a kind the cluster layer has no API resource for (a bug).
    #[error("{kind} {api_version} is not a kind the cluster layer handles")]
    UnknownKind { api_version: String, kind: String },
}

impl ClusterError {
    /// True when the same call may succeed later without any change.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// Sorts a kube error: API statuses by code, transport failures as `Unavailable`.
    pub(crate) fn from_kube(action: impl Into<String>, error: kube::Error) -> Self {
        let action = action.into();
        match error {
            kube::Error::Api(status) if retryable_code(status.code) => Self::Unavailable {
                action,
                message: format!("{} {}: {}", status.code, status.reason, status.message),
            },
            kube::Error::Api(status) => Self::Rejected {
                action,
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            },
            // Connection refused or reset, timeouts, TLS or a body that is not what the API
            // promised: nothing a different request would fix.
            other => Self::Unavailable {
                action,
                message: other.to_string(),
            },
        }
    }
}

/// 5xx, 429 Too Many Requests, 408 Request Timeout, 409 Conflict; 0 when the server sent no
/// code. A conflict is a race with another writer (an object modified or being deleted
/// meanwhile): our applies are forced and carry no resource version, so the same request
/// succeeds once the other write is done. One that never does runs out of attempts.
fn retryable_code(code: u16) -> bool {
    code == 0 || code == 408 || code == 409 || code == 429 || code >= 500
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    fn api(code: u16, reason: &str) -> kube::Error {
        kube::Error::Api(
            Status::failure("the message", reason)
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn status_codes_decide_retrying() {
        for code in [500, 502, 503, 504, 429, 409, 408] {
            let error = ClusterError::from_kube("apply", api(code, "ServiceUnavailable"));
            assert!(error.is_retryable(), "{code}: {error}");
        }
        for (code, reason) in [
            (400, "BadRequest"),
            (403, "Forbidden"),
            (404, "NotFound"),
            (422, "Invalid"),
        ] {
            let error = ClusterError::from_kube("apply Deployment web", api(code, reason));
            assert!(!error.is_retryable(), "{code}");
            assert_eq!(
                error.to_string(),
                format!(
                    "Kubernetes API rejected apply Deployment web ({code} {reason}): the message"
                )
            );
        }
    }
}
