//! `GET /v1/deployments/:id/logs` against the fake cluster: the original body from the
//! deployment's own pods in its stored environment's namespace, `lines`/`follow`/`timestamps`
//! validated (every rule), `follow=true` as server-sent events that carry lines written after
//! connecting and end with the pods, and 503 naming `ENCLII_KUBE_CONFIG` without a cluster.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_kube_fake::LOG_TIMESTAMP;
use switchyard_testkit::TestApp;

use crate::{
    builds::service,
    deployments::{ready_release, shipped},
    logs_support::{EventStream, NS, logs_app, pod, ws},
    support::{call, expect, get_ok, register},
};

#[tokio::test]
async fn logs_are_the_original_body_from_the_deployments_own_pods() {
    let t = logs_app().await;
    pod(&t.fake, NS, "api-a", &t.deployment, "a1\na2\na3\n");
    pod(&t.fake, NS, "api-b", &t.deployment, "b1\n");
    pod(&t.fake, NS, "api-old", "an-earlier-deployment", "old\n");
    let path = format!("/v1/deployments/{}/logs", t.deployment);
    let body = get_ok(&t.app, &format!("{path}?lines=2"), &t.owner).await;
    assert_eq!(
        body,
        json!({"deployment_id": t.deployment, "service_name": "api", "lines": 2,
               "logs": "[api-a] a2\n[api-a] a3\n[api-b] b1\n"})
    );
    let body = get_ok(&t.app, &path, &t.owner).await;
    assert_eq!(body["lines"], 100, "the default");
    let body = get_ok(&t.app, &format!("{path}?timestamps=true&lines=1"), &t.owner).await;
    assert_eq!(
        body["logs"],
        format!("[api-a] {LOG_TIMESTAMP} a3\n[api-b] {LOG_TIMESTAMP} b1\n")
    );
}

#[tokio::test]
async fn the_namespace_is_the_stored_environments() {
    let t = logs_app().await;
    expect(
        &t.app,
        Method::POST,
        "/v1/projects/shop/environments",
        &t.owner,
        Some(json!({"name": "qa", "kube_namespace": "acme-qa"})),
        StatusCode::CREATED,
    )
    .await;
    let release = ready_release(&t.app, &t.owner, &t.service, "2222222b").await;
    let qa = expect(
        &t.app,
        Method::POST,
        &format!("/v1/services/{}/deploy", t.service),
        &t.owner,
        Some(json!({"release_id": release, "environment_name": "qa"})),
        StatusCode::CREATED,
    )
    .await;
    let qa = qa["id"].as_str().unwrap();
    pod(&t.fake, "acme-qa", "api-qa", qa, "from qa\n");
    pod(&t.fake, NS, "api-prod", qa, "wrong namespace\n");
    let body = get_ok(&t.app, &format!("/v1/deployments/{qa}/logs"), &t.owner).await;
    assert_eq!(body["logs"], "from qa\n");
    let mut socket = ws(
        &t.app,
        &format!(
            "/v1/services/{}/logs/stream?env=qa&token={}",
            t.service, t.owner
        ),
        &[],
    )
    .await
    .unwrap();
    let first = crate::logs_support::message(&mut socket).await.unwrap();
    assert!(
        first["message"].as_str().unwrap().contains("(api-qa)"),
        "{first}"
    );
}

#[tokio::test]
async fn lines_and_flags_are_validated_and_name_the_parameter() {
    let t = logs_app().await;
    let path = format!("/v1/deployments/{}/logs", t.deployment);
    let cases = [
        ("lines=0", "lines"),
        ("lines=10001", "lines"),
        ("lines=-1", "lines"),
        ("lines=abc", "lines"),
        ("lines=1.5", "lines"),
        ("lines=", "lines"),
        ("follow=yes", "follow"),
        ("timestamps=maybe", "timestamps"),
    ];
    for (query, field) in cases {
        let (status, body) = call(
            &t.app,
            Method::GET,
            &format!("{path}?{query}"),
            Some(&t.owner),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    for query in ["lines=1", "lines=10000", "follow=false&timestamps=0"] {
        get_ok(&t.app, &format!("{path}?{query}"), &t.owner).await;
    }
    let refused = ws(
        &t.app,
        &format!("/v1/deployments/{}/logs/stream?lines=20000", t.deployment),
        &[("authorization", &format!("Bearer {}", t.owner))],
    )
    .await
    .err()
    .unwrap();
    assert_eq!(
        (refused.0, &refused.1["errors"][0]["field"]),
        (400, &json!("lines"))
    );
}

#[tokio::test]
async fn follow_sends_lines_written_after_connecting_until_the_pods_end() {
    let t = logs_app().await;
    pod(&t.fake, NS, "api-a", &t.deployment, "a1\na2\n");
    let response = t
        .app
        .client
        .get(t.app.url(&format!(
            "/v1/deployments/{}/logs?follow=true&lines=1",
            t.deployment
        )))
        .bearer_auth(&t.owner)
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "CORS decides, and this origin is not allowed"
    );
    let mut events = EventStream::new(response);
    assert_eq!(events.next().await, Some(message("a2")));
    t.fake.append_logs(NS, "api-a", "written later\n");
    assert_eq!(events.next().await, Some(message("written later")));
    assert!(t.fake.delete("Pod", NS, "api-a"));
    let (name, _) = events.next().await.unwrap();
    assert_eq!(name, "end");
    assert_eq!(events.next().await, None);
}

fn message(data: &str) -> (String, String) {
    ("message".to_owned(), data.to_owned())
}

#[tokio::test]
async fn without_a_cluster_reads_are_503_naming_the_setting_after_authorization() {
    let app = TestApp::spawn().await;
    let (owner, service) = service(&app).await;
    let (_, deployment) = shipped(&app, &owner, &service, "3333333c").await;
    let other = register(&app, "other@example.com").await;
    for path in [
        format!("/v1/deployments/{deployment}/logs"),
        format!("/v1/deployments/{deployment}/logs?follow=true"),
    ] {
        let (status, body) = call(&app, Method::GET, &path, Some(&owner), None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        names_the_setting(&body);
        let (status, _) = call(&app, Method::GET, &path, Some(&other), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: another tenant");
    }
    for path in [
        format!("/v1/deployments/{deployment}/logs/stream"),
        format!("/v1/services/{service}/logs/stream?env=production"),
    ] {
        let owner_header = format!("Bearer {owner}");
        let (status, body) = ws(&app, &path, &[("authorization", &owner_header)])
            .await
            .err()
            .unwrap();
        assert_eq!(status, 503, "{path}: {body}");
        names_the_setting(&body);
        let other_header = format!("Bearer {other}");
        let (status, _) = ws(&app, &path, &[("authorization", &other_header)])
            .await
            .err()
            .unwrap();
        assert_eq!(status, 404, "{path}: another tenant");
    }
}

fn names_the_setting(body: &Value) {
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("ENCLII_KUBE_CONFIG"), "{body}");
}
