//! The refusals of the domain routes: every validation rule a 400 naming its field (nothing
//! stored), internationalized names stored as punycode, a domain reachable only under its own
//! service (no IDOR), 404 for non-members, 403 below developer — and a developer of one
//! environment can manage that environment's domains only.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    domains::{domains_of, shop},
    env_var_rules::assert_field,
    env_var_support::{Shop, id},
    support::{grant, register},
};

#[tokio::test]
async fn every_rule_is_a_400_naming_its_field() {
    let shop = shop().await;
    shop.created("/v1/projects", json!({"name": "Other", "slug": "other"}))
        .await;
    let foreign = shop
        .created("/v1/projects/other/environments", json!({"name": "prod"}))
        .await;
    let env = shop.production.clone();
    let with = |domain: &str| json!({"domain": domain, "environment_id": env});
    let long_label = format!("{}.example.com", "a".repeat(64));
    let long_name = format!("{}.com", vec!["a".repeat(60); 5].join("."));
    let cases = [
        (json!({"environment_id": env}), "domain"),
        (with(""), "domain"),
        (with("*.example.com"), "domain"),
        (with("shop.example.com."), "domain"),
        (with(&long_name), "domain"),
        (with(&long_label), "domain"),
        (with("localhost"), "domain"),
        (with("shop_1.example.com"), "domain"),
        (with("-shop.example.com"), "domain"),
        (with("shop..example.com"), "domain"),
        (with("https://shop.example.com"), "domain"),
        (with("10.0.0.1"), "domain"),
        (with("xn--zz.example"), "domain"),
        (with("bad\u{0}ü.example"), "domain"),
        (json!({"domain": 7, "environment_id": env}), "domain"),
        (json!({"domain": "shop.example.com"}), "environment_id"),
        (
            json!({"domain": "shop.example.com", "environment_id": "nope"}),
            "environment_id",
        ),
        (
            json!({"domain": "shop.example.com", "environment_id": id(&foreign)}),
            "environment_id",
        ),
        (
            json!({"domain": "shop.example.com", "environment": "qa"}),
            "environment",
        ),
        (
            json!({"domain": "shop.example.com", "environment_id": env, "tls_provider": "cloudflare-for-saas"}),
            "tls_provider",
        ),
        (
            json!({"domain": "shop.example.com", "environment_id": env, "zero_trust_enabled": true}),
            "zero_trust_enabled",
        ),
        (
            json!({"domain": "shop.example.com", "environment_id": env, "tls_issuer": "letsencrypt-staging"}),
            "tls_issuer",
        ),
        (
            json!({"domain": "shop.example.com", "environment_id": env, "tls_enabled": "yes"}),
            "tls_enabled",
        ),
    ];
    for (body, field) in cases {
        assert_field(&shop, Method::POST, &domains_of(&shop.api, ""), body, field).await;
    }
    let non_ascii = shop.get(&domains_of(&shop.api, "")).await;
    assert_eq!(
        non_ascii["domains"],
        json!([]),
        "nothing refused was stored"
    );

    // An internationalized name is stored as its punycode; the CLI's body (environment by name,
    // the cluster's issuer) is accepted.
    let added = shop
        .add_domain(
            json!({"domain": "Bücher.Example", "environment": "production",
                           "environment_id": "", "tls_issuer": "letsencrypt-prod"}),
        )
        .await;
    assert_eq!(added["domain"]["domain"], "xn--bcher-kva.example");
    assert_eq!(
        added["dns_instructions"]["verification"]["name"],
        "_enclii-verification.xn--bcher-kva.example"
    );
    let path = domains_of(&shop.api, &format!("/{}", id(&added["domain"])));
    let patch_cases = [
        (json!({}), "body"),
        (json!({"tls_enabled": "no"}), "tls_enabled"),
        (json!({"tls_issuer": "Not An Issuer"}), "tls_issuer"),
        (json!({"tls_issuer": "zerossl"}), "tls_issuer"),
    ];
    for (body, field) in patch_cases {
        assert_field(&shop, Method::PATCH, &path, body, field).await;
    }
    shop.expect(
        Method::GET,
        &domains_of(&shop.api, "?limit=500"),
        None,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

/// Grants `email` the role `role` on environment `env` of project `shop` only.
#[expect(
    clippy::disallowed_methods,
    reason = "test fixture SQL, checked by running it"
)]
async fn grant_environment(shop: &Shop, email: &str, env: &str, role: &str) {
    let mut conn = shop.app.db.connect().await;
    sqlx::query(
        "insert into project_access (id, user_id, project_id, environment_id, role)
         select gen_random_uuid(), u.id, p.id, $2::uuid, $3 from users u, projects p
         where u.email = $1 and p.slug = 'shop'",
    )
    .bind(email)
    .bind(env)
    .bind(role)
    .execute(&mut conn)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_domain_is_only_reachable_by_its_own_service_and_its_members() {
    let shop = shop().await;
    let theirs = shop
        .created(
            &domains_of(&shop.worker, ""),
            json!({"domain": "worker.example.com", "environment_id": shop.production}),
        )
        .await;
    let domain = id(&theirs["domain"]).to_owned();
    let wrong = domains_of(&shop.api, &format!("/{domain}"));
    let attempts = [
        (Method::GET, wrong.clone(), None),
        (
            Method::PATCH,
            wrong.clone(),
            Some(json!({"tls_enabled": false})),
        ),
        (Method::POST, format!("{wrong}/verify"), None),
        (Method::DELETE, wrong.clone(), None),
    ];
    for (method, path, body) in &attempts {
        let (status, answer) = shop.call(method.clone(), path, None, body.as_ref()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
    }
    let right = domains_of(&shop.worker, &format!("/{domain}"));
    assert_eq!(
        shop.get(&right).await["domain"]["tls_enabled"],
        true,
        "unchanged"
    );

    let stranger = register(&shop.app, "stranger@example.com").await;
    let viewer = register(&shop.app, "viewer@example.com").await;
    grant(&shop.app, "viewer@example.com", "shop", "viewer").await;
    let add = json!({"domain": "new.example.com", "environment_id": shop.production});
    let attempts = vec![
        (Method::GET, right.clone(), None),
        (Method::GET, domains_of(&shop.worker, ""), None),
        (Method::POST, domains_of(&shop.worker, ""), Some(add)),
        (
            Method::PATCH,
            right.clone(),
            Some(json!({"tls_enabled": false})),
        ),
        (Method::POST, format!("{right}/verify"), None),
        (Method::DELETE, right.clone(), None),
    ];
    shop.members_only(&stranger, &viewer, attempts).await;
    let listed = crate::support::get_ok(&shop.app, "/v1/domains", &stranger).await;
    assert_eq!(listed["total"], 0, "{listed}");

    // A developer of staging only: staging's domains yes, production's no.
    let staging_dev = register(&shop.app, "staging@example.com").await;
    grant_environment(&shop, "staging@example.com", &shop.staging, "developer").await;
    for (env, name, expected) in [
        (&shop.staging, "staging.example.com", StatusCode::CREATED),
        (&shop.production, "prod.example.com", StatusCode::FORBIDDEN),
    ] {
        let body = json!({"domain": name, "environment_id": env});
        let path = domains_of(&shop.api, "");
        let (status, answer) = shop
            .call(Method::POST, &path, Some(&staging_dev), Some(&body))
            .await;
        assert_eq!(status, expected, "{name}: {answer}");
    }
    let (status, _) = shop
        .call(Method::DELETE, &right, Some(&staging_dev), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "production's domain");
}
