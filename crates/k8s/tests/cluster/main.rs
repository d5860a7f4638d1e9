//! Tests of `switchyard_k8s::cluster` through the real `kube::Client` against
//! `switchyard-kube-fake`, an HTTP-level fake API server: apply and its "no write when nothing
//! changed" rule, adoption, the opt-out annotation, pruning, rollout observation, errors, logs (read and followed).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

mod apply;
mod errors;
#[path = "../render/fixtures.rs"]
mod fixtures;
mod follow;
mod logs;
mod observe;
mod prune;

use serde_json::Value;
use switchyard_k8s::{Desired, cluster::Cluster, render};
use switchyard_kube_fake::FakeApiServer;

/// A fresh fake API server and a `Cluster` talking to it.
async fn cluster() -> (FakeApiServer, Cluster) {
    let fake = FakeApiServer::start().await;
    let cluster = Cluster::for_url(fake.url()).unwrap();
    (fake, cluster)
}

/// The rendered objects of a fixture.
fn rendered(fixture: &fixtures::Fixture) -> Desired {
    render(&fixture.input()).unwrap()
}

/// `(kind, name)` of every object, in order.
fn kinds_and_names(desired: &Desired) -> Vec<(String, String)> {
    desired
        .objects
        .iter()
        .map(|o| (o.kind.clone(), o.name.clone()))
        .collect()
}

/// The writes the fake received, as `METHOD path`.
fn writes(fake: &FakeApiServer) -> Vec<String> {
    fake.writes().iter().map(ToString::to_string).collect()
}

fn pair(kind: &str, name: &str) -> (String, String) {
    (kind.into(), name.into())
}

/// The fake's copy of each desired object, `None` where it has none, in order.
fn stored(fake: &FakeApiServer, desired: &Desired) -> Vec<Option<Value>> {
    desired
        .objects
        .iter()
        .map(|o| fake.get(&o.kind, o.namespace.as_deref().unwrap_or(""), &o.name))
        .collect()
}

/// The body of the desired object of `kind`, to break it on purpose.
fn body_mut<'d>(desired: &'d mut Desired, kind: &str) -> &'d mut Value {
    &mut desired
        .objects
        .iter_mut()
        .find(|o| o.kind == kind)
        .unwrap()
        .body
}

/// The managers in an object's `managedFields`.
fn managers(object: &Value) -> Vec<String> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| e["manager"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
