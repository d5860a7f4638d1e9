//! Handlers of the usage routes.

use axum::extract::State;
use switchyard_domain::Error;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::dto::{
    AggregateQuery, AggregatedView, LedgerQuery, LedgerView, UsageCosts, UsageQuery, UsageSummary,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Path, Query},
};

fn instant(raw: Option<&str>, field: &str) -> Result<Option<OffsetDateTime>, Error> {
    raw.filter(|v| !v.is_empty())
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339)
                .map_err(|_| Error::invalid(field, "must be an RFC 3339 time"))
        })
        .transpose()
}

/// This month's usage and its cost, of one project (`?project=`) or of every project you
/// belong to, each priced by its plan.
#[utoipa::path(get, path = "/v1/usage", tag = "usage", security(("bearer" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "Usage so far this month", body = UsageSummary),
        (status = 404, description = "No such project you can see", body = Problem),
    ))]
pub(crate) async fn usage_summary(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<UsageQuery>,
) -> Result<Json<UsageSummary>, ApiError> {
    let report = state
        .cp
        .usage_report(&principal, query.project.as_deref())
        .await?;
    Ok(Json(UsageSummary::from(&report)))
}

/// This month's costs by category, for the same projects as `/v1/usage`.
#[utoipa::path(get, path = "/v1/usage/costs", tag = "usage", security(("bearer" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "Costs so far this month", body = UsageCosts),
        (status = 404, description = "No such project you can see", body = Problem),
    ))]
pub(crate) async fn usage_costs(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<UsageQuery>,
) -> Result<Json<UsageCosts>, ApiError> {
    let report = state
        .cp
        .usage_report(&principal, query.project.as_deref())
        .await?;
    Ok(Json(UsageCosts::from(&report)))
}

/// A project's hourly usage lines, each with the stretches and builds it sums and the events
/// behind them (at most 768 hours at once).
#[utoipa::path(get, path = "/v1/projects/{slug}/usage/ledger", tag = "usage",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Project slug"), LedgerQuery),
    responses(
        (status = 200, description = "Hourly lines", body = LedgerView),
        (status = 400, description = "Invalid range", body = Problem),
        (status = 404, description = "No such project you can see", body = Problem),
    ))]
pub(crate) async fn usage_ledger(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(slug): Path<String>,
    Query(query): Query<LedgerQuery>,
) -> Result<Json<LedgerView>, ApiError> {
    let from = instant(query.from.as_deref(), "from")?;
    let to = instant(query.to.as_deref(), "to")?;
    let report = state.cp.usage_ledger(&principal, &slug, from, to).await?;
    Ok(Json(LedgerView::from(&report)))
}

/// Aggregates one hour of usage for every project now (platform admins): to see usage without
/// waiting for the hour to end, or to redo an hour.
#[utoipa::path(post, path = "/v1/admin/billing/aggregate", tag = "usage",
    security(("bearer" = [])),
    params(AggregateQuery),
    responses(
        (status = 200, description = "The hour aggregated", body = AggregatedView),
        (status = 400, description = "Invalid hour", body = Problem),
        (status = 403, description = "Not a platform admin", body = Problem),
    ))]
pub(crate) async fn billing_aggregate(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<AggregateQuery>,
) -> Result<Json<AggregatedView>, ApiError> {
    let hour = instant(query.hour.as_deref(), "hour")?;
    let (hour, rows) = state.cp.billing_aggregate(&principal, hour).await?;
    Ok(Json(AggregatedView::new(hour, rows)))
}
