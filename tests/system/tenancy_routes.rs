//! The cross-tenant matrix's table: what each route needs (`class_of`), the body and query
//! that make only authorization decide its answer (`body_for`, `query_for`), and the status
//! each caller must get (`expected`, `beyond_authorization`). The matrix is in `tenancy.rs`.

use reqwest::StatusCode;
use serde_json::{Value, json};

/// What a route is, for authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// No token needed (probes, sign-in, public keys).
    Public,
    /// Any signed-in user, acting on their own data.
    Own,
    /// A resource of one user (the owner's); anyone else gets 404.
    Owned,
    /// Inside a project, needing at least this project role.
    Project(Role),
    /// Inside a team: `Viewer` for reads, `Admin` for managing it (team owner or admin).
    Team(Role),
    /// An invitation token: only the invited e-mail may use it (none of the matrix's callers).
    Invitee,
    /// Platform admins only (none of the matrix's callers is one): 403 for everyone signed in.
    PlatformAdmin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Viewer,
    Developer,
    Admin,
}

/// Every operation, classified. A route missing here fails the test: classify it.
pub(crate) fn class_of(operation: &str) -> Option<Class> {
    use Class::{Invitee, Own, Owned, PlatformAdmin, Project, Public, Team};
    Some(match operation {
        "GET /health" | "GET /health/live" | "GET /health/ready" | "GET /metrics" => Public,
        "POST /v1/auth/register" | "POST /v1/auth/login" | "POST /v1/auth/refresh" => Public,
        "GET /v1/auth/jwks" => Public,
        "GET /v1/auth/login" | "GET /v1/auth/callback" => Public,
        "GET /v1/auth/silent-check" | "GET /v1/auth/callback/silent" => Public,
        "GET /v1/auth/me" | "POST /v1/auth/logout" => Own,
        "GET /v1/user/tokens" | "POST /v1/user/tokens" => Own,
        "GET /v1/user/tokens/{id}" | "DELETE /v1/user/tokens/{id}" => Owned,
        "GET /v1/projects" | "POST /v1/projects" | "GET /v1/environments" => Own,
        "GET /v1/dashboard/stats" => Own,
        // Without `?project=`: the caller's own projects. Other tenants' 404: tests/system/billing.rs.
        "GET /v1/usage" | "GET /v1/usage/costs" => Own,
        "GET /v1/projects/{slug}/usage/ledger" => Project(Role::Viewer),
        "POST /v1/admin/billing/aggregate" => PlatformAdmin,
        "GET /v1/activity" | "GET /v1/activity/actions" | "GET /v1/activity/resource-types" => Own,
        "GET /v1/projects/{slug}" => Project(Role::Viewer),
        "DELETE /v1/projects/{slug}" => Project(Role::Admin),
        "GET /v1/projects/{slug}/environments" => Project(Role::Viewer),
        "GET /v1/projects/{slug}/environments/{env_name}" => Project(Role::Viewer),
        "POST /v1/projects/{slug}/environments" => Project(Role::Developer),
        "GET /v1/projects/{slug}/services" => Project(Role::Viewer),
        "POST /v1/projects/{slug}/services" | "POST /v1/projects/{slug}/services/bulk" => {
            Project(Role::Developer)
        }
        "GET /v1/services/{id}" | "GET /v1/services/{id}/settings" => Project(Role::Viewer),
        "PATCH /v1/services/{id}" => Project(Role::Developer),
        "DELETE /v1/services/{id}" => Project(Role::Admin),
        "POST /v1/services/{id}/build" => Project(Role::Developer),
        "GET /v1/services/{id}/releases" | "GET /v1/releases/{id}/sbom" => Project(Role::Viewer),
        "GET /v1/services/{id}/builds/{build_id}/status" => Project(Role::Viewer),
        "POST /v1/services/{id}/deploy" | "POST /v1/deployments/{id}/rollback" => {
            Project(Role::Developer)
        }
        "GET /v1/services/{id}/deployments"
        | "GET /v1/services/{id}/deployments/latest"
        | "GET /v1/services/{id}/status"
        | "GET /v1/services/{id}/drift"
        | "GET /v1/deployments/{id}" => Project(Role::Viewer),
        "GET /v1/deployments/{id}/logs"
        | "GET /v1/deployments/{id}/logs/stream"
        | "GET /v1/services/{id}/logs/stream" => Project(Role::Viewer),
        // Answers only what the caller can read: tests/system/build_status.rs.
        "GET /v1/builds/{commit_sha}/status" => Own,
        // Authenticated by Roundhouse's key, not a bearer: tests/system/builds.rs.
        "POST /v1/callbacks/build-complete" | "GET /v1/services" => Public,
        // Authenticated by GitHub's signature: tests/system/github.rs.
        "POST /v1/webhooks/github" => Public,
        "GET /v1/projects/{slug}/webhook-deliveries" => Project(Role::Admin),
        "GET /v1/services/{id}/env-vars" | "GET /v1/services/{id}/env-vars/{var_id}" => {
            Project(Role::Viewer)
        }
        "POST /v1/services/{id}/env-vars" | "POST /v1/services/{id}/env-vars/bulk" => {
            Project(Role::Developer)
        }
        "PUT /v1/services/{id}/env-vars/{var_id}"
        | "DELETE /v1/services/{id}/env-vars/{var_id}"
        | "POST /v1/services/{id}/env-vars/{var_id}/reveal" => Project(Role::Developer),
        "GET /v1/services/{id}/domains" | "GET /v1/services/{id}/domains/{domain_id}" => {
            Project(Role::Viewer)
        }
        "POST /v1/services/{id}/domains"
        | "PATCH /v1/services/{id}/domains/{domain_id}"
        | "DELETE /v1/services/{id}/domains/{domain_id}"
        | "POST /v1/services/{id}/domains/{domain_id}/verify" => Project(Role::Developer),
        "GET /v1/domains" | "GET /v1/domains/stats" => Own,
        "GET /v1/teams" | "POST /v1/teams" | "GET /v1/invitations" => Own,
        "GET /v1/teams/{slug}" | "GET /v1/teams/{slug}/members" => Team(Role::Viewer),
        "PATCH /v1/teams/{slug}" | "DELETE /v1/teams/{slug}" => Team(Role::Admin),
        "PATCH /v1/teams/{slug}/members/{member_id}" => Team(Role::Admin),
        "DELETE /v1/teams/{slug}/members/{member_id}" => Team(Role::Admin),
        "GET /v1/teams/{slug}/invitations" | "POST /v1/teams/{slug}/invitations" => {
            Team(Role::Admin)
        }
        "DELETE /v1/teams/{slug}/invitations/{invitation_id}" => Team(Role::Admin),
        "GET /v1/invitations/{token}" => Invitee,
        "POST /v1/invitations/{token}/accept" | "POST /v1/invitations/{token}/decline" => Invitee,
        _ => return None,
    })
}

