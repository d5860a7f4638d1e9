//! Handlers of `/v1/activity[/actions|/resource-types]`.

use axum::extract::State;
use switchyard_core::{ACTIONS, ActivityFilter, PageRequest, RESOURCE_TYPES};
use switchyard_domain::Error;

use super::dto::{ActionList, ActivityList, ActivityQuery, AuditView, ResourceTypeList};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, Json, Query},
};

fn uuid_param<T: std::str::FromStr>(raw: Option<&str>, field: &str) -> Result<Option<T>, Error> {
    raw.filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|_| Error::invalid(field, "must be a UUID"))
        })
        .transpose()
}

/// The audit log of the projects you can see (and your own actions), newest first.
#[utoipa::path(get, path = "/v1/activity", tag = "activity", security(("bearer" = [])),
    params(ActivityQuery),
    responses(
        (status = 200, description = "Audit rows", body = ActivityList),
        (status = 400, description = "Invalid filter, limit, offset or cursor", body = Problem),
    ))]
pub(crate) async fn activity_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(query): Query<ActivityQuery>,
) -> Result<Json<ActivityList>, ApiError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = ActivityFilter {
        action: query.action.filter(|a| !a.is_empty()),
        resource_type: query.resource_type.filter(|r| !r.is_empty()),
        project_id: uuid_param(query.project_id.as_deref(), "project_id")?,
        actor_id: uuid_param(query.actor_id.as_deref(), "actor_id")?,
        offset: query.offset,
    };
    let rows = state.cp.activity(&principal, &filter, page).await?;
    Ok(Json(ActivityList {
        count: rows.items.len(),
        activities: rows.items.into_iter().map(AuditView::from).collect(),
        limit: page.limit,
        offset: query.offset,
        next_cursor: rows.next_cursor,
    }))
}

/// The actions audit rows can have.
#[utoipa::path(get, path = "/v1/activity/actions", tag = "activity", security(("bearer" = [])),
    responses((status = 200, description = "Actions", body = ActionList)))]
pub(crate) async fn activity_actions(Caller(_): Caller) -> Json<ActionList> {
    Json(ActionList {
        actions: ACTIONS.to_vec(),
    })
}

/// The resource types audit rows can name.
#[utoipa::path(get, path = "/v1/activity/resource-types", tag = "activity",
    security(("bearer" = [])),
    responses((status = 200, description = "Resource types", body = ResourceTypeList)))]
pub(crate) async fn activity_resource_types(Caller(_): Caller) -> Json<ResourceTypeList> {
    Json(ResourceTypeList {
        resource_types: RESOURCE_TYPES.to_vec(),
    })
}
