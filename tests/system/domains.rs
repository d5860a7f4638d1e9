//! Custom domains over HTTP: the original bodies (add with DNS instructions, list, get with an
//! `ETag`, PATCH guarded by `If-Match`, delete), audit rows, platform domains strictly under
//! `ENCLII_PLATFORM_DOMAIN` (503 naming it when unset), names unique across every tenant, and the
//! cross-project list and counts of `/v1/domains`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::{
    dns_support::settings,
    env_var_support::{Shop, id},
    support::{call, expect, get_ok, register},
};

/// The domain path of `service` followed by `rest` (`""`, `"/<id>"`, `"/<id>/verify"`).
pub(crate) fn domains_of(service: &str, rest: &str) -> String {
    format!("/v1/services/{service}/domains{rest}")
}

/// The shop fixture on an app whose platform domain is `enclii.test`.
pub(crate) async fn shop() -> Shop {
    Shop::on(TestApp::builder().domains(settings(None)).spawn().await).await
}

impl Shop {
    /// Adds a domain to `api`; returns the whole 201 body.
    pub(crate) async fn add_domain(&self, body: Value) -> Value {
        self.created(&domains_of(&self.api, ""), body).await
    }
}

/// `field` of each item of a JSON array.
fn field_of_each<'a>(items: &'a Value, field: &str) -> Vec<&'a str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_custom_domain_is_added_listed_changed_and_deleted() {
    let shop = shop().await;
    let added = shop
        .add_domain(json!({"domain": "Shop.Example.com", "environment_id": shop.production}))
        .await;
    let domain = &added["domain"];
    let domain_id = id(domain).to_owned();
    assert_eq!(domain["domain"], "shop.example.com");
    assert_eq!(domain["service_id"], shop.api.as_str());
    assert_eq!(domain["environment_id"], shop.production.as_str());
    assert_eq!(
        (
            &domain["verified"],
            &domain["status"],
            &domain["tls_enabled"]
        ),
        (&json!(false), &json!("pending"), &json!(true))
    );
    assert_eq!(domain["tls_issuer"], "letsencrypt-prod");
    assert_eq!(domain["tls_provider"], "cert-manager");
    assert_eq!(domain["zero_trust_enabled"], false);
    assert_eq!(domain["is_platform_domain"], false);
    assert_eq!(domain["dns_cname"], "tunnel.enclii.test");
    assert!(domain.get("verified_at").is_none());
    assert!(added["message"].as_str().unwrap().contains("TXT"));
    assert_eq!(
        added["dns_instructions"],
        json!({
            "verification": {"type": "TXT", "name": "_enclii-verification.shop.example.com",
                             "value": format!("enclii-verification={domain_id}")},
            "cname": {"type": "CNAME", "name": "shop.example.com", "value": "tunnel.enclii.test"},
        })
    );

    let list = shop.get(&domains_of(&shop.api, "")).await;
    assert_eq!(list["domains"].as_array().unwrap().len(), 1);
    assert_eq!(list["domains"][0]["id"], domain_id.as_str());
    assert_eq!(
        shop.get(&domains_of(&shop.worker, "")).await,
        json!({"domains": []}),
        "another service's list is its own"
    );

    let one = domains_of(&shop.api, &format!("/{domain_id}"));
    let response = shop
        .app
        .client
        .get(shop.app.url(&one))
        .bearer_auth(&shop.owner)
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let viewed: Value = response.json().await.unwrap();
    assert_eq!(viewed["domain"], *domain);

    let patch = |tag: &str| {
        shop.app
            .client
            .patch(shop.app.url(&one))
            .bearer_auth(&shop.owner)
            .header("if-match", tag)
            .json(&json!({"tls_enabled": false}))
            .send()
    };
    let changed = patch(&etag).await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let new_tag = changed.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_tag, etag);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["domain"]["tls_enabled"], false);
    assert!(
        changed["domain"].get("tls_issuer").is_none(),
        "no certificate without TLS"
    );
    assert_eq!(
        patch(&etag).await.unwrap().status(),
        StatusCode::PRECONDITION_FAILED
    );

    let deleted = shop
        .expect(Method::DELETE, &one, None, StatusCode::OK)
        .await;
    assert_eq!(
        deleted,
        json!({"message": "custom domain deleted", "tunnel_route_removed": false})
    );
    shop.expect(Method::GET, &one, None, StatusCode::NOT_FOUND)
        .await;
    let activity = shop.get("/v1/activity?resource_type=domain").await;
    assert_eq!(
        field_of_each(&activity["activities"], "action"),
        ["domain.delete", "domain.update", "domain.create"]
    );
    assert_eq!(
        activity["activities"][2]["resource_name"],
        "shop.example.com"
    );
}

