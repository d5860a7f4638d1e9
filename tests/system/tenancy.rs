//! The cross-tenant matrix: every operation in the OpenAPI document (so a new route is covered
//! the day it is added) is called by the project's owner, another user, a viewer member and an
//! anonymous caller; each gets exactly the status its class allows, and nothing the other users
//! attempted changed the owner's data.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::support::{call, expect, get_ok, grant, register};

/// What a route is, for authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// No token needed (probes, sign-in, public keys).
    Public,
    /// Any signed-in user, acting on their own data.
    Own,
    /// A resource of one user (the owner's); anyone else gets 404.
    Owned,
    /// Inside a project, needing at least this project role.
    Project(Role),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Viewer,
    Developer,
    Admin,
}

/// Every operation, classified. A route missing here fails the test: classify it.
fn class_of(operation: &str) -> Option<Class> {
    use Class::{Own, Owned, Project, Public};
    Some(match operation {
        "GET /health" | "GET /health/live" | "GET /health/ready" | "GET /metrics" => Public,
        "POST /v1/auth/register" | "POST /v1/auth/login" | "POST /v1/auth/refresh" => Public,
        "GET /v1/auth/jwks" => Public,
        "GET /v1/auth/me" | "POST /v1/auth/logout" => Own,
        "GET /v1/user/tokens" | "POST /v1/user/tokens" => Own,
        "GET /v1/user/tokens/{id}" | "DELETE /v1/user/tokens/{id}" => Owned,
        "GET /v1/projects" | "POST /v1/projects" | "GET /v1/environments" => Own,
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
        _ => return None,
    })
}

/// A valid body for the operation, so that only authorization decides the status.
fn body_for(operation: &str, caller: &str) -> Option<Value> {
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
        _ => None,
    }
}

struct Fixture {
    project: &'static str,
    environment: &'static str,
    owned_token_id: String,
    service_id: String,
}

impl Fixture {
    fn path(&self, template: &str) -> String {
        let path = template
            .replace("{slug}", self.project)
            .replace("{env_name}", self.environment)
            .replace(
                "{id}",
                if template.starts_with("/v1/services/") {
                    &self.service_id
                } else {
                    &self.owned_token_id
                },
            );
        assert!(
            !path.contains('{'),
            "teach the matrix the parameters of {template}"
        );
        path
    }
}

async fn api_token(app: &TestApp, session: &str, name: &str) -> (String, String) {
    let body = expect(
        app,
        Method::POST,
        "/v1/user/tokens",
        session,
        Some(json!({"name": name})),
        StatusCode::CREATED,
    )
    .await;
    (
        body["token"].as_str().unwrap().to_owned(),
        body["id"].as_str().unwrap().to_owned(),
    )
}

/// Operations in a safe order: reads, then writes, then deletes, deleting the project last.
fn operations() -> Vec<(Method, String)> {
    let doc = serde_json::to_value(switchyard_api::openapi()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if let Ok(method) = method.to_uppercase().parse::<Method>() {
                ops.push((method, path.clone()));
            }
        }
    }
    let rank = |(method, path): &(Method, String)| match method.as_str() {
        "GET" => 0,
        "POST" | "PUT" | "PATCH" => 1,
        _ if path == "/v1/projects/{slug}" => 3,
        _ => 2,
    };
    ops.sort_by_key(|op| (rank(op), op.1.clone()));
    ops
}

#[tokio::test]
async fn no_route_lets_one_tenant_read_or_change_another() {
    let app = TestApp::spawn().await;
    let owner_session = register(&app, "owner@example.com").await;
    let other_session = register(&app, "other@example.com").await;
    let viewer_session = register(&app, "member@example.com").await;
    let (owner, _) = api_token(&app, &owner_session, "owner").await;
    let (other, _) = api_token(&app, &other_session, "other").await;
    let (viewer, _) = api_token(&app, &viewer_session, "viewer").await;
    let (_, owned_token_id) = api_token(&app, &owner_session, "target").await;
    expect(
        &app,
        Method::POST,
        "/v1/projects",
        &owner,
        Some(json!({"name": "Alpha", "slug": "alpha"})),
        StatusCode::CREATED,
    )
    .await;
    expect(
        &app,
        Method::POST,
        "/v1/projects/alpha/environments",
        &owner,
        Some(json!({"name": "staging"})),
        StatusCode::CREATED,
    )
    .await;
    let service = expect(
        &app,
        Method::POST,
        "/v1/projects/alpha/services",
        &owner,
        Some(json!({"name": "web", "git_repo": "https://github.com/acme/web"})),
        StatusCode::CREATED,
    )
    .await;
    grant(&app, "member@example.com", "alpha", "viewer").await;
    let fixture = Fixture {
        project: "alpha",
        environment: "staging",
        owned_token_id,
        service_id: service["id"].as_str().unwrap().to_owned(),
    };

    let ops = operations();
    let unclassified: Vec<String> = ops
        .iter()
        .map(|(m, p)| format!("{m} {p}"))
        .filter(|op| class_of(op).is_none())
        .collect();
    assert!(
        unclassified.is_empty(),
        "classify these routes in tenancy.rs: {unclassified:?}"
    );

    let mut checked = 0;
    for (method, template) in &ops {
        let operation = format!("{method} {template}");
        let class = class_of(&operation).unwrap();
        if class == Class::Public {
            continue;
        }
        let path = fixture.path(template);
        let callers = [
            ("anonymous", None),
            ("other", Some(other.as_str())),
            ("viewer", Some(viewer.as_str())),
            ("owner", Some(owner.as_str())),
        ];
        for (who, bearer) in callers {
            let body = body_for(&operation, who);
            let (status, response) = call(&app, method.clone(), &path, bearer, body.as_ref()).await;
            let expected = expected(class, who);
            let ok = match expected {
                Expect::Success => status.is_success(),
                Expect::Status(s) => status == s,
            };
            assert!(
                ok,
                "{operation} as {who}: expected {expected:?}, got {status} {response}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 90, "only {checked} calls made");

    // Neither the other user nor the viewer changed anything of the owner's: the owner's own
    // calls created `env-owner` and then deleted the project, and nothing else happened to it.
    let activity = get_ok(&app, "/v1/activity?limit=200", &owner).await;
    let touched_by_others: Vec<&Value> = activity["activities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["project_id"].is_string() && a["actor_email"] != "owner@example.com")
        .collect();
    assert!(touched_by_others.is_empty(), "{touched_by_others:?}");
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    Success,
    Status(StatusCode),
}

fn expected(class: Class, who: &str) -> Expect {
    match (class, who) {
        (_, "anonymous") => Expect::Status(StatusCode::UNAUTHORIZED),
        (Class::Public | Class::Own, _) | (_, "owner") => Expect::Success,
        (Class::Owned, _) | (Class::Project(_), "other") => Expect::Status(StatusCode::NOT_FOUND),
        (Class::Project(Role::Viewer), _) => Expect::Success,
        (Class::Project(Role::Developer | Role::Admin), _) => Expect::Status(StatusCode::FORBIDDEN),
    }
}
