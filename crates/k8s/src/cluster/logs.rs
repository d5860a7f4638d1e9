//! Pod logs of a service: the last lines of each pod at once (`pod_logs`), or followed as they
//! are written (`follow_logs`: one task per pod feeding one channel, merged in arrival order).
//! Pods are those labelled `enclii.dev/service=<service>` in the namespace, and with a
//! deployment given, `enclii.dev/deployment=<id>` too: the pods of that deployment only.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use futures::{AsyncBufReadExt as _, Stream, StreamExt as _};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use serde_json::Value;
use tokio::{sync::mpsc, task::JoinSet};

use super::{Cluster, ClusterError, apply::known};
use crate::labels::{DEPLOYMENT_LABEL, SERVICE_LABEL};

/// Whose logs: the pods of one service in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSource {
    pub namespace: String,
    pub service: String,
    /// Only the pods of this deployment (`enclii.dev/deployment=<id>`).
    pub deployment: Option<String>,
}

impl LogSource {
    fn selector(&self) -> String {
        let mut selector = format!("{SERVICE_LABEL}={}", self.service);
        if let Some(id) = &self.deployment {
            selector.push_str(&format!(",{DEPLOYMENT_LABEL}={id}"));
        }
        selector
    }
}

/// How much to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// The last `lines` lines of each pod (then, when following, everything new).
    pub lines: u32,
    /// Ask the kubelet to start each line with its RFC 3339 time.
    pub timestamps: bool,
}

/// One line of one pod's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub pod: String,
    pub container: String,
    /// The kubelet's time of the line, when timestamps were asked for.
    pub timestamp: Option<String>,
    pub text: String,
}

/// What a followed log yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    Line(LogLine),
    /// A pod whose log cannot be read (a container still waiting for its image, an API error
    /// mid-stream); the other pods go on.
    PodFailed {
        pod: String,
        message: String,
    },
}

/// The lines of several pods as they are written. Ends when every pod's stream has ended (the
/// pods stopped or were deleted); dropping it stops reading. Pods started after it was opened
/// are not followed.
#[derive(Debug)]
pub struct LogFollow {
    pods: Vec<String>,
    events: mpsc::Receiver<LogEvent>,
    /// One reader per pod; dropped (so aborted) with the follow.
    _readers: JoinSet<()>,
}

impl LogFollow {
    /// The pods followed, oldest first.
    pub fn pods(&self) -> &[String] {
        &self.pods
    }
}

impl Stream for LogFollow {
    type Item = LogEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<LogEvent>> {
        self.events.poll_recv(cx)
    }
}

/// Lines buffered between the pods' readers and a slow consumer.
const BUFFERED_LINES: usize = 1024;

impl Cluster {
    /// The last `lines` log lines of each pod of `source`, oldest pod first, each pod's lines in
    /// order. With several pods every line is prefixed by `[<pod>] `. A pod whose container
    /// cannot give logs (still waiting for its image, say) gets one line saying why instead of
    /// failing the whole call. With timestamps, lines keep the kubelet's time in front.
    pub async fn pod_logs(
        &self,
        source: &LogSource,
        options: LogOptions,
    ) -> Result<String, ClusterError> {
        let pods = self.log_pods(source).await?;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &source.namespace);
        let several = pods.len() > 1;
        let mut out = String::new();
        for (name, container) in &pods {
            let params = params(container, options, false);
            let logs = match api.logs(name, &params).await {
                Ok(logs) => logs,
                Err(e) => format!("(no logs: {})\n", unreadable(name, e)?),
            };
            for line in logs.lines() {
                if several {
                    out.push_str(&format!("[{name}] "));
                }
                out.push_str(line);
                out.push('\n');
            }
        }
        Ok(out)
    }

    /// Follows the logs of each pod of `source` (the last `lines` of each first). Listing the
    /// pods is the only call that can fail here; a pod that cannot be read is a
    /// [`LogEvent::PodFailed`].
    pub async fn follow_logs(
        &self,
        source: &LogSource,
        options: LogOptions,
    ) -> Result<LogFollow, ClusterError> {
        let pods = self.log_pods(source).await?;
        // Without the read timeout: a quiet pod may write nothing for hours.
        let api: Api<Pod> = Api::namespaced(self.streams.clone(), &source.namespace);
        let (sender, events) = mpsc::channel(BUFFERED_LINES);
        let mut readers = JoinSet::new();
        for (pod, container) in &pods {
            readers.spawn(follow_pod(
                api.clone(),
                pod.clone(),
                container.clone(),
                options,
                sender.clone(),
            ));
        }
        Ok(LogFollow {
            pods: pods.into_iter().map(|(pod, _)| pod).collect(),
            events,
            _readers: readers,
        })
    }

    /// `(pod, container)` of each pod of `source`, oldest first.
    async fn log_pods(&self, source: &LogSource) -> Result<Vec<(String, String)>, ClusterError> {
        let mut pods = self
            .list(known("v1", "Pod")?, &source.namespace, &source.selector())
            .await?;
        pods.sort_by_key(|pod| {
            (
                text(pod, "/metadata/creationTimestamp"),
                text(pod, "/metadata/name"),
            )
        });
        Ok(pods
            .iter()
            .map(|pod| (text(pod, "/metadata/name"), container(pod, &source.service)))
            .collect())
    }
}

