//! The refusals of the env var routes: every validation rule a 400 naming its field (nothing
//! stored), a variable reachable only under its own service (no IDOR), 404 for non-members and
//! 403 below developer, and 503 naming the key's variable when no key is configured.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::{
    env_var_support::{Shop, id},
    support::{grant, register},
};

/// A call by the owner that must be a 400 naming `field`.
pub(crate) async fn assert_field(
    shop: &Shop,
    method: Method,
    path: &str,
    body: Value,
    field: &str,
) {
    let sent = body.to_string();
    let (status, answer) = shop.call(method, path, None, Some(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{sent}: {answer}");
    assert_eq!(answer["errors"][0]["field"], field, "{sent}: {answer}");
}

#[tokio::test]
async fn every_rule_is_a_400_naming_its_field() {
    let shop = Shop::spawn().await;
    shop.created("/v1/projects", json!({"name": "Other", "slug": "other"}))
        .await;
    let foreign = shop
        .created("/v1/projects/other/environments", json!({"name": "prod"}))
        .await;
    let foreign = id(&foreign);
    let huge = "x".repeat(64 * 1024 + 1);
    let create_cases = [
        (json!({"value": "v"}), "key"),
        (json!({"key": "1ABC", "value": "v"}), "key"),
        (json!({"key": "A-B", "value": "v"}), "key"),
        (json!({"key": "K".repeat(256), "value": "v"}), "key"),
        (json!({"key": "A"}), "value"),
        (json!({"key": "A", "value": ""}), "value"),
        (json!({"key": "A", "value": huge}), "value"),
        (
            json!({"key": "A", "value": "v", "is_secret": "yes"}),
            "is_secret",
        ),
        (
            json!({"key": "A", "value": "v", "environment_id": "nope"}),
            "environment_id",
        ),
        (
            json!({"key": "A", "value": "v", "environment_id": foreign}),
            "environment_id",
        ),
    ];
    for (body, field) in create_cases {
        assert_field(&shop, Method::POST, &shop.vars(""), body, field).await;
    }
    let item = |key: &str, value: &str| json!({"key": key, "value": value});
    let many: Vec<Value> = (0..101).map(|i| item(&format!("K{i}"), "v")).collect();
    let bulk_cases = [
        (json!({"variables": []}), "variables"),
        (json!({ "variables": many }), "variables"),
        (
            json!({"variables": [item("A", "1"), item("A", "2")]}),
            "variables[1].key",
        ),
        (
            json!({"variables": [item("A", "1"), item("B", "")]}),
            "variables[1].value",
        ),
        (
            json!({"environment_id": foreign, "variables": [item("A", "1")]}),
            "environment_id",
        ),
    ];
    for (body, field) in bulk_cases {
        assert_field(&shop, Method::POST, &shop.vars("/bulk"), body, field).await;
    }
    let all = shop
        .expect(Method::GET, &shop.vars(""), None, StatusCode::OK)
        .await;
    assert_eq!(
        all["environment_variables"],
        json!([]),
        "nothing refused was stored"
    );

    let var = shop
        .create(json!({"key": "A", "value": "v", "is_secret": true}))
        .await;
    let path = shop.vars(&format!("/{}", id(&var)));
    let put_cases = [
        (json!({}), "body"),
        (json!({"key": "bad key"}), "key"),
        (json!({"value": ""}), "value"),
    ];
    for (body, field) in put_cases {
        assert_field(&shop, Method::PUT, &path, body, field).await;
    }
    let long = json!({"reason": "r".repeat(501)});
    assert_field(
        &shop,
        Method::POST,
        &format!("{path}/reveal"),
        long,
        "reason",
    )
    .await;
    let (status, body) = shop
        .call(Method::GET, &shop.vars("?environment_id=nope"), None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "environment_id");
    // A reveal needs no body at all.
    let reveal = shop
        .app
        .client
        .post(shop.app.url(&format!("{path}/reveal")));
    let response = reveal.bearer_auth(&shop.owner).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// A variable of service `worker` asked for under service `api` is 404 on every child route and
/// stays as it was; non-members get 404 naming the service, viewers 403 for changes and reveals.
#[tokio::test]
async fn a_variable_is_only_reachable_under_its_own_service() {
    let shop = Shop::spawn().await;
    let secret = json!({"key": "TOKEN", "value": "w-1", "is_secret": true});
    let var = shop.create_in(&shop.worker, secret).await;
    let wrong = shop.vars(&format!("/{}", id(&var)));
    let attempts = [
        (Method::GET, wrong.clone(), None),
        (Method::PUT, wrong.clone(), Some(json!({"value": "stolen"}))),
        (Method::POST, format!("{wrong}/reveal"), None),
        (Method::DELETE, wrong.clone(), None),
    ];
    for (method, path, body) in &attempts {
        let (status, answer) = shop.call(method.clone(), path, None, body.as_ref()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        assert!(!answer.to_string().contains("w-1"));
    }
    assert_eq!(shop.reveal(&var).await["value"], "w-1", "unchanged");

    let stranger = register(&shop.app, "stranger@example.com").await;
    let viewer = register(&shop.app, "viewer@example.com").await;
    grant(&shop.app, "viewer@example.com", "shop", "viewer").await;
    let right = Shop::vars_of(&shop.worker, &format!("/{}", id(&var)));
    let attempts = vec![
        (Method::GET, right.clone(), None),
        (Method::GET, Shop::vars_of(&shop.worker, ""), None),
        (Method::PUT, right.clone(), Some(json!({"value": "stolen"}))),
        (Method::POST, format!("{right}/reveal"), None),
        (Method::DELETE, right.clone(), None),
    ];
    for answer in shop.members_only(&stranger, &viewer, attempts).await {
        assert!(!answer.to_string().contains("w-1"), "{answer}");
    }
}

#[tokio::test]
async fn without_a_key_every_route_answers_503_naming_it() {
    let shop = Shop::on(TestApp::builder().envvar_key(None).spawn().await).await;
    let var = shop.vars(&format!("/{}", uuid::Uuid::now_v7()));
    let item = json!({"key": "A", "value": "v"});
    let calls = [
        (Method::GET, shop.vars(""), None),
        (Method::POST, shop.vars(""), Some(item.clone())),
        (
            Method::POST,
            shop.vars("/bulk"),
            Some(json!({ "variables": [item] })),
        ),
        (Method::GET, var.clone(), None),
        (Method::PUT, var.clone(), Some(json!({"value": "v"}))),
        (Method::DELETE, var.clone(), None),
        (Method::POST, format!("{var}/reveal"), None),
    ];
    for (method, path, body) in calls {
        let (status, answer) = shop.call(method.clone(), &path, None, body.as_ref()).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {answer}"
        );
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains("ENCLII_ENVVAR_ENCRYPTION_KEY"), "{answer}");
    }
}
