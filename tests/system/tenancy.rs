//! The cross-tenant matrix: every operation in the OpenAPI document (so a new route is covered
//! the day it is added) is called by the project's owner, another user, a viewer member and an
//! anonymous caller (WebSocket routes as WebSocket upgrades); each gets exactly the status its
//! class allows, and nothing the other users attempted changed the owner's data.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_kube_fake::FakeApiServer;
use switchyard_testkit::TestApp;

use crate::{
    logs_support::{cluster_of, ws_status},
    support::{call, expect, get_ok, grant, register},
    team_support::{User, create_team, invite, join},
    tenancy_routes::{
        Class, Expect, beyond_authorization, body_for, class_of, expected, query_for, websocket,
    },
};

impl Fixture {
    /// [`body_for`], with the fixture's ids where a body names one.
    fn body(&self, operation: &str, caller: &str) -> Option<Value> {
        match operation {
            "POST /v1/services/{id}/deploy" => Some(json!({
                "release_id": self.release_id, "environment_name": self.environment,
            })),
            "POST /v1/deployments/{id}/rollback" => Some(json!({"to_release": self.release_id})),
            _ => body_for(operation, caller),
        }
    }
}

struct Fixture {
    project: &'static str,
    environment: &'static str,
    owned_token_id: String,
    service_id: String,
    release_id: String,
    /// The deployment auto-deploy made of the release.
    deployment_id: String,
    /// A variable of the fixture service.
    var_id: String,
    /// A (platform, so already verified) domain of the fixture service.
    domain_id: String,
    team: &'static str,
    member_id: String,
    invitation_id: String,
    invitation_token: String,
}

impl Fixture {
    fn path(&self, template: &str) -> String {
        let slug = if template.starts_with("/v1/teams/") {
            self.team
        } else {
            self.project
        };
        let path = template
            .replace("{slug}", slug)
            .replace("{member_id}", &self.member_id)
            .replace("{invitation_id}", &self.invitation_id)
            .replace("{token}", &self.invitation_token)
            .replace("{env_name}", self.environment)
            .replace("{var_id}", &self.var_id)
            .replace("{domain_id}", &self.domain_id)
            .replace("{build_id}", &self.release_id)
            .replace("{commit_sha}", BUILT_SHA)
            .replace(
                "{id}",
                if template.starts_with("/v1/services/") {
                    &self.service_id
                } else if template.starts_with("/v1/releases/") {
                    &self.release_id
                } else if template.starts_with("/v1/deployments/") {
                    &self.deployment_id
                } else {
                    &self.owned_token_id
                },
            );
        assert!(
            !path.contains('{'),
            "teach the matrix the parameters of {template}"
        );
        if template.ends_with("/drift") {
            // An environment of the fixture's project (the default, development, is not).
            return format!("{path}?environment={}", self.environment);
        }
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

/// Operations in a safe order: reads, then writes, then deletes (children before their
/// parents), deleting the project last.
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
        _ if path == "/v1/projects/{slug}" || path == "/v1/teams/{slug}" => 3,
        _ => 2,
    };
    let depth = |(method, path): &(Method, String)| {
        std::cmp::Reverse(if method == Method::DELETE {
            path.matches('/').count()
        } else {
            0
        })
    };
    ops.sort_by_key(|op| (rank(op), depth(op), op.1.clone()));
    ops
}

