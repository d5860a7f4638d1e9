//! Bodies of the usage routes: the original's `UsageSummary` and costs shapes (money in dollars,
//! computed in integer cents), and the ledger's hourly lines with their sources.

use serde::{Deserialize, Serialize};
use switchyard_billing::{Metric, Source, UsageEvent, hourly::format_micro, pricing::BillLine};
use switchyard_core::{LedgerLine, LedgerReport, LedgerSource, UsageReport};
use utoipa::{IntoParams, ToSchema};

use crate::routes::auth::dto::rfc3339;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UsageQuery {
    /// A project slug; default: every project you belong to.
    pub(crate) project: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LedgerQuery {
    /// RFC 3339; floored to the hour. Default: the first of this month (UTC).
    pub(crate) from: Option<String>,
    /// RFC 3339; the hour holding it is the last listed. Default: now.
    pub(crate) to: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AggregateQuery {
    /// RFC 3339 (floored to the hour). Default: the current hour, counted up to now.
    pub(crate) hour: Option<String>,
}

/// Cents as dollars (display only; every sum was made in integer cents).
#[expect(clippy::cast_precision_loss, reason = "cents far below 2^52 are exact")]
fn dollars(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// Millionths as a number (quantities, never money).
#[expect(
    clippy::cast_precision_loss,
    reason = "display of a quantity with 6 decimals"
)]
fn quantity(micro: i64) -> f64 {
    micro as f64 / 1e6
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MetricView {
    /// `compute_gb_hours`, `build_minutes`, `storage_gb_hours`, `bandwidth_gb`, `custom_domains`.
    #[serde(rename = "type")]
    kind: &'static str,
    label: &'static str,
    used: f64,
    /// -1 means unlimited.
    included: f64,
    unit: &'static str,
    /// Dollars.
    cost: f64,
}

impl From<&BillLine> for MetricView {
    fn from(l: &BillLine) -> Self {
        Self {
            kind: l.metric.as_str(),
            label: l.label,
            used: quantity(l.used_micro),
            included: l.included_micro.map_or(-1.0, quantity),
            unit: l.unit,
            cost: dollars(l.cost_cents),
        }
    }
}

/// The original's `UsageSummary`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UsageSummary {
    period_start: String,
    period_end: String,
    metrics: Vec<MetricView>,
    total_cost: f64,
    plan_base: f64,
    grand_total: f64,
    plan_name: String,
}

impl From<&UsageReport> for UsageSummary {
    fn from(r: &UsageReport) -> Self {
        Self {
            period_start: rfc3339(r.period_start),
            period_end: rfc3339(r.period_end),
            metrics: r.lines.iter().map(MetricView::from).collect(),
            total_cost: dollars(r.usage_cents),
            plan_base: dollars(r.base_cents),
            grand_total: dollars(r.usage_cents + r.base_cents),
            plan_name: r.plan_name.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CostCategory {
    name: &'static str,
    /// Dollars.
    value: f64,
    color: &'static str,
}

/// The original's costs breakdown.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UsageCosts {
    period_start: String,
    period_end: String,
    plan_base: f64,
    plan_name: String,
    categories: Vec<CostCategory>,
    total_usage: f64,
    grand_total: f64,
}

fn color(metric: Metric) -> &'static str {
    match metric {
        Metric::ComputeGbHours => "#3b82f6",
        Metric::BuildMinutes => "#8b5cf6",
        Metric::StorageGbHours => "#10b981",
        Metric::BandwidthGb => "#f59e0b",
        Metric::CustomDomains => "#6b7280",
    }
}

impl From<&UsageReport> for UsageCosts {
    fn from(r: &UsageReport) -> Self {
        Self {
            period_start: rfc3339(r.period_start),
            period_end: rfc3339(r.period_end),
            plan_base: dollars(r.base_cents),
            plan_name: r.plan_name.clone(),
            categories: r
                .lines
                .iter()
                .map(|l| CostCategory {
                    name: l.label,
                    value: dollars(l.cost_cents),
                    color: color(l.metric),
                })
                .collect(),
            total_usage: dollars(r.usage_cents),
            grand_total: dollars(r.usage_cents + r.base_cents),
        }
    }
}

/// A usage event as the ledger recorded it (Waybill's fields plus `id`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventView {
    id: String,
    event_type: String,
    resource_type: String,
    resource_id: String,
    resource_name: String,
    #[schema(value_type = Object)]
    metrics: serde_json::Value,
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
    timestamp: String,
}

impl From<&UsageEvent> for EventView {
    fn from(e: &UsageEvent) -> Self {
        Self {
            id: e.id.to_string(),
            event_type: e.event_type.clone(),
            resource_type: e.resource_type.clone(),
            resource_id: e.resource_id.to_string(),
            resource_name: e.resource_name.clone(),
            metrics: serde_json::to_value(&e.metrics).unwrap_or_default(),
            metadata: serde_json::to_value(&e.metadata).unwrap_or_default(),
            timestamp: rfc3339(e.timestamp),
        }
    }
}

/// One term of a ledger line: a stretch of a resource (rate × hours of this hour it covered)
/// or a build (minutes).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SourceView {
    resource_type: String,
    resource_id: String,
    resource_name: String,
    /// GB (or domains) per hour, for stretches.
    #[serde(skip_serializing_if = "Option::is_none")]
    rate: Option<f64>,
    /// Hours of this hour the stretch covered.
    #[serde(skip_serializing_if = "Option::is_none")]
    hours: Option<f64>,
    quantity: f64,
    /// The events that opened (and closed) the stretch, or the build's event.
    events: Vec<EventView>,
}

