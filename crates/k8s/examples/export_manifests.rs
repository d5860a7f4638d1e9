//! Writes every object rendered from the test fixtures to `DIR/<fixture>/manifests/…`, for
//! `scripts/validate-manifests`: `cargo run -p switchyard-k8s --example export-manifests -- DIR`.

#[path = "../tests/render/fixtures.rs"]
mod fixtures;

use std::{error::Error, path::PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: export-manifests DIR")?;
    let mut count = 0;
    for fixture in fixtures::all() {
        let desired = switchyard_k8s::render(&fixture.input())?;
        count += switchyard_k8s::write_manifests(&dir.join(fixture.name), &desired)?.len();
    }
    println!("{count} manifests written under {}", dir.display());
    Ok(())
}
