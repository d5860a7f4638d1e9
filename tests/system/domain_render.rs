//! Verified domains reach the cluster: the worker (render mode) writes the Ingress of a
//! deployment with the service's verified domains of that environment — TLS and the
//! cert-manager issuer for those that want it — and leaves out unverified ones and other
//! environments'. (That a change reaches a running deployment at once: tests/system/refresh.rs.)

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_testkit::TestApp;
use switchyard_worker::jobs::deployments::DeployTarget;

use crate::{
    builds::service,
    deployments::{latest_id, phase_is, ready_release, start_worker},
    dns_support::{TestDns, settings},
    domains::domains_of,
    jobs_support::eventually,
    support::expect,
};

/// The hosts of the rules and of the TLS section of an Ingress manifest.
fn hosts(yaml: &str) -> (Vec<String>, Vec<String>) {
    let (rules, tls) = yaml.split_once("\n  tls:").unwrap_or((yaml, ""));
    let rule_hosts = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- host: "))
        .map(str::to_owned)
        .collect();
    let tls_hosts = tls
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter(|h| !h.contains(':'))
        .map(str::to_owned)
        .collect();
    (rule_hosts, tls_hosts)
}

#[tokio::test]
async fn verified_domains_of_the_environment_are_rendered_into_the_ingress() {
    let dns = TestDns::start().await;
    let app = TestApp::builder()
        .domains(settings(Some(&dns)))
        .spawn()
        .await;
    let (owner, id) = service(&app).await;
    let mut envs = Vec::new();
    for name in ["production", "staging"] {
        let env = expect(
            &app,
            Method::POST,
            "/v1/projects/shop/environments",
            &owner,
            Some(json!({ "name": name })),
            StatusCode::CREATED,
        )
        .await;
        envs.push(env["id"].as_str().unwrap().to_owned());
    }
    let path = domains_of(&id, "");
    let add = |body: Value| {
        expect(
            &app,
            Method::POST,
            &path,
            &owner,
            Some(body),
            StatusCode::CREATED,
        )
    };
    let production = envs[0].as_str();
    let web =
        add(json!({"domain": "web", "environment_id": production, "is_platform_domain": true}))
            .await;
    add(json!({"domain": "stage", "environment_id": envs[1], "is_platform_domain": true})).await;
    add(json!({"domain": "pending.example.com", "environment_id": production})).await;
    let custom = add(
        json!({"domain": "shop.example.com", "environment_id": production, "tls_enabled": false}),
    )
    .await;
    let record = &custom["dns_instructions"]["verification"];
    dns.set(
        record["name"].as_str().unwrap(),
        &[&[record["value"].as_str().unwrap()]],
    );
    let custom_id = custom["domain"]["id"].as_str().unwrap();
    expect(
        &app,
        Method::POST,
        &domains_of(&id, &format!("/{custom_id}/verify")),
        &owner,
        None,
        StatusCode::OK,
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let worker = start_worker(
        &app,
        DeployTarget::Render {
            dir: dir.path().to_path_buf(),
        },
    )
    .await;
    ready_release(&app, &owner, &id, "1111111a").await; // auto-deploys to production
    let first = latest_id(&app, &owner, &id).await;
    eventually("the deployment runs", || {
        phase_is(&app, &owner, &first, "running")
    })
    .await;
    let manifest = dir
        .path()
        .join("manifests/enclii-shop-production/ingress-api.yaml");
    let yaml = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        yaml.contains("cert-manager.io/cluster-issuer: letsencrypt-prod"),
        "{yaml}"
    );
    let (rules, tls) = hosts(&yaml);
    assert_eq!(rules, ["shop.example.com", "web.enclii.test"], "{yaml}");
    assert_eq!(tls, ["web.enclii.test"], "TLS only where it is on: {yaml}");

    // A later deployment follows the domains as they are then.
    let web_id = web["domain"]["id"].as_str().unwrap();
    expect(
        &app,
        Method::DELETE,
        &domains_of(&id, &format!("/{web_id}")),
        &owner,
        None,
        StatusCode::OK,
    )
    .await;
    ready_release(&app, &owner, &id, "2222222b").await;
    let second = latest_id(&app, &owner, &id).await;
    eventually("the second deployment runs", || {
        phase_is(&app, &owner, &second, "running")
    })
    .await;
    let yaml = std::fs::read_to_string(&manifest).unwrap();
    let (rules, tls) = hosts(&yaml);
    assert_eq!(rules, ["shop.example.com"], "{yaml}");
    assert!(tls.is_empty(), "{yaml}");
    assert!(
        !yaml.contains("cluster-issuer"),
        "no issuer without TLS hosts: {yaml}"
    );
    worker.cancel();
}
