//! Render mode: the objects a reconciler would apply, written as YAML files instead
//! (`DIR/manifests/<namespace>/<kind>-<name>.yaml`, `_cluster/` for the Namespace), and read
//! back for a drift check.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use serde_json::Value;

use crate::{Desired, Object, prune_candidates};

/// Writes every object of `desired` under `dir/manifests`, one file each, and returns their
/// paths in apply order.
///
/// - Each file is replaced atomically (a temporary file in the same directory, then a rename),
///   and left untouched when its content is already the same.
/// - Secrets are written with their real values (render mode shows what would be applied) in
///   files of mode 0600; other files are 0644.
/// - Stale files are removed: a YAML file in the service's namespace directory whose object
///   `prune_candidates` names (our labels, this service, no longer desired). Files of other
///   services, files without our labels, the Namespace and volume claims stay.
pub fn write_manifests(dir: &Path, desired: &Desired) -> io::Result<Vec<PathBuf>> {
    let root = dir.join("manifests");
    let mut written = Vec::with_capacity(desired.objects.len());
    for object in &desired.objects {
        let path = root.join(object.manifest_path());
        write_if_changed(&path, object)?;
        written.push(path);
    }
    remove_stale(&root.join(&desired.namespace), desired)?;
    Ok(written)
}

fn write_if_changed(path: &Path, object: &Object) -> io::Result<()> {
    let content = object.to_yaml();
    if fs::read(path).is_ok_and(|old| old == content.as_bytes()) {
        return Ok(());
    }
    let parent = path
        .parent()
        .ok_or_else(|| io::Error::other(format!("{} has no directory", path.display())))?;
    fs::create_dir_all(parent)?;
    // Created 0600 by tempfile; widened for everything but Secrets.
    let mut file = tempfile::NamedTempFile::new_in(parent)?;
    file.write_all(content.as_bytes())?;
    file.as_file().sync_all()?;
    if object.kind != "Secret" {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))?;
    }
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The objects render mode wrote for `namespace` under `dir/manifests`: the Namespace and
/// every object in the namespace's directory (empty when nothing was rendered there). What a
/// drift check compares with when there is no cluster.
pub fn read_manifests(dir: &Path, namespace: &str) -> io::Result<Vec<Value>> {
    let root = dir.join("manifests");
    let mut objects = Vec::new();
    let namespace_file = root
        .join("_cluster")
        .join(format!("namespace-{namespace}.yaml"));
    match fs::read_to_string(&namespace_file) {
        Ok(text) => objects.extend(serde_saphyr::from_str::<Value>(&text).ok()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    objects.extend(
        objects_in(&root.join(namespace))?
            .into_iter()
            .map(|(_, body)| body),
    );
    Ok(objects)
}

/// Each YAML file of `namespace_dir` that reads as one object, with its path. A file we cannot
/// read as one object is not ours to judge: it is left out.
fn objects_in(namespace_dir: &Path) -> io::Result<Vec<(PathBuf, Value)>> {
    let entries = match fs::read_dir(namespace_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        if let Ok(body) = serde_saphyr::from_str::<Value>(&text) {
            files.push((path, body));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

fn remove_stale(namespace_dir: &Path, desired: &Desired) -> io::Result<()> {
    let files = objects_in(namespace_dir)?;
    let bodies: Vec<Value> = files.iter().map(|(_, body)| body.clone()).collect();
    for (kind, _, name) in prune_candidates(desired, &bodies) {
        for (path, body) in &files {
            let same = body.get("kind").and_then(Value::as_str) == Some(kind.as_str())
                && body.pointer("/metadata/name").and_then(Value::as_str) == Some(name.as_str());
            if same {
                fs::remove_file(path)?;
            }
        }
    }
    Ok(())
}
