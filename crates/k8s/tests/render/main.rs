//! Tests of `switchyard-k8s` through its public interface: snapshots of every fixture's YAML,
//! the rules each object follows, drift and prune comparisons, and render mode's files.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test loudly")]

mod drift;
mod fixtures;
mod manifests;
mod objects;
mod plan;
mod snapshots;
mod validation;

use serde_json::Value;
use switchyard_k8s::{Desired, render};

/// The rendered objects of a fixture.
fn rendered(fixture: &fixtures::Fixture) -> Desired {
    render(&fixture.input()).unwrap()
}

/// The body of the one object of `kind` named `name`.
fn body<'d>(desired: &'d Desired, kind: &str, name: &str) -> &'d Value {
    &desired
        .get(kind, name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
        .body
}
