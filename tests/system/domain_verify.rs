//! Verification against a real DNS server on a loopback port (`dns_support`): the TXT record is
//! looked up at exactly the name the instructions print, `_enclii-verification.<domain>` (the
//! original printed that but read the bare domain); a missing or wrong record is the original's
//! 400 with `verification_value`; a nameserver that fails or cannot be reached is 503, never a
//! verdict.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;

use crate::{
    dns_support::{TestDns, settings},
    domains::domains_of,
    env_var_support::{Shop, id},
};

async fn shop_with(dns: &TestDns) -> Shop {
    Shop::on(
        TestApp::builder()
            .domains(settings(Some(dns)))
            .spawn()
            .await,
    )
    .await
}

/// `shop.example.com` added to `api` in production: (the 201 body, its id, its verify path).
async fn pending_domain(shop: &Shop) -> (Value, String, String) {
    let added = shop
        .add_domain(json!({"domain": "shop.example.com", "environment_id": shop.production}))
        .await;
    let domain = id(&added["domain"]).to_owned();
    let verify = domains_of(&shop.api, &format!("/{domain}/verify"));
    (added, domain, verify)
}

#[tokio::test]
async fn the_txt_record_at_the_printed_name_verifies_the_domain() {
    let dns = TestDns::start().await;
    let shop = shop_with(&dns).await;
    let (added, domain, verify) = pending_domain(&shop).await;
    let record = &added["dns_instructions"]["verification"];
    let (name, value) = (
        record["name"].as_str().unwrap().to_owned(),
        record["value"].as_str().unwrap().to_owned(),
    );
    assert_eq!(name, "_enclii-verification.shop.example.com");

    // Nothing in DNS yet.
    let (status, answer) = shop.call(Method::POST, &verify, None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "domain not verified");
    assert_eq!(answer["code"], "invalid_input");
    assert_eq!(answer["verification_value"], value.as_str());
    assert_eq!(answer["verification_name"], name.as_str());
    assert_eq!(answer["found_records"], json!([]));
    assert!(
        answer["message"].as_str().unwrap().contains(&name),
        "{answer}"
    );
    assert!(answer["request_id"].as_str().is_some_and(|r| !r.is_empty()));

    // Where the original looked (the bare domain) does not count.
    dns.set("shop.example.com", &[&[&value]]);
    let (status, _) = shop.call(Method::POST, &verify, None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A wrong value at the right name: still not verified, and what was found is shown.
    dns.set(&name, &[&["enclii-verification=someone-else"]]);
    let (status, answer) = shop.call(Method::POST, &verify, None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["found_records"],
        json!(["enclii-verification=someone-else"])
    );
    let pending = shop
        .get(&domains_of(&shop.api, &format!("/{domain}")))
        .await;
    assert_eq!(pending["domain"]["verified"], false);
    let queries = dns.queries();
    assert!(
        queries.len() >= 3 && queries.iter().all(|q| *q == name),
        "every attempt asked DNS for the printed name (nothing cached): {queries:?}"
    );

    // The right value, among other records and split in two strings as DNS hosts may store it.
    let (head, tail) = value.split_at(10);
    dns.set(&name, &[&["v=spf1 -all"], &[head, tail]]);
    let verified = shop
        .expect(Method::POST, &verify, None, StatusCode::OK)
        .await;
    assert_eq!(verified["message"], "domain verified");
    assert_eq!(verified["domain"]["verified"], true);
    assert_eq!(verified["domain"]["status"], "active");
    assert!(verified["domain"]["verified_at"].is_string());
    let again = shop
        .expect(Method::POST, &verify, None, StatusCode::OK)
        .await;
    assert_eq!(again["message"], "domain already verified");
    let activity = shop.get("/v1/activity?action=domain.verify").await;
    assert_eq!(activity["activities"].as_array().unwrap().len(), 1);
    assert_eq!(activity["activities"][0]["resource_id"], domain.as_str());
    let stats = shop.get("/v1/domains/stats").await;
    assert_eq!(stats["verified_domains"], 1);
}

#[tokio::test]
async fn dns_that_fails_or_does_not_answer_is_503_and_changes_nothing() {
    let dns = TestDns::start().await;
    let shop = shop_with(&dns).await;
    let (_, _, verify) = pending_domain(&shop).await;
    dns.fail();
    let (status, answer) = shop.call(Method::POST, &verify, None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["code"], "unavailable");
    assert!(
        answer["message"].as_str().unwrap().contains("DNS"),
        "{answer}"
    );

    // A nameserver address where nothing listens.
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut unreachable = settings(None);
    unreachable.dns.nameserver = Some(closed.local_addr().unwrap());
    unreachable.dns.timeout = Duration::from_millis(500);
    drop(closed);
    let shop = Shop::on(TestApp::builder().domains(unreachable).spawn().await).await;
    let (_, domain, verify) = pending_domain(&shop).await;
    let (status, answer) = shop.call(Method::POST, &verify, None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let pending = shop
        .get(&domains_of(&shop.api, &format!("/{domain}")))
        .await;
    assert_eq!(pending["domain"]["verified"], false);
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "reads the usage events in the outbox"
)]
async fn a_custom_domain_is_billed_from_verification_until_it_or_its_service_goes() {
    let dns = TestDns::start().await;
    let shop = shop_with(&dns).await;
    let (added, domain, verify) = pending_domain(&shop).await;
    let usage = || async {
        sqlx::query_scalar::<_, String>(
            "select payload->>'event_type' from outbox
             where topic = 'usage' and payload->>'event_type' like 'domain.%'
             order by created_at",
        )
        .fetch_all(&shop.app.db.pool)
        .await
        .unwrap()
    };
    assert!(usage().await.is_empty(), "a pending domain is not billed");
    let record = &added["dns_instructions"]["verification"];
    dns.set(
        record["name"].as_str().unwrap(),
        &[&[record["value"].as_str().unwrap()]],
    );
    for _ in 0..2 {
        shop.expect(Method::POST, &verify, None, StatusCode::OK)
            .await;
    }
    assert_eq!(
        usage().await,
        ["domain.added"],
        "verified once, billed once"
    );
    shop.expect(
        Method::DELETE,
        &domains_of(&shop.api, &format!("/{domain}")),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(usage().await, ["domain.added", "domain.removed"]);

    // A verified domain that goes with its service stops being billed too.
    let (added, _, verify) = pending_domain(&shop).await;
    let record = &added["dns_instructions"]["verification"];
    dns.set(
        record["name"].as_str().unwrap(),
        &[&[record["value"].as_str().unwrap()]],
    );
    shop.expect(Method::POST, &verify, None, StatusCode::OK)
        .await;
    let service = format!("/v1/services/{}", shop.api);
    shop.expect(Method::DELETE, &service, None, StatusCode::OK)
        .await;
    assert_eq!(
        usage().await,
        [
            "domain.added",
            "domain.removed",
            "domain.added",
            "domain.removed"
        ]
    );
}
