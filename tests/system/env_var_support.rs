//! The env var tests' fixture: project `shop` with environments `staging` and `production` and
//! services `api` and `worker`, owned by one signed-in user, and short forms of their calls.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::support::{call, expect, register};

/// A secret's value outside a reveal.
pub(crate) const MASK: &str = "••••••••";

pub(crate) struct Shop {
    pub(crate) app: TestApp,
    pub(crate) owner: String,
    pub(crate) api: String,
    pub(crate) worker: String,
    pub(crate) staging: String,
    pub(crate) production: String,
}

/// The `id` of a created resource.
pub(crate) fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

/// `(key, value)` of every variable of a list, sorted.
pub(crate) fn pairs(list: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = list["environment_variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let text = |f: &str| v[f].as_str().unwrap().to_owned();
            (text("key"), text("value"))
        })
        .collect();
    pairs.sort();
    pairs
}

/// `[(key, value)]` from string pairs, to compare with [`pairs`].
pub(crate) fn expected(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Shop {
    /// The fixture on a default `TestApp`.
    pub(crate) async fn spawn() -> Self {
        Self::on(TestApp::spawn().await).await
    }

    /// The fixture on `app`.
    pub(crate) async fn on(app: TestApp) -> Self {
        let owner = register(&app, "owner@example.com").await;
        let mut shop = Self {
            app,
            owner,
            api: String::new(),
            worker: String::new(),
            staging: String::new(),
            production: String::new(),
        };
        shop.created("/v1/projects", json!({"name": "Shop", "slug": "shop"}))
            .await;
        let env = |name: &str| json!({ "name": name });
        let envs = "/v1/projects/shop/environments";
        shop.staging = id(&shop.created(envs, env("staging")).await).to_owned();
        shop.production = id(&shop.created(envs, env("production")).await).to_owned();
        let service =
            |name: &str| json!({"name": name, "git_repo": "https://github.com/acme/shop"});
        let services = "/v1/projects/shop/services";
        shop.api = id(&shop.created(services, service("api")).await).to_owned();
        shop.worker = id(&shop.created(services, service("worker")).await).to_owned();
        shop
    }

    /// A POST by the owner that must answer 201.
    pub(crate) async fn created(&self, path: &str, body: Value) -> Value {
        self.expect(Method::POST, path, Some(body), StatusCode::CREATED)
            .await
    }

    /// A call by the owner that must answer `status`.
    pub(crate) async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> Value {
        expect(&self.app, method, path, &self.owner, body, status).await
    }

    /// A GET by the owner that must answer 200.
    pub(crate) async fn get(&self, path: &str) -> Value {
        self.expect(Method::GET, path, None, StatusCode::OK).await
    }

    /// A call by `bearer` (the owner when `None`).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let bearer = bearer.unwrap_or(&self.owner);
        call(&self.app, method, path, Some(bearer), body).await
    }

    /// Makes each attempt as `stranger` (a non-member: 404 naming the service) and as `viewer` (a
    /// project viewer: GETs answer 200, everything else 403); returns every answer.
    pub(crate) async fn members_only(
        &self,
        stranger: &str,
        viewer: &str,
        attempts: Vec<(Method, String, Option<Value>)>,
    ) -> Vec<Value> {
        let mut answers = Vec::new();
        for (method, path, body) in attempts {
            let (status, answer) = self
                .call(method.clone(), &path, Some(stranger), body.as_ref())
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "stranger {method} {path}");
            assert!(
                answer["error"].as_str().unwrap().contains("service"),
                "{answer}"
            );
            answers.push(answer);
            let (status, answer) = self
                .call(method.clone(), &path, Some(viewer), body.as_ref())
                .await;
            let allowed = if method == Method::GET {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, allowed, "viewer {method} {path}: {answer}");
            answers.push(answer);
        }
        answers
    }

    /// The env var path of `service` followed by `rest` (`""`, `"/bulk"`, `"/<var id>"`).
    pub(crate) fn vars_of(service: &str, rest: &str) -> String {
        format!("/v1/services/{service}/env-vars{rest}")
    }

    /// The env var path of the `api` service followed by `rest`.
    pub(crate) fn vars(&self, rest: &str) -> String {
        Self::vars_of(&self.api, rest)
    }

    /// Creates a variable of `api`.
    pub(crate) async fn create(&self, body: Value) -> Value {
        self.created(&self.vars(""), body).await
    }

    /// Creates a variable of `service`.
    pub(crate) async fn create_in(&self, service: &str, body: Value) -> Value {
        self.created(&Self::vars_of(service, ""), body).await
    }

    /// A bulk upsert on `api` that must answer 200.
    pub(crate) async fn bulk(&self, body: Value) -> Value {
        let path = self.vars("/bulk");
        self.expect(Method::POST, &path, Some(body), StatusCode::OK)
            .await
    }

    /// Reveals `var` (under its own service) with a reason.
    pub(crate) async fn reveal(&self, var: &Value) -> Value {
        let service = var["service_id"].as_str().unwrap();
        let path = Self::vars_of(service, &format!("/{}/reveal", id(var)));
        let body = json!({"reason": "checking the value"});
        self.expect(Method::POST, &path, Some(body), StatusCode::OK)
            .await
    }

    /// `(key, value)` of the variables of `api` in effect in `environment`.
    pub(crate) async fn effective(&self, environment: &str) -> Vec<(String, String)> {
        pairs(
            &self
                .get(&self.vars(&format!("?environment_id={environment}")))
                .await,
        )
    }
}
