//! The dependency rules of DESIGN.md §3, checked against `cargo metadata`: heavy dependencies stay
//! in the crate that owns them, and internal crates only point down the layer graph.

use std::process::Command;

use serde_json::Value;

/// External crates that only their owner may use (normal dependencies).
const OWNERS: &[(&str, &[&str])] = &[
    // The fake Kubernetes API server is an axum app; it is a dev-dependency only (below).
    ("axum", &["switchyard-api", "switchyard-kube-fake"]),
    ("sqlx", &["switchyard-db"]),
    ("redis", &["switchyard-queue"]),
    ("kube", &["switchyard-k8s", "switchyard-worker"]),
];

/// Internal crates each crate may depend on (normal dependencies).
const LAYERS: &[(&str, &[&str])] = &[
    ("switchyard-domain", &[]),
    ("switchyard-db", &["switchyard-domain"]),
    ("switchyard-queue", &["switchyard-domain"]),
    ("switchyard-auth", &["switchyard-domain"]),
    ("switchyard-k8s", &["switchyard-domain"]),
    // The ledger and the pricing math: a peer of auth and k8s that core (the producers and the
    // usage routes' use-cases), the worker (the consumer) and the binary use (DESIGN.md §3).
    ("switchyard-billing", &[DOMAIN, DB]),
    ("switchyard-core", &[DOMAIN, DB, QUEUE, AUTH, K8S, BILLING]),
    ("switchyard-api", &[DOMAIN, DB, QUEUE, AUTH, CORE, BILLING]),
    (
        "switchyard-worker",
        &[DOMAIN, DB, QUEUE, K8S, CORE, BILLING],
    ),
    (
        "switchyard",
        &[DOMAIN, DB, QUEUE, AUTH, K8S, CORE, API, WORKER, BILLING],
    ),
    (
        "switchyard-testkit",
        &[DOMAIN, DB, QUEUE, AUTH, CORE, API, "switchyard"],
    ),
    ("switchyard-tests", &[]),
    // Test-only: no crate lists it, so it can only ever be a dev-dependency.
    ("switchyard-kube-fake", &[]),
];

const DOMAIN: &str = "switchyard-domain";
const DB: &str = "switchyard-db";
const QUEUE: &str = "switchyard-queue";
const AUTH: &str = "switchyard-auth";
const K8S: &str = "switchyard-k8s";
const CORE: &str = "switchyard-core";
const API: &str = "switchyard-api";
const WORKER: &str = "switchyard-worker";
const BILLING: &str = "switchyard-billing";

fn normal_dependencies() -> Vec<(String, Vec<String>)> {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (package["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn heavy_dependencies_stay_with_their_owner() {
    for (package, deps) in normal_dependencies() {
        for (external, owners) in OWNERS {
            if deps.iter().any(|d| d == external) {
                assert!(
                    owners.contains(&package.as_str()),
                    "{package} must not depend on {external}"
                );
            }
        }
    }
}

#[test]
fn internal_crates_only_depend_down_the_layers() {
    for (package, deps) in normal_dependencies() {
        let allowed = LAYERS
            .iter()
            .find(|(name, _)| *name == package)
            .unwrap_or_else(|| panic!("{package} is not in the layer table of architecture.rs"))
            .1;
        for dep in deps.iter().filter(|d| d.starts_with("switchyard")) {
            assert!(
                allowed.contains(&dep.as_str()),
                "{package} must not depend on {dep}"
            );
        }
    }
}
