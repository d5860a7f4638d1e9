//! Trace context across the queue: the W3C `traceparent` that the outbox row recorded is made the
//! parent of the job's span, so a job shows up in the trace of the request that caused it (when
//! spans are exported; without an OpenTelemetry layer the id is still logged as `trace.parent`).

use opentelemetry::{
    Context,
    trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState},
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::Message;

/// Parses `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`.
pub fn parse_traceparent(value: &str) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "00" || parts.next().is_some() || trace.len() != 32 || span.len() != 16 {
        return None;
    }
    let trace_id = TraceId::from_hex(trace).ok()?;
    let span_id = SpanId::from_hex(span).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let context = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

/// The span one delivery runs in: `job` with topic, outbox id and attempt, child of the trace
/// context the event carries.
pub(crate) fn job_span(message: &Message) -> tracing::Span {
    let traceparent = message
        .trace_context
        .get("traceparent")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "job",
        job.topic = %message.topic,
        outbox.id = %message.outbox_id,
        job.attempt = message.attempt,
        trace.parent = traceparent,
    );
    if let Some(parent) = parse_traceparent(traceparent) {
        // Fails only when no OpenTelemetry layer is installed; the field above still links.
        let _ = span.set_parent(Context::new().with_remote_span_context(parent));
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_valid_traceparent() {
        let ctx =
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(
            ctx.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(ctx.span_id().to_string(), "00f067aa0ba902b7");
        assert!(ctx.is_sampled());
        assert!(ctx.is_remote());
    }

    #[test]
    fn rejects_malformed_traceparents() {
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-xyz-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad:?}");
        }
    }
}
