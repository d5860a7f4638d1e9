//! Environment variables over HTTP: the CLI's `secrets` sequence, masking, `ETag`/`If-Match`,
//! duplicates, and the set in effect in an environment (its own variables beat global ones).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::{
    env_var_support::{MASK, Shop, expected, id, pairs},
    support::{call, expect, get_ok, register},
};

/// What `enclii secrets set` and `enclii secrets list` do, in order, as the CLI does it.
#[tokio::test]
async fn the_clis_secrets_sequence_works_end_to_end() {
    let app = TestApp::spawn().await;
    let token = register(&app, "cli@example.com").await;
    let post = |path: &'static str, body: Value, status: StatusCode| {
        let (app, token) = (&app, &token);
        async move { expect(app, Method::POST, path, token, Some(body), status).await }
    };
    let (status, _) = call(&app, Method::GET, "/v1/projects/shop", Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "missing at first");
    let project = json!({"name": "Shop", "slug": "shop"});
    post("/v1/projects", project, StatusCode::CREATED).await;
    let envs = "/v1/projects/shop/environments";
    post(envs, json!({"name": "production"}), StatusCode::CREATED).await;
    // The CLI treats this 409 as success.
    post(envs, json!({"name": "production"}), StatusCode::CONFLICT).await;
    let service = json!({"name": "api", "git_repo": "https://github.com/acme/shop"});
    post("/v1/projects/shop/services", service, StatusCode::CREATED).await;
    let services = get_ok(&app, "/v1/projects/shop/services", &token).await;
    let services = services["services"].as_array().unwrap();
    let service = id(services.iter().find(|s| s["name"] == "api").unwrap()).to_owned();
    let production = id(&get_ok(&app, envs, &token).await["environments"][0]).to_owned();

    let bulk = json!({"environment_id": production, "variables": [
        {"key": "DATABASE_URL", "value": "postgres://app:s3cret@db/app", "is_secret": true},
        {"key": "LOG_LEVEL", "value": "debug", "is_secret": false},
    ]});
    let path = Shop::vars_of(&service, "/bulk");
    let saved = expect(
        &app,
        Method::POST,
        &path,
        &token,
        Some(bulk),
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["count"], 2);
    assert!(saved["message"].is_string());
    assert_eq!(
        pairs(&saved),
        expected(&[("DATABASE_URL", MASK), ("LOG_LEVEL", "debug")])
    );

    let path = Shop::vars_of(&service, &format!("?environment_id={production}"));
    let list = get_ok(&app, &path, &token).await;
    assert_eq!(pairs(&list), pairs(&saved));
    let listed = list["environment_variables"].as_array().unwrap();
    let secret = listed.iter().find(|v| v["key"] == "DATABASE_URL").unwrap();
    assert_eq!(secret["environment_id"], production.as_str());
    assert_eq!(secret["service_id"], service.as_str());
    let path = Shop::vars_of(&service, &format!("/{}/reveal", id(secret)));
    let revealed = expect(&app, Method::POST, &path, &token, None, StatusCode::OK).await;
    assert_eq!(revealed["value"], "postgres://app:s3cret@db/app");
    assert_eq!(revealed["is_secret"], true);
}

#[tokio::test]
async fn crud_with_etags_and_masking() {
    let shop = Shop::spawn().await;
    let var = shop
        .create(json!({"key": "API_KEY", "value": "k-1", "is_secret": true}))
        .await;
    assert_eq!(var["value"], MASK, "the create answer masks a secret too");
    assert!(
        var.get("environment_id").is_none(),
        "global: no environment_id"
    );
    let path = shop.vars(&format!("/{}", id(&var)));
    let app = &shop.app;

    let response = app.client.get(app.url(&path)).bearer_auth(&shop.owner);
    let response = response.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(response.json::<Value>().await.unwrap()["value"], MASK);

    let put = |if_match: &str, body: Value| {
        let request = app.client.put(app.url(&path)).bearer_auth(&shop.owner);
        let request = request.header("if-match", if_match).json(&body);
        async move { request.send().await.unwrap() }
    };
    let response = put(&tag, json!({"value": "k-2", "key": "API_TOKEN"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let new_tag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_tag, tag);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(
        pairs(&json!({"environment_variables": [updated]})),
        expected(&[("API_TOKEN", MASK)])
    );
    let response = put(&tag, json!({"value": "k-3"})).await;
    assert_eq!(
        response.status(),
        StatusCode::PRECONDITION_FAILED,
        "stale If-Match"
    );
    assert_eq!(shop.reveal(&var).await["value"], "k-2");
    let response = put(&new_tag, json!({"is_secret": false})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let plain: Value = response.json().await.unwrap();
    assert_eq!(plain["value"], "k-2", "no longer a secret: shown");

    let other = shop.create(json!({"key": "OTHER", "value": "x"})).await;
    let (status, body) = shop
        .call(Method::PUT, &path, None, Some(&json!({"key": "OTHER"})))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "renamed onto a taken key: {body}"
    );
    let again = json!({"key": "OTHER", "value": "y"});
    let (status, body) = shop
        .call(Method::POST, &shop.vars(""), None, Some(&again))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a duplicate key: {body}");
    shop.create(json!({"key": "OTHER", "value": "y", "environment_id": shop.staging}))
        .await;

    let deleted = shop
        .expect(Method::DELETE, &path, None, StatusCode::OK)
        .await;
    assert_eq!(deleted["message"], "Environment variable deleted");
    shop.expect(Method::GET, &path, None, StatusCode::NOT_FOUND)
        .await;
    let all = shop
        .expect(Method::GET, &shop.vars(""), None, StatusCode::OK)
        .await;
    assert_eq!(all["environment_variables"].as_array().unwrap().len(), 2);
    assert_eq!(all["environment_variables"][0]["id"], other["id"]);
}

#[tokio::test]
async fn an_environment_beats_the_global_value_of_a_key() {
    let shop = Shop::spawn().await;
    shop.create(json!({"key": "REGION", "value": "eu"})).await;
    shop.create(json!({"key": "WORKERS", "value": "2"})).await;
    shop.create(json!({"key": "REGION", "value": "us", "environment_id": shop.staging}))
        .await;
    let debug =
        json!({"environment_id": shop.production, "variables": [{"key": "DEBUG", "value": "0"}]});
    let before = shop.bulk(debug).await["environment_variables"][0].clone();

    let staging = shop.effective(&shop.staging).await;
    assert_eq!(staging, expected(&[("REGION", "us"), ("WORKERS", "2")]));
    let production = shop.effective(&shop.production).await;
    let all = expected(&[("DEBUG", "0"), ("REGION", "eu"), ("WORKERS", "2")]);
    assert_eq!(production, all);
    let everything = shop.get(&shop.vars("")).await;
    assert_eq!(
        everything["environment_variables"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let page = shop.get(&shop.vars("?limit=3")).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = shop
        .get(&shop.vars(&format!("?limit=3&cursor={cursor}")))
        .await;
    assert_eq!(rest["environment_variables"].as_array().unwrap().len(), 1);
    assert!(rest.get("next_cursor").is_none());

    // Bulk again replaces by key, in place: the same id, the new value and secrecy.
    let debug = json!({"environment_id": shop.production,
                       "variables": [{"key": "DEBUG", "value": "1", "is_secret": true}]});
    let saved = shop.bulk(debug).await;
    assert_eq!(saved["environment_variables"][0]["id"], before["id"]);
    assert_eq!(saved["environment_variables"][0]["value"], MASK);
    assert_eq!(shop.reveal(&before).await["value"], "1");
}
