//! Teams over HTTP: the team lifecycle, member roles (last owner, only owners grant ownership),
//! 404 for non-members and 403 below the needed role, field-named validation, and team
//! membership as the source of project grants.

#![expect(
    clippy::disallowed_methods,
    reason = "tests insert a project and read its team directly"
)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_domain::{ProjectId, TeamId, UserId};

use crate::team_support::{User, audit_actions, call, create_team, join, roles, spawn, user};

fn is_utc(timestamp: &Value) -> bool {
    timestamp.as_str().is_some_and(|t| t.ends_with('Z'))
}

#[tokio::test]
async fn a_team_is_created_listed_viewed_updated_and_deleted() {
    let app = spawn(&[]).await;
    let alice = user(&app, "alice@example.com").await;
    let (status, team) = call(
        &app,
        Method::POST,
        "/v1/teams",
        &alice,
        Some(
            json!({"name": "Acme", "slug": "acme", "description": "Rockets",
                    "billing_email": "billing@acme.example"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    assert_eq!(team["user_role"], "owner");
    assert_eq!(team["member_count"], 1);
    assert_eq!(team["billing_email"], "billing@acme.example");
    assert!(
        team.get("avatar_url").is_none(),
        "omitted when empty: {team}"
    );
    assert!(is_utc(&team["created_at"]) && is_utc(&team["updated_at"]));
    let (status, dup) = call(
        &app,
        Method::POST,
        "/v1/teams",
        &alice,
        Some(json!({"name": "Other", "slug": "acme"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{dup}");
    create_team(&app, &alice, "beta").await;

    let (_, list) = call(&app, Method::GET, "/v1/teams", &alice, None).await;
    let slugs: Vec<&str> = list["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["acme", "beta"]);
    assert_eq!(list["teams"][0]["user_role"], "owner");

    let (status, viewed) = call(&app, Method::GET, "/v1/teams/acme", &alice, None).await;
    assert_eq!((status, &viewed["id"]), (StatusCode::OK, &team["id"]));
    let (status, updated) = call(
        &app,
        Method::PATCH,
        "/v1/teams/acme",
        &alice,
        Some(json!({"name": "Acme Corp", "avatar_url": "https://acme.example/a.png"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Acme Corp");
    assert_eq!(updated["avatar_url"], "https://acme.example/a.png");
    assert_eq!(updated["description"], "Rockets", "untouched fields stay");

    let (status, deleted) = call(&app, Method::DELETE, "/v1/teams/acme", &alice, None).await;
    assert_eq!(
        (status, &deleted["message"]),
        (StatusCode::OK, &json!("Team deleted"))
    );
    let (status, _) = call(&app, Method::GET, "/v1/teams/acme", &alice, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        audit_actions(&app).await,
        ["team.create", "team.create", "team.update", "team.delete"]
    );
}

#[tokio::test]
async fn invalid_input_is_refused_naming_the_field() {
    let app = spawn(&[]).await;
    let alice = user(&app, "alice@example.com").await;
    create_team(&app, &alice, "acme").await;
    let member = format!("/v1/teams/acme/members/{}", alice.id);
    let cases = [
        (
            Method::POST,
            "/v1/teams",
            json!({"name": "A", "slug": "ok"}),
            "name",
        ),
        (
            Method::POST,
            "/v1/teams",
            json!({"name": "n".repeat(101), "slug": "ok"}),
            "name",
        ),
        (
            Method::POST,
            "/v1/teams",
            json!({"name": "Ok", "slug": "Bad_Slug"}),
            "slug",
        ),
        (
            Method::POST,
            "/v1/teams",
            json!({"name": "Ok", "slug": "a"}),
            "slug",
        ),
        (
            Method::POST,
            "/v1/teams",
            json!({"name": "Ok", "slug": "ok", "billing_email": "nope"}),
            "billing_email",
        ),
        (
            Method::POST,
            "/v1/teams",
            json!({"name": "Ok", "slug": "ok", "description": "d".repeat(1001)}),
            "description",
        ),
        (
            Method::PATCH,
            "/v1/teams/acme",
            json!({"name": " x "}),
            "name",
        ),
        (
            Method::PATCH,
            "/v1/teams/acme",
            json!({"billing_email": "a@b"}),
            "billing_email",
        ),
        (
            Method::PATCH,
            "/v1/teams/acme",
            json!({"avatar_url": "ftp://x"}),
            "avatar_url",
        ),
        (
            Method::PATCH,
            &member,
            json!({"role": "superadmin"}),
            "role",
        ),
        (
            Method::POST,
            "/v1/teams/acme/invitations",
            json!({"email": "x", "role": "member"}),
            "email",
        ),
        (
            Method::POST,
            "/v1/teams/acme/invitations",
            json!({"email": "x@y.example", "role": "owner"}),
            "role",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, problem) = call(&app, method.clone(), path, &alice, Some(body.clone())).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let (_, list) = call(&app, Method::GET, "/v1/teams", &alice, None).await;
    assert_eq!(
        list["teams"].as_array().unwrap().len(),
        1,
        "nothing was created"
    );
}

#[tokio::test]
async fn non_members_get_404_members_below_the_role_403_platform_admins_everything() {
    let app = spawn(&["root@example.com"]).await;
    let alice = user(&app, "alice@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let root = user(&app, "root@example.com").await;
    create_team(&app, &alice, "acme").await;
    let patch = Some(json!({"name": "Hijacked"}));
    let invitation = Some(json!({"email": "x@example.com", "role": "viewer"}));
    let requests = [
        (Method::GET, "/v1/teams/acme", None),
        (Method::PATCH, "/v1/teams/acme", patch.clone()),
        (Method::DELETE, "/v1/teams/acme", None),
        (Method::GET, "/v1/teams/acme/members", None),
        (Method::GET, "/v1/teams/acme/invitations", None),
        (
            Method::POST,
            "/v1/teams/acme/invitations",
            invitation.clone(),
        ),
    ];
    for (method, path, body) in requests.clone() {
        let (status, problem) = call(&app, method.clone(), path, &bob, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {problem}");
    }
    join(&app, &alice, "acme", &bob, "bob@example.com", "viewer").await;
    let expected = [
        StatusCode::OK,
        StatusCode::FORBIDDEN,
        StatusCode::FORBIDDEN,
        StatusCode::OK,
        StatusCode::FORBIDDEN,
        StatusCode::FORBIDDEN,
    ];
    for ((method, path, body), want) in requests.iter().cloned().zip(expected) {
        let (status, problem) = call(&app, method.clone(), path, &bob, body).await;
        assert_eq!(status, want, "viewer: {method} {path}: {problem}");
    }
    let (_, team) = call(&app, Method::GET, "/v1/teams/acme", &alice, None).await;
    assert_eq!(team["name"], "Team acme", "nothing changed");

    let (status, seen) = call(&app, Method::GET, "/v1/teams/acme", &root, None).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert!(seen.get("user_role").is_none(), "not a member: {seen}");
    let (status, _) = call(&app, Method::PATCH, "/v1/teams/acme", &root, patch).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&app, Method::DELETE, "/v1/teams/acme", &root, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn only_owners_grant_ownership_and_a_team_keeps_an_owner() {
    let app = spawn(&[]).await;
    let alice = user(&app, "alice@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let carol = user(&app, "carol@example.com").await;
    create_team(&app, &alice, "acme").await;
    join(&app, &alice, "acme", &bob, "bob@example.com", "admin").await;
    join(&app, &alice, "acme", &carol, "carol@example.com", "member").await;
    let member = |u: &User| format!("/v1/teams/acme/members/{}", u.id);
    let role = |r: &str| Some(json!({ "role": r }));

    // An admin manages members, but not ownership.
    let (status, _) = call(&app, Method::PATCH, &member(&carol), &bob, role("viewer")).await;
    assert_eq!(status, StatusCode::OK);
    for (target, body) in [(&carol, role("owner")), (&alice, role("member"))] {
        let (status, _) = call(&app, Method::PATCH, &member(target), &bob, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = call(&app, Method::DELETE, &member(&alice), &bob, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins cannot remove owners");
    let (status, _) = call(&app, Method::PATCH, &member(&bob), &carol, role("viewer")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers manage nothing");

    // The last owner can neither step down nor leave.
    let (status, problem) = call(&app, Method::PATCH, &member(&alice), &alice, role("admin")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["error"].as_str().unwrap().contains("last owner"),
        "{problem}"
    );
    let (status, _) = call(&app, Method::DELETE, &member(&alice), &alice, None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // With a second owner, she can.
    let (status, _) = call(&app, Method::PATCH, &member(&carol), &alice, role("owner")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&app, Method::PATCH, &member(&alice), &alice, role("admin")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        roles(&app, &carol, "acme").await,
        [
            ("alice@example.com".to_owned(), "admin".to_owned()),
            ("bob@example.com".to_owned(), "admin".to_owned()),
            ("carol@example.com".to_owned(), "owner".to_owned()),
        ]
    );

    // Anyone may leave; owners remove admins; unknown and malformed ids are refused.
    let (status, body) = call(&app, Method::DELETE, &member(&bob), &bob, None).await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::OK, &json!("Member removed"))
    );
    let (status, _) = call(&app, Method::DELETE, &member(&alice), &carol, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&app, Method::PATCH, &member(&bob), &carol, role("member")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &app,
        Method::PATCH,
        "/v1/teams/acme/members/nope",
        &carol,
        role("member"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&app, Method::GET, "/v1/teams/acme", &bob, None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a former member no longer sees the team"
    );
    let actions = audit_actions(&app).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "team.member.update")
            .count(),
        3
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "team.member.remove")
            .count(),
        2
    );
}

#[tokio::test]
async fn team_membership_is_what_grants_access_to_the_teams_projects() {
    let app = spawn(&[]).await;
    let alice = user(&app, "alice@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let team = create_team(&app, &alice, "acme").await;
    // The projects routes are written elsewhere; the project row is inserted directly and the
    // policy's input (`repo::access::grants`) is read back.
    let project = ProjectId::new();
    let team_id: TeamId = team["id"].as_str().unwrap().parse().unwrap();
    sqlx::query("insert into projects (id, name, slug, team_id) values ($1, 'Shop', 'shop', $2)")
        .bind(project.as_uuid())
        .bind(team_id.as_uuid())
        .execute(&app.db.pool)
        .await
        .unwrap();
    let bob_id: UserId = bob.id.parse().unwrap();
    let grants = || async {
        let mut conn = app.db.pool.acquire().await.unwrap();
        switchyard_db::repo::access::grants(&mut conn, bob_id, project)
            .await
            .unwrap()
            .into_iter()
            .map(|g| (g.role, g.team))
            .collect::<Vec<_>>()
    };
    assert_eq!(grants().await, [], "not a member yet");
    join(&app, &alice, "acme", &bob, "bob@example.com", "member").await;
    assert_eq!(grants().await, [("member".to_owned(), true)]);
    let path = format!("/v1/teams/acme/members/{}", bob.id);
    let (status, _) = call(
        &app,
        Method::PATCH,
        &path,
        &alice,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(grants().await, [("admin".to_owned(), true)]);
    let (status, _) = call(&app, Method::DELETE, &path, &alice, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(grants().await, [], "removal takes the access away");

    let (status, _) = call(&app, Method::DELETE, "/v1/teams/acme", &alice, None).await;
    assert_eq!(status, StatusCode::OK);
    let orphaned: bool = sqlx::query_scalar("select team_id is null from projects where id = $1")
        .bind(project.as_uuid())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(orphaned, "the project outlives its team");
}

#[tokio::test]
async fn a_stale_if_match_does_not_change_a_team() {
    let app = spawn(&[]).await;
    let owner = user(&app, "etag-owner@example.com").await;
    create_team(&app, &owner, "etag-team").await;
    let read = app
        .client
        .get(app.url("/v1/teams/etag-team"))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    let tag = read.headers()["etag"].to_str().unwrap().to_owned();
    let patch = |tag: String, name: &'static str| {
        app.client
            .patch(app.url("/v1/teams/etag-team"))
            .bearer_auth(&owner.token)
            .header("if-match", tag)
            .json(&serde_json::json!({"name": name}))
            .send()
    };
    let first = patch(tag.clone(), "First").await.unwrap();
    assert_eq!(first.status(), reqwest::StatusCode::OK);
    assert_ne!(first.headers()["etag"].to_str().unwrap(), tag);
    let stale = patch(tag, "Second").await.unwrap();
    assert_eq!(stale.status(), reqwest::StatusCode::PRECONDITION_FAILED);
    let (_, team) = call(
        &app,
        reqwest::Method::GET,
        "/v1/teams/etag-team",
        &owner,
        None,
    )
    .await;
    assert_eq!(team["name"], "First");
}
