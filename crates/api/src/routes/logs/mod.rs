//! Pod logs: `GET /v1/deployments/:id/logs` (the original body, or with `follow=true`
//! server-sent events) and the WebSocket streams of a deployment or of a service in one
//! environment. The namespace is always the stored environment's (core), never a parameter.

pub(crate) mod dto;
pub(crate) mod handlers;
pub(crate) mod websocket;

use switchyard_core::{FollowedLogs, LogLine};

/// Said when there is no pod to follow.
fn no_pods(followed: &FollowedLogs) -> String {
    format!(
        "no pod of {} is running in environment {} (namespace {})",
        followed.service_name, followed.environment, followed.namespace
    )
}

/// What the stream is of, in the first message.
fn streaming(followed: &FollowedLogs) -> String {
    let pods = followed.follow.pods();
    format!(
        "streaming the logs of {} in environment {}: {} pod{}{}",
        followed.service_name,
        followed.environment,
        pods.len(),
        if pods.len() == 1 { "" } else { "s" },
        if pods.is_empty() {
            String::new()
        } else {
            format!(" ({})", pods.join(", "))
        }
    )
}

/// Said when every pod's log has ended.
const ENDED: &str = "the log stream ended: no followed pod is writing any more";

/// Said to streams cut by the server shutting down.
const SHUTTING_DOWN: &str = "the server is shutting down; reconnect";

/// A line as text: `[<pod>] ` first when several pods are followed, then the kubelet's time
/// when asked for.
fn line_text(line: &LogLine, several: bool) -> String {
    let mut out = String::new();
    if several {
        out.push_str(&format!("[{}] ", line.pod));
    }
    if let Some(time) = &line.timestamp {
        out.push_str(time);
        out.push(' ');
    }
    out.push_str(&line.text);
    out
}