#[tokio::test]
async fn platform_domains_live_strictly_one_label_under_the_platform_domain() {
    let shop = shop().await;
    let platform = |domain: Value| json!({"domain": domain, "environment_id": shop.production, "is_platform_domain": true});
    let named = shop.add_domain(platform(json!(null))).await;
    assert_eq!(named["domain"]["domain"], "api-production.enclii.test");
    assert_eq!(named["domain"]["verified"], true);
    assert_eq!(named["domain"]["status"], "active");
    assert!(named["domain"]["verified_at"].is_string());
    assert!(named.get("dns_instructions").is_none());
    assert!(named["domain"].get("dns_cname").is_none());
    let label = shop.add_domain(platform(json!("Web"))).await;
    assert_eq!(label["domain"]["domain"], "web.enclii.test");
    let full = shop.add_domain(platform(json!("store.enclii.test"))).await;
    assert_eq!(full["domain"]["domain"], "store.enclii.test");

    let refused = [
        platform(json!("evil-enclii.test")),
        platform(json!("enclii.test")),
        platform(json!("a.b.enclii.test")),
        platform(json!("shop.example.com")),
        platform(json!("api")),
        platform(json!("tunnel.enclii.test")),
        json!({"domain": "shop.enclii.test", "environment_id": shop.production}),
        json!({"domain": "enclii.test", "environment_id": shop.production}),
        json!({"domain": "a.b.enclii.test", "environment_id": shop.production}),
    ];
    for body in refused {
        let (status, answer) = shop
            .call(Method::POST, &domains_of(&shop.api, ""), None, Some(&body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["errors"][0]["field"], "domain", "{body}: {answer}");
    }
    // `evil-enclii.test` is not under the platform's domain: an ordinary custom domain.
    let custom = shop
        .add_domain(json!({"domain": "evil-enclii.test", "environment_id": shop.production}))
        .await;
    assert_eq!(custom["domain"]["verified"], false);
}

#[tokio::test]
async fn without_a_platform_domain_platform_domains_answer_503_naming_the_setting() {
    let shop = Shop::spawn().await;
    let body = json!({"environment_id": shop.production, "is_platform_domain": true});
    let (status, answer) = shop
        .call(Method::POST, &domains_of(&shop.api, ""), None, Some(&body))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("ENCLII_PLATFORM_DOMAIN"),
        "{answer}"
    );
    let custom = shop
        .add_domain(json!({"domain": "shop.example.com", "environment_id": shop.production}))
        .await;
    assert!(custom["dns_instructions"].get("cname").is_none());
    assert!(custom["domain"].get("dns_cname").is_none());
}

