//! The log WebSockets: `GET /v1/deployments/:id/logs/stream` and
//! `GET /v1/services/:id/logs/stream?env=`. Before upgrading: the token (header, or `?token=` on
//! upgrades), the `Origin` (when a browser sends one), the parameters, authorization and the
//! cluster are checked, so each refusal is an ordinary HTTP status. After: JSON
//! `LogStreamMessage` text frames — `connected`, then `log`/`error`/`info`, then `disconnected`
//! when every pod's log has ended — and pings to keep idle proxies from closing the socket.

use std::time::Duration;

use axum::{
    body::Bytes,
    extract::{
        State,
        ws::{CloseFrame, Message, WebSocket, close_code},
    },
    response::Response,
};
use futures::StreamExt as _;
use switchyard_core::{FollowedLogs, LogEvent};
use switchyard_domain::{DeploymentId, ServiceId};
use tokio_util::sync::CancellationToken;

use super::{
    ENDED, SHUTTING_DOWN,
    dto::{EnvQuery, LogStreamMessage, MessageType, StreamQuery, now},
    no_pods, streaming,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{AllowedOrigin, Caller, Path, Query, Upgrade},
};

/// The answers of both WebSocket routes (documentation only).
#[derive(utoipa::IntoResponses)]
#[expect(dead_code, reason = "never built: it documents the routes' answers")]
enum StreamResponses {
    /// Switched to a WebSocket: one JSON `LogStreamMessage` per text frame.
    #[response(status = 101)]
    Switched(#[to_schema] LogStreamMessage),
    /// Not a WebSocket upgrade, or a bad `lines`/`timestamps`.
    #[response(status = 400)]
    BadRequest(Problem),
    /// No valid token (header or `token` parameter).
    #[response(status = 401)]
    Unauthenticated(Problem),
    /// An `Origin` not in `ENCLII_WEBSOCKET_ALLOWED_ORIGINS`.
    #[response(status = 403)]
    Forbidden(Problem),
    /// No such deployment or service you can see; for a service, no such environment in its
    /// project.
    #[response(status = 404)]
    NotFound(Problem),
    /// No cluster to read pods from (`ENCLII_KUBE_CONFIG`), or it does not answer.
    #[response(status = 503)]
    Unavailable(Problem),
}

/// How often an idle socket is pinged.
const PING_EVERY: Duration = Duration::from_secs(30);

/// Follow the logs of the deployment's own pods over a WebSocket.
#[utoipa::path(get, path = "/v1/deployments/{id}/logs/stream", tag = "logs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Deployment id"), StreamQuery),
    responses(StreamResponses))]
pub(crate) async fn deployment_log_stream(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    _origin: AllowedOrigin,
    Path(id): Path<DeploymentId>,
    Query(query): Query<StreamQuery>,
    Upgrade(upgrade): Upgrade,
) -> Result<Response, ApiError> {
    let options = query.options()?;
    let followed = state
        .cp
        .follow_deployment_logs(&principal, id, options)
        .await?;
    Ok(upgrade.on_upgrade(move |socket| session(socket, followed, state.shutdown.clone())))
}

/// Follow the logs of every pod of the service in one environment of its project over a
/// WebSocket (the CLI's `enclii logs -f`).
#[utoipa::path(get, path = "/v1/services/{id}/logs/stream", tag = "logs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id"), EnvQuery, StreamQuery),
    responses(StreamResponses))]
pub(crate) async fn service_log_stream(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    _origin: AllowedOrigin,
    Path(id): Path<ServiceId>,
    Query(env): Query<EnvQuery>,
    Query(query): Query<StreamQuery>,
    Upgrade(upgrade): Upgrade,
) -> Result<Response, ApiError> {
    let options = query.options()?;
    let environment = env.env.as_deref().filter(|e| !e.is_empty());
    let followed = state
        .cp
        .follow_service_logs(&principal, id, environment, options)
        .await?;
    Ok(upgrade.on_upgrade(move |socket| session(socket, followed, state.shutdown.clone())))
}

/// What happened next on an open socket.
enum Step {
    Event(Option<LogEvent>),
    /// The client closed the socket or it broke.
    Gone,
    Idle,
    Ping,
    Shutdown,
}

/// Sends the followed logs until the pods' logs end, the client leaves, or the server stops.
async fn session(mut socket: WebSocket, mut followed: FollowedLogs, shutdown: CancellationToken) {
    let mut opening = vec![LogStreamMessage::about(
        MessageType::Connected,
        streaming(&followed),
    )];
    if followed.follow.pods().is_empty() {
        opening.push(LogStreamMessage::about(
            MessageType::Info,
            no_pods(&followed),
        ));
    }
    for message in &opening {
        if send(&mut socket, message).await.is_err() {
            return;
        }
    }
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let last = loop {
        let step = tokio::select! {
            event = followed.follow.next() => Step::Event(event),
            incoming = socket.recv() => match incoming {
                None | Some(Err(_) | Ok(Message::Close(_))) => Step::Gone,
                Some(Ok(_)) => Step::Idle,
            },
            _ = ping.tick() => Step::Ping,
            () = shutdown.cancelled() => Step::Shutdown,
        };
        let sent = match step {
            Step::Event(None) => break ENDED,
            Step::Shutdown => break SHUTTING_DOWN,
            Step::Gone => return,
            Step::Idle => Ok(()),
            Step::Ping => socket.send(Message::Ping(Bytes::new())).await,
            Step::Event(Some(event)) => send(&mut socket, &message(event)).await,
        };
        if sent.is_err() {
            return;
        }
    };
    let bye = LogStreamMessage::about(MessageType::Disconnected, last.to_owned());
    if send(&mut socket, &bye).await.is_ok() {
        let close = CloseFrame {
            code: close_code::NORMAL,
            reason: "log stream ended".into(),
        };
        let _ = socket.send(Message::Close(Some(close))).await;
    }
}

/// A followed event as a message: the pod and container are fields, the message the text.
fn message(event: LogEvent) -> LogStreamMessage {
    match event {
        LogEvent::Line(line) => LogStreamMessage {
            kind: MessageType::Log,
            timestamp: line.timestamp.unwrap_or_else(now),
            message: line.text,
            pod: Some(line.pod),
            container: Some(line.container),
        },
        LogEvent::PodFailed { pod, message } => LogStreamMessage {
            kind: MessageType::Error,
            timestamp: now(),
            message,
            pod: Some(pod),
            container: None,
        },
    }
}

async fn send(socket: &mut WebSocket, message: &LogStreamMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(message).map_err(axum::Error::new)?;
    socket.send(Message::Text(text.into())).await
}
