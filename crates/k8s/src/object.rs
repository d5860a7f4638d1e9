//! One rendered manifest (`Object`) and a deployment's set of them (`Desired`): their canonical
//! YAML, the redacted form for logs and diffs, and the file each is written to in render mode.

use std::{fmt, path::PathBuf};

use k8s_openapi::{Metadata, Resource, apimachinery::pkg::apis::meta::v1::ObjectMeta};
use serde::{Serialize, Serializer, ser::SerializeMap};
use serde_json::Value;

use crate::RenderError;

/// What replaces each value of a Secret's `data` and `stringData` in `redacted()`.
pub const REDACTED: &str = "[redacted]";

/// A full manifest and the coordinates the reconciler needs to apply it.
#[derive(Clone, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped objects (the Namespace).
    pub namespace: Option<String>,
    pub name: String,
    /// The whole manifest: `apiVersion`, `kind`, `metadata`, `spec`…
    pub body: Value,
}

/// Everything one deployment needs in the cluster, in apply order (Namespace first).
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub objects: Vec<Object>,
    /// The namespace of every object but the Namespace itself.
    pub namespace: String,
    /// The service the objects belong to (their `enclii.dev/service` label).
    pub service: String,
}

impl Object {
    pub(crate) fn from_resource<K>(resource: &K) -> Result<Self, RenderError>
    where
        K: Resource + Metadata<Ty = ObjectMeta> + Serialize,
    {
        let meta = resource.metadata();
        let name = meta.name.clone().unwrap_or_default();
        let body = serde_json::to_value(resource).map_err(|source| RenderError::Serialize {
            kind: K::KIND,
            name: name.clone(),
            source,
        })?;
        Ok(Self {
            api_version: K::API_VERSION.to_owned(),
            kind: K::KIND.to_owned(),
            namespace: meta.namespace.clone(),
            name,
            body,
        })
    }

    /// The manifest as YAML, keys sorted at every level: the same object gives the same bytes
    /// whatever `serde_json` features the build enables.
    pub fn to_yaml(&self) -> String {
        #[expect(
            clippy::expect_used,
            reason = "a JSON value (string keys, finite numbers) always has a YAML form"
        )]
        serde_saphyr::to_string(&Canonical(&self.body)).expect("JSON is representable in YAML")
    }

    /// The same object with every Secret value replaced by `[redacted]`; other kinds unchanged.
    pub fn redacted(&self) -> Object {
        let mut copy = self.clone();
        if self.kind == "Secret" {
            for field in ["data", "stringData"] {
                if let Some(Value::Object(values)) = copy.body.get_mut(field) {
                    for value in values.values_mut() {
                        *value = Value::String(REDACTED.to_owned());
                    }
                }
            }
        }
        copy
    }

    /// `<namespace or _cluster>/<kind lower-case>-<name>.yaml`, relative to the manifests root.
    pub fn manifest_path(&self) -> PathBuf {
        PathBuf::from(self.namespace.as_deref().unwrap_or("_cluster")).join(format!(
            "{}-{}.yaml",
            self.kind.to_lowercase(),
            self.name
        ))
    }
}

/// Debug never shows a Secret's values.
impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("api_version", &self.api_version)
            .field("kind", &self.kind)
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("body", &self.redacted().body)
            .finish()
    }
}

impl Desired {
    /// The object of this kind and name, if rendered.
    pub fn get(&self, kind: &str, name: &str) -> Option<&Object> {
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
    }

    /// Every object as one multi-document YAML stream, in apply order.
    pub fn to_yaml(&self) -> String {
        self.objects
            .iter()
            .map(|o| format!("---\n{}", o.to_yaml()))
            .collect()
    }
}

/// A label of a manifest (desired or live).
pub(crate) fn label<'v>(body: &'v Value, key: &str) -> Option<&'v str> {
    body.pointer("/metadata/labels")?.get(key)?.as_str()
}

/// Serialises a JSON value with object keys in byte order.
struct Canonical<'a>(&'a Value);

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    out.serialize_entry(key, &Canonical(value))?;
                }
                out.end()
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(Canonical)),
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(kind: &str, namespace: Option<&str>, body: Value) -> Object {
        Object {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: namespace.map(str::to_owned),
            name: "api-secrets".into(),
            body,
        }
    }

    #[test]
    fn redaction_hides_secret_values_only() {
        let secret = object(
            "Secret",
            Some("ns"),
            json!({"kind": "Secret", "data": {"A": "c2VjcmV0"}, "stringData": {"B": "plain"}}),
        );
        let redacted = secret.redacted();
        assert_eq!(redacted.body["data"]["A"], REDACTED);
        assert_eq!(redacted.body["stringData"]["B"], REDACTED);
        assert_eq!(redacted.body["kind"], "Secret");
        let debug = format!("{secret:?}");
        assert!(
            !debug.contains("c2VjcmV0") && !debug.contains("plain"),
            "{debug}"
        );
        let config = object("ConfigMap", Some("ns"), json!({"data": {"A": "visible"}}));
        assert_eq!(config.redacted(), config);
    }

    #[test]
    fn yaml_keys_are_sorted_and_paths_follow_the_layout() {
        let o = object(
            "Secret",
            Some("ns"),
            json!({"z": 1, "a": {"b": [{"d": 2, "c": 1}]}}),
        );
        assert_eq!(o.to_yaml(), "a:\n  b:\n  - c: 1\n    d: 2\nz: 1\n");
        assert_eq!(
            o.manifest_path(),
            PathBuf::from("ns/secret-api-secrets.yaml")
        );
        let ns = object("Namespace", None, json!({}));
        assert_eq!(
            ns.manifest_path(),
            PathBuf::from("_cluster/namespace-api-secrets.yaml")
        );
    }

    #[test]
    fn strings_that_yaml_1_1_parsers_would_retype_are_quoted() {
        // kubectl's and PyYAML's parsers still read these as booleans, timestamps or numbers.
        let risky = [
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "true",
            "null",
            "~",
            "",
            "8080",
            "0755",
            "1e3",
            "0x1F",
            "1:20",
            "2026-01-02T03:04:05Z",
            "2026-01-02",
            ".inf",
            "a: b",
            "- x",
            "#c",
            "Yes",
            "NO",
            "1_000",
            "0b101",
            "+12",
            "1.0",
            "-.5",
            "190:20:30",
            "2001-12-14 21:59:43.10 -5",
            "line\nbreak",
        ];
        let body = Value::Object(
            risky
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("k{i:02}"), Value::String((*s).to_owned())))
                .collect(),
        );
        let yaml = object("ConfigMap", None, body.clone()).to_yaml();
        // Multi-line values become literal blocks (`|-`), whose indented lines are content.
        for line in yaml.lines().filter(|l| !l.starts_with(' ')) {
            let (_, value) = line.split_once(": ").unwrap();
            assert!(value.starts_with(['"', '\'', '|']), "unquoted: {line}");
        }
        let back: Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, body);
    }
}