/// The operations served as WebSockets: called with an upgrade, and 101 is their success.
pub(crate) fn websocket(operation: &str) -> bool {
    operation.ends_with("/logs/stream")
}

/// The query an operation needs besides authorization (the service stream's environment).
pub(crate) fn query_for(operation: &str) -> &'static str {
    match operation {
        "GET /v1/services/{id}/logs/stream" => "?env=staging",
        _ => "",
    }
}

/// A valid body for the operation, so that only authorization decides the status.
pub(crate) fn body_for(operation: &str, caller: &str) -> Option<Value> {
    match operation {
        "POST /v1/user/tokens" => Some(json!({"name": format!("matrix {caller}")})),
        "POST /v1/projects" => Some(json!({"name": caller, "slug": format!("p-{caller}")})),
        "POST /v1/projects/{slug}/environments" => Some(json!({"name": format!("env-{caller}")})),
        "POST /v1/projects/{slug}/services" => Some(json!({
            "name": format!("svc-{caller}"),
            "git_repo": "https://github.com/acme/shop",
        })),
        "POST /v1/projects/{slug}/services/bulk" => Some(json!({
            "git_repo": "https://github.com/acme/shop",
            "services": [{"name": format!("bulk-{caller}"), "app_path": "apps/web"}],
        })),
        "PATCH /v1/services/{id}" => Some(json!({"replicas": 2})),
        "POST /v1/services/{id}/build" => Some(json!({"git_sha": "0123456789abcdef"})),
        "POST /v1/services/{id}/env-vars" => {
            Some(json!({"key": format!("K_{caller}"), "value": "v"}))
        }
        "POST /v1/services/{id}/env-vars/bulk" => Some(json!({
            "variables": [{"key": format!("B_{caller}"), "value": "v", "is_secret": true}],
        })),
        "PUT /v1/services/{id}/env-vars/{var_id}" => {
            Some(json!({"value": format!("edited by {caller}")}))
        }
        // A platform domain (verified at once), in the fixture's environment by name.
        "POST /v1/services/{id}/domains" => Some(json!({
            "domain": format!("web-{caller}"), "environment": "staging", "is_platform_domain": true,
        })),
        "PATCH /v1/services/{id}/domains/{domain_id}" => Some(json!({"tls_enabled": false})),
        "POST /v1/teams" => {
            Some(json!({"name": format!("Team {caller}"), "slug": format!("t-{caller}")}))
        }
        "PATCH /v1/teams/{slug}" => Some(json!({"description": format!("edited by {caller}")})),
        "PATCH /v1/teams/{slug}/members/{member_id}" => Some(json!({"role": "member"})),
        "POST /v1/teams/{slug}/invitations" => Some(json!({
            "email": format!("invitee-{caller}@example.com"),
            "role": "member",
        })),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    Success,
    Status(StatusCode),
}

/// The answer that proves a caller got past authorization on a route whose success needs
/// state the fixture does not have.
pub(crate) fn beyond_authorization(operation: &str) -> Option<StatusCode> {
    match operation {
        // The fixture's deployment never runs (no worker): nothing to compare.
        "GET /v1/services/{id}/drift" => Some(StatusCode::CONFLICT),
        _ => None,
    }
}

pub(crate) fn expected(class: Class, who: &str) -> Expect {
    use StatusCode as S;
    match (class, who) {
        (_, "anonymous") => Expect::Status(S::UNAUTHORIZED),
        (Class::Invitee | Class::PlatformAdmin, _) => Expect::Status(S::FORBIDDEN),
        (Class::Public | Class::Own, _) | (_, "owner") => Expect::Success,
        (Class::Owned | Class::Project(_) | Class::Team(_), "other") | (Class::Owned, _) => {
            Expect::Status(S::NOT_FOUND)
        }
        (Class::Project(Role::Viewer) | Class::Team(Role::Viewer), _) => Expect::Success,
        (Class::Project(_) | Class::Team(_), _) => Expect::Status(S::FORBIDDEN),
    }
}
