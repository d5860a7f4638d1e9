//! Bodies of the domain routes: the original `CustomDomain` (Cloudflare fields left out: they
//! are optional there and never set here), its envelopes, the DNS instructions, and the request
//! shapes (parsed by `switchyard-domain`; the structs here describe them for OpenAPI).

use serde::{Deserialize, Serialize};
use switchyard_core::{CustomDomain, DnsInstructions, DomainCounts, ListedDomain};
use utoipa::{IntoParams, ToSchema};

use crate::{Problem, routes::auth::dto::rfc3339};

/// A custom domain.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CustomDomainView {
    id: String,
    service_id: String,
    environment_id: String,
    /// Lower-case; punycode (`xn--…`) for an internationalized name.
    domain: String,
    verified: bool,
    tls_enabled: bool,
    /// The cert-manager ClusterIssuer of its certificate (the cluster's), when TLS is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_issuer: Option<String>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_at: Option<String>,
    is_platform_domain: bool,
    /// Always false: Cloudflare Access is not supported.
    zero_trust_enabled: bool,
    /// Always `cert-manager`.
    tls_provider: &'static str,
    /// `pending` until verified, then `active`.
    status: &'static str,
    /// Where a custom domain's CNAME points (`tunnel.<ENCLII_PLATFORM_DOMAIN>`), when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    dns_cname: Option<String>,
}

impl From<CustomDomain> for CustomDomainView {
    fn from(d: CustomDomain) -> Self {
        let verified = d.verified_at.is_some();
        Self {
            id: d.id.to_string(),
            service_id: d.service_id.to_string(),
            environment_id: d.environment_id.to_string(),
            domain: d.domain,
            verified,
            tls_enabled: d.tls_enabled,
            tls_issuer: d.tls_issuer,
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
            verified_at: d.verified_at.map(rfc3339),
            is_platform_domain: d.is_platform_domain,
            zero_trust_enabled: false,
            tls_provider: "cert-manager",
            status: if verified { "active" } else { "pending" },
            dns_cname: d.dns_cname,
        }
    }
}

/// `{domain: CustomDomain}` (GET, PATCH).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DomainEnvelope {
    pub(crate) domain: CustomDomainView,
}

/// One DNS record to create.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DnsRecordView {
    #[serde(rename = "type")]
    kind: &'static str,
    /// The full name of the record (some DNS hosts want it relative to the zone: drop the zone).
    name: String,
    value: String,
}

/// What to put in DNS: the TXT record verification looks up, and the CNAME that routes traffic.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DnsInstructionsView {
    verification: DnsRecordView,
    #[serde(skip_serializing_if = "Option::is_none")]
    cname: Option<DnsRecordView>,
}

impl DnsInstructionsView {
    pub(crate) fn new(i: DnsInstructions, domain: &str) -> Self {
        Self {
            verification: DnsRecordView {
                kind: "TXT",
                name: i.verification_name,
                value: i.verification_value,
            },
            cname: i.cname_target.map(|target| DnsRecordView {
                kind: "CNAME",
                name: domain.to_owned(),
                value: target,
            }),
        }
    }
}

/// `201 {domain, message, dns_instructions?}` (instructions for a custom domain only).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DomainCreated {
    pub(crate) domain: CustomDomainView,
    pub(crate) message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dns_instructions: Option<DnsInstructionsView>,
}

/// `{domains: [...]}`, never `null`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DomainList {
    pub(crate) domains: Vec<CustomDomainView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

/// The original's delete answer (there is no tunnel route to remove).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DomainDeleted {
    pub(crate) message: &'static str,
    pub(crate) tunnel_route_removed: bool,
}

/// `200 {message, domain}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DomainVerified {
    pub(crate) message: &'static str,
    pub(crate) domain: CustomDomainView,
}

/// `400`: the record is not there (yet). The error body plus the original's
/// `verification_value`, the name looked up and the TXT values found there.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DomainNotVerified {
    #[serde(flatten)]
    pub(crate) problem: Problem,
    pub(crate) verification_name: String,
    pub(crate) verification_value: String,
    pub(crate) found_records: Vec<String>,
}

/// A domain with what it routes to.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ListedDomainView {
    #[serde(flatten)]
    domain: CustomDomainView,
    service_name: String,
    environment_name: String,
    project_slug: String,
}

impl From<ListedDomain> for ListedDomainView {
    fn from(d: ListedDomain) -> Self {
        Self {
            domain: d.domain.into(),
            service_name: d.service_name,
            environment_name: d.environment_name,
            project_slug: d.project_slug,
        }
    }
}

/// `{domains, total, limit, offset, next_cursor?}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VisibleDomainList {
    pub(crate) domains: Vec<ListedDomainView>,
    /// Domains matching the filters, all pages.
    pub(crate) total: i64,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

/// Parameters of `GET /v1/domains`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VisibleDomainQuery {
    /// 1 to 200; default 50.
    pub(crate) limit: Option<i64>,
    /// The `next_cursor` of the previous page (preferred over `offset`).
    pub(crate) cursor: Option<String>,
    /// Rows to skip (the original's paging).
    #[serde(default)]
    pub(crate) offset: i64,
    pub(crate) verified: Option<bool>,
    pub(crate) tls_enabled: Option<bool>,
}

/// The original's counts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DomainStatsView {
    total_domains: i64,
    verified_domains: i64,
    pending_domains: i64,
    tls_enabled: i64,
    platform_domains: i64,
    custom_domains: i64,
}

impl From<DomainCounts> for DomainStatsView {
    fn from(c: DomainCounts) -> Self {
        Self {
            total_domains: c.total,
            verified_domains: c.verified,
            pending_domains: c.total - c.verified,
            tls_enabled: c.tls_enabled,
            platform_domains: c.platform,
            custom_domains: c.total - c.platform,
        }
    }
}

/// Add a domain (the UI's and the CLI's bodies both parse).
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for OpenAPI; switchyard-domain parses it"
)]
pub(crate) struct DomainCreateBody {
    /// The host name. For a platform domain: one label (completed with the platform's domain), a
    /// name one label under it, or nothing (`<service>-<environment>`).
    domain: Option<String>,
    /// Required unless `environment` names one.
    environment_id: Option<String>,
    /// The CLI's environment name, used when `environment_id` is absent.
    environment: Option<String>,
    /// Default false.
    is_platform_domain: Option<bool>,
    /// Default true.
    tls_enabled: Option<bool>,
    /// Only the cluster's issuer is accepted.
    tls_issuer: Option<String>,
    /// Only `cert-manager`.
    tls_provider: Option<String>,
    /// Only false.
    zero_trust_enabled: Option<bool>,
}

/// Change TLS (at least one field).
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for OpenAPI; switchyard-domain parses it"
)]
pub(crate) struct DomainUpdateBody {
    tls_enabled: Option<bool>,
    /// Only the cluster's issuer is accepted.
    tls_issuer: Option<String>,
}
