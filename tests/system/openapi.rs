//! `openapi.yaml` at the repository root is exactly what `switchyard openapi` prints.

#[test]
fn openapi_yaml_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = switchyard_api::openapi().to_yaml().unwrap();
    assert!(
        committed == generated,
        "openapi.yaml is out of date: run `cargo run -p switchyard -- openapi > openapi.yaml`"
    );
}
