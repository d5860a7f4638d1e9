//! `GET /v1/deployments/:id/logs`: the last lines of the deployment's pods as the original body,
//! or with `follow=true` as server-sent events that go on as the pods write. CORS decides who
//! may read it from a browser (the original's `Access-Control-Allow-Origin: *` is not copied).

use std::convert::Infallible;

use axum::{
    extract::State,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use futures::{Stream, StreamExt as _, stream};
use switchyard_core::{FollowedLogs, LogEvent};
use switchyard_domain::DeploymentId;
use tokio_util::sync::CancellationToken;

use super::{
    ENDED, SHUTTING_DOWN,
    dto::{DeploymentLogsView, LogQuery},
    line_text, no_pods,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
};

/// The last lines of each of the deployment's pods (its own pods: `enclii.dev/deployment=<id>`,
/// in its environment's namespace). With `follow=true`: `text/event-stream` where each line is
/// an unnamed (`message`) event, a pod that cannot be read an `error` event, and an `end` event
/// closes the stream once every pod's log has ended; comments keep an idle stream open.
#[utoipa::path(get, path = "/v1/deployments/{id}/logs", tag = "logs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Deployment id"), LogQuery),
    responses(
        (status = 200, description = "The logs; with `follow=true`, server-sent events instead",
            content(
                (DeploymentLogsView = "application/json"),
                (String = "text/event-stream"),
            )),
        (status = 400, description = "`lines` not 1 to 10000, or `follow`/`timestamps` not a boolean", body = Problem),
        (status = 404, description = "No such deployment you can see", body = Problem),
        (status = 503, description = "No cluster to read pods from (`ENCLII_KUBE_CONFIG`), or it does not answer", body = Problem),
    ))]
pub(crate) async fn deployment_logs(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<DeploymentId>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let (options, follow) = query.options()?;
    if follow {
        let followed = state
            .cp
            .follow_deployment_logs(&principal, id, options)
            .await?;
        let events = events(followed, state.shutdown.clone());
        return Ok(Sse::new(events)
            .keep_alive(KeepAlive::default())
            .into_response());
    }
    let logs = state.cp.deployment_logs(&principal, id, options).await?;
    Ok(Json(DeploymentLogsView::from(logs)).into_response())
}

/// The followed lines as events, then `end`; cut short (with `end` saying why) on shutdown.
fn events(
    followed: FollowedLogs,
    shutdown: CancellationToken,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let several = followed.follow.pods().len() > 1;
    let mut last = if followed.follow.pods().is_empty() {
        no_pods(&followed)
    } else {
        ENDED.to_owned()
    };
    let stopping = shutdown.clone();
    let lines = followed
        .follow
        .map(move |event| match event {
            LogEvent::Line(line) => Event::default().data(line_text(&line, several)),
            LogEvent::PodFailed { pod, message } => Event::default()
                .event("error")
                .data(format!("[{pod}] {message}")),
        })
        .take_until(shutdown.cancelled_owned());
    let end = stream::once(async move {
        if stopping.is_cancelled() {
            last = SHUTTING_DOWN.to_owned();
        }
        Event::default().event("end").data(last)
    });
    lines.chain(end).map(Ok)
}
