//! Handlers of `/v1/services/:id/domains[/:domain_id[/verify]]`.

use axum::{
    Extension,
    extract::State,
    response::{IntoResponse, Response},
};
use http::StatusCode;
use serde_json::Value;
use switchyard_core::{CustomDomain, Verification};
use switchyard_domain::{DomainCreate, DomainId, DomainUpdate, ServiceId};

use super::dto::{
    DnsInstructionsView, DomainCreated, DomainDeleted, DomainEnvelope, DomainList,
    DomainNotVerified, DomainVerified,
};
use crate::{
    ApiError, ApiState, Problem,
    extract::{Caller, IfMatch, Json, Path, Query, etag},
    middleware::{KeepBody, RequestId},
    routes::paging::ListQuery,
};

/// Add a domain to the service in one of its project's environments (developers there). A
/// platform domain is verified at once; a custom one answers with the DNS records to create.
#[utoipa::path(post, path = "/v1/services/{id}/domains", tag = "domains",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id")),
    request_body = super::dto::DomainCreateBody,
    responses(
        (status = 201, description = "Added", body = DomainCreated),
        (status = 400, description = "A field is invalid (it is named)", body = Problem),
        (status = 403, description = "Not a developer there", body = Problem),
        (status = 404, description = "No such service you can see", body = Problem),
        (status = 409, description = "The name is already in use", body = Problem),
        (status = 503, description = "A platform domain without ENCLII_PLATFORM_DOMAIN", body = Problem),
    ))]
pub(crate) async fn domain_create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<DomainCreated>), ApiError> {
    let new = DomainCreate::from_json(body)?;
    let added = state.cp.domain_create(&principal, id, new).await?;
    let host = added.domain.domain.clone();
    let message = if added.domain.is_platform_domain {
        "platform domain added and verified"
    } else {
        "domain added: create the TXT record, then verify the domain"
    };
    Ok((
        StatusCode::CREATED,
        Json(DomainCreated {
            domain: added.domain.into(),
            message,
            dns_instructions: added
                .instructions
                .map(|i| DnsInstructionsView::new(i, &host)),
        }),
    ))
}

/// The service's domains (viewers).
#[utoipa::path(get, path = "/v1/services/{id}/domains", tag = "domains",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Service id"), ListQuery),
    responses(
        (status = 200, description = "Domains", body = DomainList),
        (status = 404, description = "No such service you can see", body = Problem),
    ))]
pub(crate) async fn domain_list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<ServiceId>,
    Query(query): Query<ListQuery>,
) -> Result<Json<DomainList>, ApiError> {
    let page = state.cp.domain_list(&principal, id, query.page()?).await?;
    Ok(Json(DomainList {
        domains: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One domain, with its `ETag`.
#[utoipa::path(get, path = "/v1/services/{id}/domains/{domain_id}", tag = "domains",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("domain_id" = String, Path, description = "Domain id"),
    ),
    responses(
        (status = 200, description = "The domain", body = DomainEnvelope,
            headers(("ETag" = String, description = "Pass as If-Match to PATCH"))),
        (status = 404, description = "No such service you can see, or no such domain of it", body = Problem),
    ))]
pub(crate) async fn domain_view(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(key): Path<(ServiceId, DomainId)>,
) -> Result<impl IntoResponse, ApiError> {
    let domain = state.cp.domain_view(&principal, key).await?;
    Ok(with_etag(domain))
}

/// `{domain}` with the domain's `ETag`.
fn with_etag(domain: CustomDomain) -> impl IntoResponse {
    (
        [etag(domain.version)],
        Json(DomainEnvelope {
            domain: domain.into(),
        }),
    )
}

/// Turn TLS on or off. With `If-Match`, refused (412) when the domain changed since.
#[utoipa::path(patch, path = "/v1/services/{id}/domains/{domain_id}", tag = "domains",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("domain_id" = String, Path, description = "Domain id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read"),
    ),
    request_body = super::dto::DomainUpdateBody,
    responses(
        (status = 200, description = "Updated", body = DomainEnvelope,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "A field is invalid (it is named)", body = Problem),
        (status = 403, description = "Not a developer there", body = Problem),
        (status = 404, description = "No such service you can see, or no such domain of it", body = Problem),
        (status = 412, description = "The domain changed since your ETag", body = Problem),
    ))]
pub(crate) async fn domain_update(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(key): Path<(ServiceId, DomainId)>,
    IfMatch(version): IfMatch,
    Json(body): Json<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let update = DomainUpdate::from_json(body)?;
    let domain = state
        .cp
        .domain_update(&principal, key, update, version)
        .await?;
    Ok(with_etag(domain))
}

/// Remove a domain. A verified one leaves the service's Ingress at once (the applied deployment
/// is refreshed).
#[utoipa::path(delete, path = "/v1/services/{id}/domains/{domain_id}", tag = "domains",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("domain_id" = String, Path, description = "Domain id"),
    ),
    responses(
        (status = 200, description = "Deleted", body = DomainDeleted),
        (status = 403, description = "Not a developer there", body = Problem),
        (status = 404, description = "No such service you can see, or no such domain of it", body = Problem),
    ))]
pub(crate) async fn domain_delete(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(key): Path<(ServiceId, DomainId)>,
) -> Result<Json<DomainDeleted>, ApiError> {
    state.cp.domain_delete(&principal, key).await?;
    Ok(Json(DomainDeleted {
        message: "custom domain deleted",
        tunnel_route_removed: false,
    }))
}

/// Look up the TXT record `_enclii-verification.<domain>` and verify the domain when it holds
/// `enclii-verification=<domain id>` (developers there).
#[utoipa::path(post, path = "/v1/services/{id}/domains/{domain_id}/verify", tag = "domains",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Service id"),
        ("domain_id" = String, Path, description = "Domain id"),
    ),
    responses(
        (status = 200, description = "Verified (now or before)", body = DomainVerified),
        (status = 400, description = "The TXT record is not there (yet)", body = DomainNotVerified),
        (status = 403, description = "Not a developer there", body = Problem),
        (status = 404, description = "No such service you can see, or no such domain of it", body = Problem),
        (status = 503, description = "DNS could not be asked", body = Problem),
    ))]
pub(crate) async fn domain_verify(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Extension(request_id): Extension<RequestId>,
    Path(key): Path<(ServiceId, DomainId)>,
) -> Result<Response, ApiError> {
    let (message, domain) = match state.cp.domain_verify(&principal, key).await? {
        Verification::Verified(domain) => ("domain verified", domain),
        Verification::AlreadyVerified(domain) => ("domain already verified", domain),
        Verification::NotVerified {
            instructions,
            found,
        } => {
            let explanation = format!(
                "domain not verified: no TXT record {:?} at {}",
                instructions.verification_value, instructions.verification_name
            );
            let mut problem = Problem::new(StatusCode::BAD_REQUEST, "invalid_input", explanation);
            // The original's `error` text, which the CLI prints.
            problem.error = "domain not verified".to_owned();
            problem.request_id = request_id.as_str().to_owned();
            let body = DomainNotVerified {
                problem,
                verification_name: instructions.verification_name,
                verification_value: instructions.verification_value,
                found_records: found,
            };
            let mut response = (StatusCode::BAD_REQUEST, Json(body)).into_response();
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(crate::error::PROBLEM_JSON),
            );
            response.extensions_mut().insert(KeepBody);
            return Ok(response);
        }
    };
    Ok(Json(DomainVerified {
        message,
        domain: domain.into(),
    })
    .into_response())
}
