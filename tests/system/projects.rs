//! Projects and environments over HTTP: the original bodies, validation, paging, audit rows, the
//! outbox event of a deletion, and tenant isolation between two signed-up users.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::support::{call, expect, get_ok, grant, register};

async fn create_project(app: &TestApp, bearer: &str, slug: &str) -> Value {
    expect(
        app,
        Method::POST,
        "/v1/projects",
        bearer,
        Some(json!({"name": format!("Project {slug}"), "slug": slug, "description": "demo"})),
        StatusCode::CREATED,
    )
    .await
}

#[tokio::test]
async fn two_users_cannot_see_each_others_projects() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "ada@example.com").await;
    let bob = register(&app, "bob@example.com").await;
    let created = create_project(&app, &ada, "ada-shop").await;
    assert_eq!(created["slug"], "ada-shop");
    assert_eq!(created["description"], "demo");
    for field in ["id", "name", "created_at", "updated_at"] {
        assert!(created[field].is_string(), "{field}: {created}");
    }
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    create_project(&app, &bob, "bob-blog").await;

    let listed = get_ok(&app, "/v1/projects", &ada).await;
    let slugs: Vec<&str> = listed["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["ada-shop"]);

    for (method, path) in [
        (Method::GET, "/v1/projects/ada-shop"),
        (Method::DELETE, "/v1/projects/ada-shop"),
        (Method::GET, "/v1/projects/ada-shop/environments"),
    ] {
        let (status, body) = call(&app, method, path, Some(&bob), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"], "project ada-shop not found");
    }
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/projects/ada-shop/environments",
        Some(&bob),
        Some(&json!({"name": "prod"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let envs = get_ok(&app, "/v1/projects/ada-shop/environments", &ada).await;
    assert_eq!(envs["environments"], json!([]), "bob created nothing");
}

#[tokio::test]
async fn empty_lists_are_arrays_and_pages_follow_the_cursor() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "pager@example.com").await;
    let empty = get_ok(&app, "/v1/projects", &ada).await;
    assert_eq!(empty, json!({"projects": []}));
    for n in 0..5 {
        create_project(&app, &ada, &format!("proj-{n}")).await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/projects?limit=2".to_owned();
    loop {
        let page = get_ok(&app, &path, &ada).await;
        let items = page["projects"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|p| p["slug"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/projects?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["proj-0", "proj-1", "proj-2", "proj-3", "proj-4"]);
    for bad in ["limit=0", "limit=201", "cursor=zzz"] {
        let (status, body) = call(
            &app,
            Method::GET,
            &format!("/v1/projects?{bad}"),
            Some(&ada),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body["errors"][0]["field"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn every_validation_rule_is_a_400_naming_the_field_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "rules@example.com").await;
    let long = "x".repeat(101);
    for (body, field) in [
        (json!({"name": "", "slug": "good-slug"}), "name"),
        (json!({"name": long, "slug": "good-slug"}), "name"),
        (json!({"name": "ok", "slug": "ab"}), "slug"),
        (json!({"name": "ok", "slug": "Bad_Slug"}), "slug"),
        (json!({"name": "ok", "slug": "-bad"}), "slug"),
        (json!({"name": "ok", "slug": "x".repeat(51)}), "slug"),
        (
            json!({"name": "ok", "slug": "good-slug", "description": "d".repeat(1001)}),
            "description",
        ),
        (
            json!({"name": "ok", "slug": "good-slug", "team_slug": "NO"}),
            "slug",
        ),
    ] {
        let (status, problem) =
            call(&app, Method::POST, "/v1/projects", Some(&ada), Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let listed = get_ok(&app, "/v1/projects", &ada).await;
    assert_eq!(listed["projects"], json!([]));

    create_project(&app, &ada, "shop").await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/projects",
        Some(&ada),
        Some(&json!({"name": "again", "slug": "shop"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "already_exists");
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "a/b"}), "name"),
        (
            json!({"name": "ok", "kube_namespace": "Not_A_Label"}),
            "kube_namespace",
        ),
        (json!({"name": "e".repeat(64)}), "name"),
    ] {
        let (status, problem) = call(
            &app,
            Method::POST,
            "/v1/projects/shop/environments",
            Some(&ada),
            Some(&body),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let (status, _) = call(
        &app,
        Method::GET,
        "/v1/environments?project_id=nope",
        Some(&ada),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn environments_get_the_original_namespace_and_conflict_by_name() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "envs@example.com").await;
    let project = create_project(&app, &ada, "shop").await;
    let env = expect(
        &app,
        Method::POST,
        "/v1/projects/shop/environments",
        &ada,
        Some(json!({"name": "Staging_EU"})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(env["kube_namespace"], "enclii-shop-staging-eu");
    assert_eq!(env["project_id"], project["id"]);
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/projects/shop/environments",
        Some(&ada),
        Some(&json!({"name": "Staging_EU"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let viewed = get_ok(&app, "/v1/projects/shop/environments/Staging_EU", &ada).await;
    assert_eq!(viewed["id"], env["id"]);
    let (status, _) = call(
        &app,
        Method::GET,
        "/v1/projects/shop/environments/nope",
        Some(&ada),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // `/v1/environments` without project_id: everything the caller can see, nothing else.
    let bob = register(&app, "bob-envs@example.com").await;
    create_project(&app, &bob, "bobs").await;
    expect(
        &app,
        Method::POST,
        "/v1/projects/bobs/environments",
        &bob,
        Some(json!({"name": "prod"})),
        StatusCode::CREATED,
    )
    .await;
    let all = get_ok(&app, "/v1/environments", &ada).await;
    assert_eq!(all["environments"].as_array().unwrap().len(), 1, "{all}");
    assert_eq!(all["environments"][0]["id"], env["id"]);
    let path = format!(
        "/v1/environments?project_id={}",
        project["id"].as_str().unwrap()
    );
    let (status, _) = call(&app, Method::GET, &path, Some(&bob), None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "bob cannot list ada's environments"
    );
}

#[tokio::test]
async fn viewers_read_but_cannot_write_and_deletion_is_audited_and_queued() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "owner@example.com").await;
    let vic = register(&app, "viewer@example.com").await;
    create_project(&app, &ada, "shop").await;
    expect(
        &app,
        Method::POST,
        "/v1/projects/shop/environments",
        &ada,
        Some(json!({"name": "prod"})),
        StatusCode::CREATED,
    )
    .await;
    grant(&app, "viewer@example.com", "shop", "viewer").await;
    get_ok(&app, "/v1/projects/shop", &vic).await;
    let listed = get_ok(&app, "/v1/projects", &vic).await;
    assert_eq!(listed["projects"].as_array().unwrap().len(), 1);
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/projects/shop/environments",
            Some(json!({"name": "dev"})),
        ),
        (Method::DELETE, "/v1/projects/shop", None),
    ] {
        let (status, problem) = call(&app, method, path, Some(&vic), body.as_ref()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {problem}");
    }

    // The viewer sees the project's activity; the audit rows carry actor and request id.
    let activity = get_ok(&app, "/v1/activity", &vic).await;
    let actions: Vec<&str> = activity["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["environment.create", "project.create"]);
    assert_eq!(
        activity["activities"][0]["actor_email"],
        "owner@example.com"
    );
    assert!(activity["activities"][0]["request_id"].is_string());

    expect(
        &app,
        Method::DELETE,
        "/v1/projects/shop",
        &ada,
        None,
        StatusCode::OK,
    )
    .await;
    let (status, _) = call(&app, Method::GET, "/v1/projects/shop", Some(&ada), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mut conn = app.db.connect().await;
    let (topic, payload) = outbox_row(&mut conn).await;
    assert_eq!(topic, "projects");
    assert_eq!(payload["type"], "project.deleted");
    assert_eq!(payload["namespaces"], json!(["enclii-shop-prod"]));
    let activity = get_ok(&app, "/v1/activity", &ada).await;
    assert_eq!(activity["activities"][0]["action"], "project.delete");
}

#[expect(clippy::disallowed_methods, reason = "test reads the outbox directly")]
async fn outbox_row(conn: &mut sqlx::PgConnection) -> (String, Value) {
    sqlx::query_as("select topic, payload from outbox")
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "tries to rewrite history directly"
)]
async fn the_audit_log_refuses_updates_and_deletes() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "history@example.com").await;
    create_project(&app, &ada, "shop").await;
    let mut conn = app.db.connect().await;
    for statement in [
        "update audit_log set actor_email = 'someone@else'",
        "delete from audit_log",
        "truncate audit_log",
    ] {
        let err = sqlx::query(statement)
            .execute(&mut conn)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("append-only"), "{statement}: {err}");
    }
}

#[tokio::test]
async fn teams_tokens_and_invitations_page_like_every_list() {
    let app = TestApp::spawn().await;
    let ada = register(&app, "lists@example.com").await;
    for n in 0..3 {
        let team = json!({"name": format!("Team {n}"), "slug": format!("team-{n}")});
        expect(
            &app,
            Method::POST,
            "/v1/teams",
            &ada,
            Some(team),
            StatusCode::CREATED,
        )
        .await;
        let token = json!({"name": format!("token {n}")});
        expect(
            &app,
            Method::POST,
            "/v1/user/tokens",
            &ada,
            Some(token),
            StatusCode::CREATED,
        )
        .await;
        let invite = json!({"email": format!("guest{n}@example.com"), "role": "member"});
        expect(
            &app,
            Method::POST,
            "/v1/teams/team-0/invitations",
            &ada,
            Some(invite),
            StatusCode::CREATED,
        )
        .await;
    }
    for (path, field) in [
        ("/v1/teams", "teams"),
        ("/v1/user/tokens", "tokens"),
        ("/v1/teams/team-0/invitations", "invitations"),
    ] {
        let first = get_ok(&app, &format!("{path}?limit=2"), &ada).await;
        assert_eq!(first[field].as_array().unwrap().len(), 2, "{path}: {first}");
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = get_ok(&app, &format!("{path}?limit=2&cursor={cursor}"), &ada).await;
        assert_eq!(
            second[field].as_array().unwrap().len(),
            1,
            "{path}: {second}"
        );
        assert!(second.get("next_cursor").is_none(), "{path}: last page");
        assert_ne!(first[field][0]["id"], second[field][0]["id"]);
    }
    let members = get_ok(&app, "/v1/teams/team-0/members?limit=1", &ada).await;
    assert_eq!(members["members"].as_array().unwrap().len(), 1);
    assert!(members.get("next_cursor").is_none(), "one member: one page");
}
