//! Handlers of `/v1/domains` and `/v1/domains/stats`: every domain the caller can see.

use axum::extract::State;
use switchyard_core::{DomainFilter, PageRequest};

use super::dto::{DomainStatsView, VisibleDomainList, VisibleDomainQuery};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Query},
};

/// The domains of every project you can see (every project for platform admins), oldest first.
#[utoipa::path(get, path = "/v1/domains", tag = "domains",
    security(("bearer" = [])),
    params(VisibleDomainQuery),
    responses(
        (status = 200, description = "Domains", body = VisibleDomainList),
        (status = 400, description = "A parameter is invalid (it is named)", body = Problem),
    ))]
pub(crate) async fn domain_list_visible(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<VisibleDomainQuery>,
) -> Result<Json<VisibleDomainList>, ApiError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = DomainFilter {
        verified: query.verified,
        tls_enabled: query.tls_enabled,
        offset: query.offset,
    };
    let found = state
        .cp
        .domain_list_visible(&principal, filter, page)
        .await?;
    Ok(Json(VisibleDomainList {
        domains: found.page.items.into_iter().map(Into::into).collect(),
        total: found.total,
        limit: page.limit,
        offset: query.offset,
        next_cursor: found.page.next_cursor,
    }))
}

/// Counts over the domains you can see.
#[utoipa::path(get, path = "/v1/domains/stats", tag = "domains",
    security(("bearer" = [])),
    responses((status = 200, description = "Counts", body = DomainStatsView)))]
pub(crate) async fn domain_stats(
    State(state): State<ApiState>,
    Caller(principal): Caller,
) -> Result<Json<DomainStatsView>, ApiError> {
    Ok(Json(state.cp.domain_stats(&principal).await?.into()))
}