fn params(container: &str, options: LogOptions, follow: bool) -> LogParams {
    LogParams {
        container: Some(container.to_owned()),
        tail_lines: Some(i64::from(options.lines)),
        timestamps: options.timestamps,
        follow,
        ..LogParams::default()
    }
}

/// Reads one pod's log into `sender` until it ends, the consumer goes away, or it fails.
async fn follow_pod(
    api: Api<Pod>,
    pod: String,
    container: String,
    options: LogOptions,
    sender: mpsc::Sender<LogEvent>,
) {
    let failed = |message: String| LogEvent::PodFailed {
        pod: pod.clone(),
        message,
    };
    let reader = match api
        .log_stream(&pod, &params(&container, options, true))
        .await
    {
        Ok(reader) => Box::pin(reader),
        Err(e) => {
            let message = unreadable(&pod, e).unwrap_or_else(|e| e.to_string());
            let _ = sender.send(failed(message)).await;
            return;
        }
    };
    let mut lines = reader.lines();
    while let Some(line) = lines.next().await {
        let event = match line {
            Ok(line) => LogEvent::Line(log_line(&pod, &container, options.timestamps, line)),
            Err(e) => failed(format!("reading the log of pod {pod}: {e}")),
        };
        let last = matches!(event, LogEvent::PodFailed { .. });
        if sender.send(event).await.is_err() || last {
            return;
        }
    }
}

/// A line as read; with timestamps the kubelet's time comes first, then one space.
fn log_line(pod: &str, container: &str, timestamps: bool, line: String) -> LogLine {
    let (timestamp, text) = match line.split_once(' ') {
        Some((time, rest)) if timestamps => (Some(time.to_owned()), rest.to_owned()),
        _ => (None, line),
    };
    LogLine {
        pod: pod.to_owned(),
        container: container.to_owned(),
        timestamp,
        text,
    }
}

/// Why a pod's log cannot be read, when the API server refused it (the pod's own state); any
/// other failure is the whole call's.
fn unreadable(pod: &str, error: kube::Error) -> Result<String, ClusterError> {
    match ClusterError::from_kube(format!("logs of pod {pod}"), error) {
        ClusterError::Rejected { message, .. } => Ok(message),
        other => Err(other),
    }
}

/// The container to read: the only one, or with several the one named after the service.
fn container(pod: &Value, service: &str) -> String {
    match pod.pointer("/spec/containers").and_then(Value::as_array) {
        Some(containers) if containers.len() == 1 => text(&containers[0], "/name"),
        _ => service.to_owned(),
    }
}

fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn timestamps_are_split_off_only_when_asked_for() {
        let stamped = log_line("p", "c", true, "2026-01-01T00:00:00Z hello world".into());
        assert_eq!(stamped.timestamp.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(stamped.text, "hello world");
        let plain = log_line("p", "c", false, "2026-01-01T00:00:00Z hello".into());
        assert_eq!(
            (plain.timestamp, plain.text.as_str()),
            (None, "2026-01-01T00:00:00Z hello")
        );
    }

    #[test]
    fn the_container_is_the_only_one_or_the_services() {
        let one = json!({"spec": {"containers": [{"name": "main"}]}});
        let two = json!({"spec": {"containers": [{"name": "proxy"}, {"name": "web"}]}});
        assert_eq!(container(&one, "web"), "main");
        assert_eq!(container(&two, "web"), "web");
    }

    #[test]
    fn a_deployment_narrows_the_selector() {
        let mut source = LogSource {
            namespace: "ns".into(),
            service: "web".into(),
            deployment: None,
        };
        assert_eq!(source.selector(), "enclii.dev/service=web");
        source.deployment = Some("d1".into());
        assert_eq!(
            source.selector(),
            "enclii.dev/service=web,enclii.dev/deployment=d1"
        );
    }
}