#[tokio::test]
async fn a_name_in_use_anywhere_is_409_without_saying_where() {
    let shop = shop().await;
    // Added with an Idempotency-Key: a retry of the same request answers the first 201 again.
    let body = json!({"domain": "shop.example.com", "environment_id": shop.staging});
    let post = || {
        shop.app
            .client
            .post(shop.app.url(&domains_of(&shop.api, "")))
            .bearer_auth(&shop.owner)
            .header("idempotency-key", "add-shop-1")
            .json(&body)
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let retry = post().await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    let again = json!({"domain": "SHOP.example.com", "environment_id": shop.production});
    let (status, _) = shop
        .call(
            Method::POST,
            &domains_of(&shop.worker, ""),
            None,
            Some(&again),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "not twice in one project");
    // Another tenant.
    let app = &shop.app;
    let other = shop_owner_of(app, "rival@example.com", "rival").await;
    let body = json!({"domain": "shop.example.com", "environment": "production"});
    let (status, answer) = call(
        app,
        Method::POST,
        &domains_of(&other.1, ""),
        Some(&other.0),
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "already_exists");
    let text = answer.to_string();
    for secret in ["shop", &shop.api, &shop.staging] {
        assert!(
            !text.replace("shop.example.com", "").contains(secret),
            "{text}"
        );
    }
}

/// A user owning project `slug` with environment `production` and service `web`:
/// (token, service id).
pub(crate) async fn shop_owner_of(app: &TestApp, email: &str, slug: &str) -> (String, String) {
    let bearer = register(app, email).await;
    let mut service = Value::Null;
    for (path, body) in [
        (
            "/v1/projects".to_owned(),
            json!({"name": slug, "slug": slug}),
        ),
        (
            format!("/v1/projects/{slug}/environments"),
            json!({"name": "production"}),
        ),
        (
            format!("/v1/projects/{slug}/services"),
            json!({"name": "web", "git_repo": "https://github.com/acme/web"}),
        ),
    ] {
        service = expect(
            app,
            Method::POST,
            &path,
            &bearer,
            Some(body),
            StatusCode::CREATED,
        )
        .await;
    }
    let service = id(&service).to_owned();
    (bearer, service)
}

#[tokio::test]
async fn the_domains_list_shows_what_the_caller_can_see_with_counts() {
    let shop = shop().await;
    let platform = |name: &str| json!({"domain": name, "environment_id": shop.production, "is_platform_domain": true});
    shop.add_domain(platform("one")).await;
    shop.add_domain(platform("two")).await;
    shop.add_domain(
        json!({"domain": "shop.example.com", "environment_id": shop.staging, "tls_enabled": false}),
    )
    .await;
    let rival = shop_owner_of(&shop.app, "rival@example.com", "rival").await;
    expect(
        &shop.app,
        Method::POST,
        &domains_of(&rival.1, ""),
        &rival.0,
        Some(json!({"domain": "rival.example.com", "environment": "production"})),
        StatusCode::CREATED,
    )
    .await;

    let all = shop.get("/v1/domains").await;
    assert_eq!(
        (&all["total"], &all["limit"], &all["offset"]),
        (&json!(3), &json!(50), &json!(0))
    );
    assert_eq!(
        field_of_each(&all["domains"], "domain"),
        ["one.enclii.test", "two.enclii.test", "shop.example.com"]
    );
    let first = &all["domains"][0];
    assert_eq!(
        (
            &first["service_name"],
            &first["environment_name"],
            &first["project_slug"]
        ),
        (&json!("api"), &json!("production"), &json!("shop"))
    );
    let count = |v: &Value| v["domains"].as_array().unwrap().len();
    let verified = shop.get("/v1/domains?verified=true").await;
    assert_eq!((count(&verified), &verified["total"]), (2, &json!(2)));
    let pending = shop
        .get("/v1/domains?verified=false&tls_enabled=false")
        .await;
    assert_eq!(pending["domains"][0]["domain"], "shop.example.com");
    assert_eq!(pending["total"], 1);
    let page = shop.get("/v1/domains?limit=2").await;
    assert_eq!((count(&page), &page["total"]), (2, &json!(3)));
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = shop
        .get(&format!("/v1/domains?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["domains"][0]["domain"], "shop.example.com");
    assert!(rest.get("next_cursor").is_none());
    let skipped = shop.get("/v1/domains?offset=2").await;
    assert_eq!(skipped["domains"][0]["domain"], "shop.example.com");
    for bad in [
        "/v1/domains?limit=0",
        "/v1/domains?offset=-1",
        "/v1/domains?cursor=%21",
    ] {
        shop.expect(Method::GET, bad, None, StatusCode::BAD_REQUEST)
            .await;
    }

    let stats = shop.get("/v1/domains/stats").await;
    assert_eq!(
        stats,
        json!({"total_domains": 3, "verified_domains": 2, "pending_domains": 1,
               "tls_enabled": 2, "platform_domains": 2, "custom_domains": 1})
    );
    let theirs = get_ok(&shop.app, "/v1/domains", &rival.0).await;
    assert_eq!(theirs["total"], 1);
    assert_eq!(theirs["domains"][0]["domain"], "rival.example.com");
    let stranger = register(&shop.app, "stranger@example.com").await;
    assert_eq!(
        get_ok(&shop.app, "/v1/domains/stats", &stranger).await["total_domains"],
        0
    );
}
