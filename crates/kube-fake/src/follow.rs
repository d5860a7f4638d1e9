//! A followed pod log (`GET …/log?follow=true`): the first read, then the text appended later
//! (`FakeApiServer::append_logs`) as it comes, until the pod is deleted or the server stops. With
//! `timestamps=true` every line starts with [`TIMESTAMP`] and a space, as the kubelet's RFC 3339
//! stamps do.

use std::{
    collections::BTreeMap,
    convert::Infallible,
    sync::{Arc, PoisonError},
};

use axum::{
    body::{Body, Bytes},
    http::header,
    response::{IntoResponse, Response},
};
use tokio::sync::watch;

use crate::{Shared, http::FirstRead, resources::by_plural, store::key};

/// The stamp of every line read with `timestamps=true`.
pub const TIMESTAMP: &str = "2026-01-01T00:00:00.000000000Z";

/// `line` and its newline, stamped when the query asks for timestamps.
pub(crate) fn stamped(line: &str, query: &BTreeMap<String, String>) -> String {
    if timestamps(query) {
        format!("{TIMESTAMP} {line}\n")
    } else {
        format!("{line}\n")
    }
}

fn timestamps(query: &BTreeMap<String, String>) -> bool {
    query.get("timestamps").is_some_and(|t| t == "true")
}

/// Where one follower is.
struct Follow {
    shared: Arc<Shared>,
    namespace: String,
    pod: String,
    /// Bytes of the stored text already sent.
    offset: usize,
    changes: watch::Receiver<u64>,
    query: BTreeMap<String, String>,
    first: Option<String>,
}

/// The streamed answer: `first`, then every later addition.
pub(crate) fn response(
    shared: Arc<Shared>,
    namespace: String,
    pod: String,
    first: FirstRead,
    query: &BTreeMap<String, String>,
) -> Response {
    let changes = shared.changes.subscribe();
    let follow = Follow {
        shared,
        namespace,
        pod,
        offset: first.offset,
        changes,
        query: query.clone(),
        first: Some(first.tail),
    };
    let stream = futures::stream::unfold(follow, next);
    (
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn next(mut follow: Follow) -> Option<(Result<Bytes, Infallible>, Follow)> {
    if let Some(first) = follow.first.take().filter(|f| !f.is_empty()) {
        return Some((Ok(Bytes::from(first)), follow));
    }
    loop {
        // Read before waiting: whatever was appended since the last read is sent now, and any
        // later change wakes the wait.
        let more = read_more(&mut follow)?;
        if !more.is_empty() {
            return Some((Ok(Bytes::from(more)), follow));
        }
        follow.changes.changed().await.ok()?;
    }
}

/// The text appended since the last read; `None` when the stream is over (the pod is gone, or
/// the server stopped).
fn read_more(follow: &mut Follow) -> Option<String> {
    let state = follow
        .shared
        .state
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let pods = by_plural("v1", "pods")?;
    if state.stopped
        || !state
            .store
            .objects
            .contains_key(&key(&pods, &follow.namespace, &follow.pod))
    {
        return None;
    }
    let text = state
        .store
        .logs
        .get(&(follow.namespace.clone(), follow.pod.clone()))
        .map_or("", String::as_str);
    // Replaced by `set_logs` with something shorter: start again from its end.
    let new = text.get(follow.offset..).unwrap_or_default();
    let out = new
        .lines()
        .map(|line| stamped(line, &follow.query))
        .collect();
    follow.offset = text.len();
    Some(out)
}
