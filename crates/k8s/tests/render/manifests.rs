//! Render mode's files: one per object at the documented path, Secrets private, stale files of
//! the same service removed and nothing else touched.

use std::{fs, os::unix::fs::PermissionsExt, path::Path};

use switchyard_k8s::write_manifests;

use crate::{fixtures, rendered};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn every_object_is_written_where_render_mode_says() {
    let dir = tempfile::tempdir().unwrap();
    let desired = rendered(&fixtures::full());
    let written = write_manifests(dir.path(), &desired).unwrap();
    let root = dir.path().join("manifests");
    assert_eq!(written.len(), desired.objects.len());
    assert_eq!(
        written[0],
        root.join("_cluster/namespace-enclii-shop-production.yaml")
    );
    let deployment = root.join("enclii-shop-production/deployment-api.yaml");
    assert!(written.contains(&deployment));
    let object = desired.get("Deployment", "api").unwrap();
    assert_eq!(fs::read_to_string(&deployment).unwrap(), object.to_yaml());
    assert_eq!(mode(&deployment), 0o644);
    assert_eq!(
        mode(&root.join("enclii-shop-production/secret-api-secrets.yaml")),
        0o600
    );
    assert_eq!(
        write_manifests(dir.path(), &desired).unwrap(),
        written,
        "idempotent"
    );
}

#[test]
fn stale_files_of_the_service_go_and_others_stay() {
    let dir = tempfile::tempdir().unwrap();
    let ns = dir.path().join("manifests/enclii-shop-production");
    write_manifests(dir.path(), &rendered(&fixtures::full())).unwrap();
    write_manifests(dir.path(), &rendered(&fixtures::minimal())).unwrap();
    fs::write(ns.join("notes.yaml"), "not: ours\n").unwrap();
    fs::write(ns.join("broken.yaml"), ": : :\n").unwrap();
    // `api` loses its secrets, domains, replicas and volumes.
    let mut smaller = fixtures::full();
    smaller.secrets.clear();
    smaller.domains.clear();
    smaller.replicas = 1;
    write_manifests(dir.path(), &rendered(&smaller)).unwrap();
    let mut left: Vec<String> = fs::read_dir(&ns)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "broken.yaml",
            "deployment-api.yaml",
            "deployment-web.yaml",
            "networkpolicy-api-egress.yaml",
            "networkpolicy-api-ingress.yaml",
            "networkpolicy-web-egress.yaml",
            "networkpolicy-web-ingress.yaml",
            "notes.yaml",
            "persistentvolumeclaim-api-data.yaml",
            "persistentvolumeclaim-api-uploads.yaml",
            "service-api.yaml",
            "service-web.yaml",
        ]
    );
}
