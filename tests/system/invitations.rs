//! Invitations over HTTP: the token is shown once and works once, for the invitee only; decline,
//! revoke and expiry close an invitation; no audit row ever holds a token.

#![expect(
    clippy::disallowed_methods,
    reason = "tests read the audit log and move an invitation's expiry directly"
)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use switchyard_testkit::TestApp;

use crate::team_support::{
    User, accept, audit_actions, call, create_team, invite, roles, spawn, user,
};

async fn decline(app: &TestApp, who: &User, token: &str) -> (StatusCode, Value) {
    let path = format!("/v1/invitations/{token}/decline");
    call(app, Method::POST, &path, who, None).await
}

/// The invitations of `slug`, newest first, as its manager `by` lists them.
async fn team_invitations(app: &TestApp, by: &User, slug: &str) -> Vec<Value> {
    let path = format!("/v1/teams/{slug}/invitations");
    let (status, body) = call(app, Method::GET, &path, by, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["invitations"].as_array().unwrap().clone()
}

/// The path that revokes the newest invitation of `slug`.
async fn newest_invitation(app: &TestApp, by: &User, slug: &str) -> String {
    let id = team_invitations(app, by, slug).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    format!("/v1/teams/{slug}/invitations/{id}")
}

#[tokio::test]
async fn the_invitee_sees_and_accepts_an_invitation_once() {
    let app = spawn(&[]).await;
    let alice = user(&app, "alice@example.com").await;
    let bob = user(&app, "Bob@Example.com").await;
    let mallory = user(&app, "mallory@example.com").await;
    create_team(&app, &alice, "acme").await;

    let (status, created) = call(
        &app,
        Method::POST,
        "/v1/teams/acme/invitations",
        &alice,
        Some(json!({"email": "bob@example.com", "role": "member"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("encinv_") && token.len() == 71, "{token}");
    assert_eq!(created["status"], "pending");
    assert_eq!(created["role"], "member");
    assert_eq!(created["inviter_id"], alice.id.as_str());
    assert!(created["expires_at"].as_str().unwrap().ends_with('Z'));
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/teams/acme/invitations",
        &alice,
        Some(json!({"email": "BOB@example.com", "role": "viewer"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "one pending invitation per e-mail"
    );

    // The invitee (e-mail compared case-insensitively) lists and views it.
    let (_, mine) = call(&app, Method::GET, "/v1/invitations", &bob, None).await;
    assert_eq!(mine["invitations"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["invitations"][0]["team_slug"], "acme");
    assert_eq!(mine["invitations"][0]["inviter_name"], "alice@example.com");
    assert!(
        !mine.to_string().contains(&token),
        "lists never hold the token"
    );
    let view = format!("/v1/invitations/{token}");
    let (status, details) = call(&app, Method::GET, &view, &bob, None).await;
    assert_eq!(status, StatusCode::OK, "{details}");
    assert_eq!(details["team_name"], "Team acme");
    let (_, theirs) = call(&app, Method::GET, "/v1/invitations", &mallory, None).await;
    assert_eq!(theirs["invitations"], json!([]));

    // Someone else holding the token can neither read nor use it.
    let (status, _) = call(&app, Method::GET, &view, &mallory, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = accept(&app, &mallory, &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, joined) = accept(&app, &bob, &token).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(
        joined,
        json!({"message": "Invitation accepted", "team_slug": "acme", "team_name": "Team acme"})
    );
    assert_eq!(
        roles(&app, &alice, "acme").await,
        [
            ("alice@example.com".to_owned(), "owner".to_owned()),
            ("Bob@Example.com".to_owned(), "member".to_owned()),
        ]
    );
    let (_, team) = call(&app, Method::GET, "/v1/teams/acme", &bob, None).await;
    assert_eq!(
        (&team["user_role"], &team["member_count"]),
        (&json!("member"), &json!(2))
    );

    // Once only.
    let (status, problem) = accept(&app, &bob, &token).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(decline(&app, &bob, &token).await.0, StatusCode::CONFLICT);
    let listed = team_invitations(&app, &alice, "acme").await;
    assert_eq!(listed[0]["status"], "accepted", "{listed:?}");
    assert!(listed[0].get("token").is_none());
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/teams/acme/invitations",
        &alice,
        Some(json!({"email": "bob@example.com", "role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "already a member");
    let unknown = format!("/v1/invitations/encinv_{}/accept", "0".repeat(64));
    for path in [unknown.as_str(), "/v1/invitations/garbage/accept"] {
        let (status, _) = call(&app, Method::POST, path, &bob, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn declined_and_revoked_invitations_cannot_be_accepted() {
    let app = spawn(&[]).await;
    let alice = user(&app, "alice@example.com").await;
    let carol = user(&app, "carol@example.com").await;
    let dave = user(&app, "dave@example.com").await;
    create_team(&app, &alice, "acme").await;

    let declined = invite(&app, &alice, "acme", "carol@example.com", "viewer").await;
    let (status, body) = decline(&app, &carol, &declined).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"message": "Invitation declined"}))
    );
    let (status, _) = accept(&app, &carol, &declined).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let revoked = invite(&app, &alice, "acme", "dave@example.com", "admin").await;
    let revoke = newest_invitation(&app, &alice, "acme").await;
    let (status, _) = call(&app, Method::DELETE, &revoke, &dave, None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the invitee is not a member yet"
    );
    let (status, body) = call(&app, Method::DELETE, &revoke, &alice, None).await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::OK, &json!("Invitation revoked"))
    );
    let (status, _) = call(&app, Method::DELETE, &revoke, &alice, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "already revoked");
    let (status, problem) = accept(&app, &dave, &revoked).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (_, mine) = call(&app, Method::GET, "/v1/invitations", &dave, None).await;
    assert_eq!(mine["invitations"], json!([]));

    let listed = team_invitations(&app, &alice, "acme").await;
    let statuses: Vec<&str> = listed
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["revoked", "declined"]);
    assert_eq!(roles(&app, &alice, "acme").await.len(), 1, "nobody joined");
}

#[tokio::test]
async fn an_expired_invitation_is_refused_listed_as_expired_and_can_be_renewed() {
    let app = spawn(&[]).await;
    let alice = user(&app, "alice@example.com").await;
    let erin = user(&app, "erin@example.com").await;
    create_team(&app, &alice, "acme").await;
    let token = invite(&app, &alice, "acme", "erin@example.com", "member").await;
    sqlx::query("update team_invitations set expires_at = now() - interval '1 minute'")
        .execute(&app.db.pool)
        .await
        .unwrap();

    let (status, problem) = accept(&app, &erin, &token).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["error"].as_str().unwrap().contains("expired"),
        "{problem}"
    );
    let (_, details) = call(
        &app,
        Method::GET,
        &format!("/v1/invitations/{token}"),
        &erin,
        None,
    )
    .await;
    assert_eq!(details["status"], "expired");
    let (_, mine) = call(&app, Method::GET, "/v1/invitations", &erin, None).await;
    assert_eq!(mine["invitations"], json!([]));
    let listed = team_invitations(&app, &alice, "acme").await;
    assert_eq!(listed[0]["status"], "expired");

    // A new invitation replaces the expired one.
    let renewed = invite(&app, &alice, "acme", "erin@example.com", "member").await;
    let (status, _) = accept(&app, &erin, &renewed).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = accept(&app, &erin, &token).await;
    assert_eq!(status, StatusCode::CONFLICT, "the old token stays dead");
}

#[tokio::test]
async fn no_audit_row_holds_an_invitation_token() {
    let app = spawn(&[]).await;
    let alice = user(&app, "alice@example.com").await;
    let bob = user(&app, "bob@example.com").await;
    let carol = user(&app, "carol@example.com").await;
    create_team(&app, &alice, "acme").await;
    let accepted = invite(&app, &alice, "acme", "bob@example.com", "member").await;
    assert_eq!(accept(&app, &bob, &accepted).await.0, StatusCode::OK);
    let declined = invite(&app, &alice, "acme", "carol@example.com", "viewer").await;
    assert_eq!(decline(&app, &carol, &declined).await.0, StatusCode::OK);
    let revoked = invite(&app, &alice, "acme", "dave@example.com", "viewer").await;
    let path = newest_invitation(&app, &alice, "acme").await;
    assert_eq!(
        call(&app, Method::DELETE, &path, &alice, None).await.0,
        StatusCode::OK
    );

    assert_eq!(
        audit_actions(&app).await,
        [
            "team.create",
            "team.invitation.create",
            "team.invitation.accept",
            "team.invitation.create",
            "team.invitation.decline",
            "team.invitation.create",
            "team.invitation.revoke",
        ]
    );
    let rows: Vec<Value> = sqlx::query_scalar("select to_jsonb(a) from audit_log a")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    let text = serde_json::to_string(&rows).unwrap();
    for token in [&accepted, &declined, &revoked] {
        let hash = switchyard_auth::api_token::hash(token);
        assert!(
            !text.contains(token.as_str()),
            "a token reached the audit log"
        );
        assert!(!text.contains(&hash), "a token hash reached the audit log");
    }
}