impl From<&LedgerSource> for SourceView {
    fn from(s: &LedgerSource) -> Self {
        let c = &s.contribution;
        let (resource_type, resource_id, resource_name, rate, hours) = match &c.source {
            Source::Interval {
                resource_type,
                resource_id,
                resource_name,
                rate_micro,
                covered_micros,
                ..
            } => (
                resource_type.clone(),
                resource_id.to_string(),
                resource_name.clone(),
                Some(quantity(*rate_micro)),
                Some(quantity(*covered_micros / 3600)),
            ),
            Source::Build {
                resource_id,
                resource_name,
                ..
            } => (
                "build".to_owned(),
                resource_id.to_string(),
                resource_name.clone(),
                None,
                None,
            ),
        };
        Self {
            resource_type,
            resource_id,
            resource_name,
            rate,
            hours,
            quantity: quantity(c.quantity_micro),
            events: s.events.iter().map(EventView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LedgerLineView {
    hour: String,
    metric: &'static str,
    unit: &'static str,
    quantity: f64,
    /// The same quantity, exact, with six decimals.
    quantity_exact: String,
    sources: Vec<SourceView>,
}

impl From<&LedgerLine> for LedgerLineView {
    fn from(l: &LedgerLine) -> Self {
        Self {
            hour: rfc3339(l.hour),
            metric: l.metric.as_str(),
            unit: l.metric.unit(),
            quantity: quantity(l.quantity_micro),
            quantity_exact: format_micro(l.quantity_micro),
            sources: l.sources.iter().map(SourceView::from).collect(),
        }
    }
}

/// The hourly lines of a project, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LedgerView {
    project: String,
    from: String,
    to: String,
    lines: Vec<LedgerLineView>,
}

impl From<&LedgerReport> for LedgerView {
    fn from(r: &LedgerReport) -> Self {
        Self {
            project: r.project.clone(),
            from: rfc3339(r.from),
            to: rfc3339(r.to),
            lines: r.lines.iter().map(LedgerLineView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AggregatedView {
    hour: String,
    /// Hourly rows written (every project's).
    rows: usize,
}

impl AggregatedView {
    pub(crate) fn new(hour: time::OffsetDateTime, rows: usize) -> Self {
        Self {
            hour: rfc3339(hour),
            rows,
        }
    }
}