#[tokio::test]
async fn no_route_lets_one_tenant_read_or_change_another() {
    // A cluster without pods: log routes answer (empty) instead of 503.
    let fake = FakeApiServer::start().await;
    let app = TestApp::builder()
        .domains(crate::dns_support::settings(None))
        .deploys(cluster_of(&fake))
        .spawn()
        .await;
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
    let var = expect(
        &app,
        Method::POST,
        &format!("/v1/services/{}/env-vars", service["id"].as_str().unwrap()),
        &owner,
        Some(json!({"key": "DATABASE_URL", "value": "postgres://db/x", "is_secret": true})),
        StatusCode::CREATED,
    )
    .await;
    let domain = expect(
        &app,
        Method::POST,
        &format!("/v1/services/{}/domains", service["id"].as_str().unwrap()),
        &owner,
        Some(json!({"domain": "web", "environment": "staging", "is_platform_domain": true})),
        StatusCode::CREATED,
    )
    .await;
    grant(&app, "member@example.com", "alpha", "viewer").await;
    let extra = register(&app, "extra@example.com").await;
    let (team_owner, team_viewer, extra) = (
        user(&app, &owner_session).await,
        user(&app, &viewer_session).await,
        user(&app, &extra).await,
    );
    let slug = "alpha-team";
    create_team(&app, &team_owner, slug).await;
    join(
        &app,
        &team_owner,
        slug,
        &team_viewer,
        "member@example.com",
        "viewer",
    )
    .await;
    join(
        &app,
        &team_owner,
        slug,
        &extra,
        "extra@example.com",
        "member",
    )
    .await;
    let invitation_token = invite(
        &app,
        &team_owner,
        slug,
        "someone-else@example.com",
        "member",
    )
    .await;
    let pending = get_ok(&app, "/v1/teams/alpha-team/invitations", &owner).await;
    let invitation_id = pending["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "someone-else@example.com")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (release_id, deployment_id) =
        built_release(&app, &owner, service["id"].as_str().unwrap()).await;
    let fixture = Fixture {
        project: "alpha",
        environment: "staging",
        owned_token_id,
        release_id,
        deployment_id,
        service_id: service["id"].as_str().unwrap().to_owned(),
        var_id: var["id"].as_str().unwrap().to_owned(),
        domain_id: domain["domain"]["id"].as_str().unwrap().to_owned(),
        team: slug,
        member_id: extra.id,
        invitation_id,
        invitation_token,
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
        let path = format!("{}{}", fixture.path(template), query_for(&operation));
        let callers = [
            ("anonymous", None),
            ("other", Some(other.as_str())),
            ("viewer", Some(viewer.as_str())),
            ("owner", Some(owner.as_str())),
        ];
        for (who, bearer) in callers {
            let body = fixture.body(&operation, who);
            let (status, response) = if websocket(&operation) {
                let (code, response) = ws_status(&app, &path, bearer).await;
                (StatusCode::from_u16(code).unwrap(), response)
            } else {
                call(&app, method.clone(), &path, bearer, body.as_ref()).await
            };
            let expected = match (expected(class, who), beyond_authorization(&operation)) {
                (Expect::Success, Some(status)) => Expect::Status(status),
                (expected, _) => expected,
            };
            let ok = match expected {
                Expect::Success => {
                    status.is_success()
                        || (websocket(&operation) && status == StatusCode::SWITCHING_PROTOCOLS)
                }
                Expect::Status(s) => status == s,
            };
            assert!(
                ok,
                "{operation} as {who}: expected {expected:?}, got {status} {response}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 150, "only {checked} calls made");

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

    // Every action and resource type the matrix caused is listed by the activity filters.
    let actions = get_ok(&app, "/v1/activity/actions", &other).await;
    let types = get_ok(&app, "/v1/activity/resource-types", &other).await;
    for row in activity["activities"].as_array().unwrap() {
        assert!(
            actions["actions"]
                .as_array()
                .unwrap()
                .contains(&row["action"]),
            "{row}"
        );
        assert!(
            types["resource_types"]
                .as_array()
                .unwrap()
                .contains(&row["resource_type"]),
            "{row}"
        );
    }
}

/// The signed-in user behind `bearer`, as the team helpers take it.
async fn user(app: &TestApp, bearer: &str) -> User {
    let me = get_ok(app, "/v1/auth/me", bearer).await;
    User {
        token: bearer.to_owned(),
        id: me["id"].as_str().unwrap().to_owned(),
    }
}

/// The commit of the fixture's release.
const BUILT_SHA: &str = "fedcba9876543210";

/// A release of the service that finished with an SBOM (through a signed callback), and the
/// deployment auto-deploy made of it.
async fn built_release(app: &TestApp, owner: &str, service_id: &str) -> (String, String) {
    let release = expect(
        app,
        Method::POST,
        &format!("/v1/services/{service_id}/build"),
        owner,
        Some(json!({"git_sha": BUILT_SHA})),
        StatusCode::CREATED,
    )
    .await;
    let id = release["id"].as_str().unwrap().to_owned();
    let body =
        json!({"job_id": "matrix", "release_id": id, "success": true, "sbom": "{}"}).to_string();
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let key = secrecy::SecretString::from(switchyard_testkit::TEST_ROUNDHOUSE_KEY.to_owned());
    let response = app
        .client
        .post(app.url("/v1/callbacks/build-complete"))
        .header("x-enclii-timestamp", ts.to_string())
        .header(
            "x-enclii-signature",
            switchyard_auth::callback::sign(&key, ts, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let done: Value = response.json().await.unwrap();
    let deployment = done["deployment_id"].as_str().unwrap(); // auto-deploy made one
    (id, deployment.to_owned())
}
