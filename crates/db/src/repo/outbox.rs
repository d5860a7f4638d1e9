//! The `outbox` table: events written in the transaction of the change that causes them, with
//! the W3C trace context of the span that wrote them, and the bookkeeping of their delivery.

use serde_json::Value;
use sqlx::PgConnection;
use switchyard_domain::Error;
use uuid::Uuid;

use super::translate;

pub struct NewEvent<'a> {
    pub topic: &'a str,
    pub aggregate_id: &'a str,
    pub payload: &'a Value,
}

/// Appends an event; returns its id (the dedupe key consumers see). The current span's trace
/// context is stored with it, so the job that handles it joins the same trace.
pub async fn insert(conn: &mut PgConnection, event: &NewEvent<'_>) -> Result<Uuid, Error> {
    let id = Uuid::now_v7();
    let trace_context = current_trace_context();
    sqlx::query!(
        "insert into outbox (id, topic, aggregate_id, payload, trace_context)
         values ($1, $2, $3, $4, $5)",
        id,
        event.topic,
        event.aggregate_id,
        event.payload,
        trace_context,
    )
    .execute(conn)
    .await
    .map_err(translate("writing an outbox event", &[]))?;
    Ok(id)
}

/// `{"traceparent": "00-<trace id>-<span id>-<flags>"}` of the current span, or `{}` when it is
/// not traced (no OpenTelemetry layer, or outside any span).
pub fn current_trace_context() -> Value {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let context = tracing::Span::current().context();
    let span = context.span();
    let span = span.span_context();
    if !span.is_valid() {
        return serde_json::json!({});
    }
    serde_json::json!({
        "traceparent": format!(
            "00-{}-{}-{:02x}",
            span.trace_id(),
            span.span_id(),
            span.trace_flags().to_u8()
        )
    })
}

/// An outbox row the relay is about to publish.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub id: Uuid,
    pub topic: String,
    pub payload: Value,
    pub trace_context: Value,
}

/// Locks up to `limit` unpublished rows, oldest first, skipping rows another relay holds. Call
/// in a transaction and mark what was published before committing.
pub async fn claim_unpublished(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<PendingEvent>, Error> {
    sqlx::query_as!(
        PendingEvent,
        "select id, topic, payload, trace_context from outbox
         where published_at is null
         order by created_at, id
         limit $1
         for update skip locked",
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("claiming outbox events", &[]))
}

/// Stamps `published_at` on the rows `ids`.
pub async fn mark_published(conn: &mut PgConnection, ids: &[Uuid]) -> Result<(), Error> {
    sqlx::query!(
        "update outbox set published_at = now() where id = any($1::uuid[])",
        ids,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("marking outbox events published", &[]))
}

/// Counts a failed publish of row `id` and keeps the error for inspection.
pub async fn record_publish_failure(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "update outbox set attempts = attempts + 1, last_error = $2 where id = $1",
        id,
        error,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("recording an outbox publish failure", &[]))
}

/// Whether the job of row `id` is settled: a consumer finished it or gave it up (dead-lettered).
pub async fn is_settled(conn: &mut PgConnection, id: Uuid) -> Result<bool, Error> {
    sqlx::query_scalar!(
        r#"select (handled_at is not null or dead_at is not null) as "settled!"
           from outbox where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
    .map(|handled| handled.unwrap_or(false))
    .map_err(translate("reading an outbox event", &[]))
}

/// Records that the job of row `id` finished.
pub async fn mark_handled(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
    sqlx::query!(
        "update outbox set handled_at = now() where id = $1 and handled_at is null",
        id,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("marking an outbox event handled", &[]))
}

/// Records that the job of row `id` was given up with `reason` (dead-lettered).
pub async fn mark_dead(conn: &mut PgConnection, id: Uuid, reason: &str) -> Result<(), Error> {
    sqlx::query!(
        "update outbox set dead_at = coalesce(dead_at, now()), dead_reason = $2 where id = $1",
        id,
        reason,
    )
    .execute(conn)
    .await
    .map(drop)
    .map_err(translate("marking an outbox event dead", &[]))
}

/// Unpublished rows of one topic.
#[derive(Debug, Clone)]
pub struct Backlog {
    pub topic: String,
    pub unpublished: i64,
    /// Age of the oldest unpublished row.
    pub oldest_age_secs: f64,
}

/// The relay's backlog per topic (only topics with unpublished rows).
pub async fn backlog(conn: &mut PgConnection) -> Result<Vec<Backlog>, Error> {
    sqlx::query_as!(
        Backlog,
        r#"select topic,
                  count(*) as "unpublished!",
                  extract(epoch from now() - min(created_at))::float8 as "oldest_age_secs!"
           from outbox where published_at is null group by topic order by topic"#,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading the outbox backlog", &[]))
}

/// Deletes up to `limit` rows settled (handled or dead-lettered) before `before`; returns how
/// many. Unpublished and in-flight rows are never touched.
pub async fn prune_settled(
    conn: &mut PgConnection,
    before: time::OffsetDateTime,
    limit: i64,
) -> Result<u64, Error> {
    sqlx::query!(
        "delete from outbox where id in (
             select id from outbox
             where coalesce(handled_at, dead_at) < $1
             limit $2)",
        before,
        limit,
    )
    .execute(conn)
    .await
    .map(|done| done.rows_affected())
    .map_err(translate("pruning the outbox", &[]))
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn the_current_span_becomes_a_traceparent() {
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            assert_eq!(current_trace_context(), serde_json::json!({}));
            let request = tracing::info_span!("request");
            let _entered = request.enter();
            let context = current_trace_context();
            let traceparent = context["traceparent"].as_str().unwrap();
            let parts: Vec<&str> = traceparent.split('-').collect();
            assert_eq!(parts.len(), 4, "{traceparent}");
            assert_eq!((parts[0], parts[3]), ("00", "01"));
            assert_eq!(parts[1].len(), 32);
            assert_eq!(parts[2].len(), 16);
            assert_ne!(parts[1], "0".repeat(32));
        });
    }

    #[test]
    fn untraced_code_stores_an_empty_context() {
        let span = tracing::info_span!("no subscriber");
        let _entered = span.enter();
        assert_eq!(current_trace_context(), serde_json::json!({}));
    }
}
