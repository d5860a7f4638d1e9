//! The bodies and parameters of the log routes: the original `{deployment_id, service_name,
//! logs, lines}`, the original `LogStreamMessage` of the WebSockets, and the query parameters
//! (`lines`, `follow`, `timestamps`, `env`), each refused with a 400 naming it.

use serde::{Deserialize, Serialize};
use switchyard_core::{DeploymentLogs, LogOptions, log_lines};
use switchyard_domain::Error;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::routes::auth::dto::rfc3339;

/// `GET /v1/deployments/:id/logs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogQuery {
    /// Lines of each pod to start with: 1 to 10000, default 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    lines: Option<String>,
    /// `true`: answer `text/event-stream` and keep sending lines as they are written.
    #[param(value_type = Option<bool>)]
    follow: Option<String>,
    /// `true`: every line starts with the time the kubelet recorded (RFC 3339).
    #[param(value_type = Option<bool>)]
    timestamps: Option<String>,
}

impl LogQuery {
    /// The read options, and whether to follow.
    pub(crate) fn options(&self) -> Result<(LogOptions, bool), Error> {
        Ok((
            options(self.lines.as_deref(), self.timestamps.as_deref())?,
            flag("follow", self.follow.as_deref())?,
        ))
    }
}

/// The WebSocket routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StreamQuery {
    /// Lines of each pod to start with: 1 to 10000, default 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    lines: Option<String>,
    /// `true`: each `log` message's `timestamp` is the time the kubelet recorded the line
    /// (otherwise, when the server read it).
    #[param(value_type = Option<bool>)]
    timestamps: Option<String>,
    /// The access token, for browsers (which cannot set headers on a WebSocket): read on
    /// upgrade requests only, never logged. `Authorization: Bearer` works too.
    #[param(value_type = Option<String>)]
    #[serde(rename = "token")]
    _token: Option<String>,
}

impl StreamQuery {
    pub(crate) fn options(&self) -> Result<LogOptions, Error> {
        options(self.lines.as_deref(), self.timestamps.as_deref())
    }
}

/// `GET /v1/services/:id/logs/stream`: the environment by name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EnvQuery {
    /// The name of one of the service's project's environments; default `development`.
    pub(crate) env: Option<String>,
}

fn options(lines: Option<&str>, timestamps: Option<&str>) -> Result<LogOptions, Error> {
    Ok(LogOptions {
        lines: log_lines(lines)?,
        timestamps: flag("timestamps", timestamps)?,
    })
}

/// A boolean parameter: `true`/`1` or `false`/`0`/empty (absent is `false`).
fn flag(name: &str, raw: Option<&str>) -> Result<bool, Error> {
    match raw.map(str::trim) {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(Error::invalid(
            name,
            format!("must be true or false, got {other:?}"),
        )),
    }
}

/// The original body.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeploymentLogsView {
    deployment_id: String,
    service_name: String,
    /// The last `lines` lines of each of the deployment's pods, oldest pod first; each line
    /// prefixed `[<pod>] ` when there are several. Empty when no pod runs.
    logs: String,
    lines: u32,
}

impl From<DeploymentLogs> for DeploymentLogsView {
    fn from(l: DeploymentLogs) -> Self {
        Self {
            deployment_id: l.deployment_id.to_string(),
            service_name: l.service_name,
            logs: l.logs,
            lines: l.lines,
        }
    }
}

/// What a message is.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MessageType {
    /// The first message: what is streamed.
    Connected,
    /// One log line.
    Log,
    /// A pod whose log cannot be read.
    Error,
    /// Something to know (no pods running).
    Info,
    /// The last message: every pod's log ended; the server closes the socket.
    Disconnected,
}

/// One WebSocket message (a JSON text frame), as the original sent them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct LogStreamMessage {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub(crate) kind: MessageType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) container: Option<String>,
    /// RFC 3339: the kubelet's time of a line read with `timestamps=true`; otherwise when the
    /// server sent the message.
    pub(crate) timestamp: String,
    pub(crate) message: String,
}

impl LogStreamMessage {
    /// A message about the stream itself (no pod), stamped now.
    pub(crate) fn about(kind: MessageType, message: String) -> Self {
        Self {
            kind,
            pod: None,
            container: None,
            timestamp: now(),
            message,
        }
    }
}

/// Now, RFC 3339.
pub(crate) fn now() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(lines: Option<&str>, follow: Option<&str>, timestamps: Option<&str>) -> LogQuery {
        LogQuery {
            lines: lines.map(str::to_owned),
            follow: follow.map(str::to_owned),
            timestamps: timestamps.map(str::to_owned),
        }
    }

    fn field(error: &Error) -> Option<&str> {
        match error {
            Error::InvalidInput { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    #[test]
    fn flags_are_true_or_false_and_name_themselves_when_not() {
        let (options, follow) = query(None, None, None).options().unwrap();
        assert_eq!(
            (options.lines, options.timestamps, follow),
            (100, false, false)
        );
        let (options, follow) = query(Some("5"), Some("true"), Some("1")).options().unwrap();
        assert_eq!((options.lines, options.timestamps, follow), (5, true, true));
        let (_, follow) = query(None, Some("false"), Some("0")).options().unwrap();
        assert!(!follow);
        let error = query(None, Some("yes"), None).options().unwrap_err();
        assert_eq!(field(&error), Some("follow"));
        let error = query(None, None, Some("TRUE!")).options().unwrap_err();
        assert_eq!(field(&error), Some("timestamps"));
        let error = query(Some("0"), None, None).options().unwrap_err();
        assert_eq!(field(&error), Some("lines"));
    }

    #[test]
    fn messages_have_the_original_shape() {
        let message = LogStreamMessage::about(MessageType::Connected, "hi".into());
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["type"], "connected");
        assert_eq!(json["message"], "hi");
        assert!(json.get("pod").is_none());
        assert!(json["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
