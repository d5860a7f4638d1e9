//! What a service is configured to be (`ServiceSpec`), with the original's defaults and every
//! validation rule. Creation merges the request over the defaults, PATCH merges the request over
//! the current spec (JSON merge patch, RFC 7396); both end in `ServiceSpec::validate`, so there is
//! one set of rules whichever way a value arrives.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

/// A service's settings. Unknown fields are refused, so a typo is a 400, not a silent no-op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    pub git_repo: String,
    #[serde(default = "main")]
    pub git_branch: String,
    /// Directory of the app inside the repository (`.` is the root).
    #[serde(default = "root")]
    pub app_path: String,
    #[serde(default)]
    pub watch_paths: Vec<String>,
    #[serde(default)]
    pub build_config: BuildConfig,
    #[serde(default = "yes")]
    pub auto_deploy: bool,
    #[serde(default = "main")]
    pub auto_deploy_branch: String,
    #[serde(default = "production")]
    pub auto_deploy_env: String,
    /// The container port (the original's default 4200).
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "one")]
    pub replicas: u32,
    #[serde(default)]
    pub health_check: HealthCheck,
    #[serde(default)]
    pub resources: Resources,
    #[serde(default)]
    pub autoscaling: Option<Autoscaling>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    /// `auto`, `dockerfile` or `buildpack`.
    #[serde(rename = "type", default = "auto")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildpack: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub build_args: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Buildpack build command override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_command: Option<String>,
    /// Start command override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_command: Option<String>,
}

impl Default for BuildConfig {
    fn default() -> Self {
        Self {
            kind: auto(),
            dockerfile: None,
            buildpack: None,
            context: None,
            build_args: std::collections::BTreeMap::new(),
            target: None,
            build_command: None,
            start_command: None,
        }
    }
}

/// HTTP probes (the original's defaults: `/health`; liveness 30/5/10/3, readiness 5/3/5/2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct HealthCheck {
    pub path: String,
    pub liveness_path: Option<String>,
    pub readiness_path: Option<String>,
    pub initial_delay_seconds: u32,
    pub readiness_initial_delay_seconds: u32,
    pub period_seconds: u32,
    pub timeout_seconds: u32,
    pub failure_threshold: u32,
    pub disabled: bool,
}

impl Default for HealthCheck {
    fn default() -> Self {
        Self {
            path: "/health".into(),
            liveness_path: None,
            readiness_path: None,
            initial_delay_seconds: 30,
            readiness_initial_delay_seconds: 5,
            period_seconds: 10,
            timeout_seconds: 5,
            failure_threshold: 3,
            disabled: false,
        }
    }
}

/// Kubernetes quantities (the original's defaults: 100m/128Mi requested, 500m/512Mi limits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Resources {
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
}

impl Default for Resources {
    fn default() -> Self {
        Self {
            cpu_request: "100m".into(),
            cpu_limit: "500m".into(),
            memory_request: "128Mi".into(),
            memory_limit: "512Mi".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    pub min_replicas: u32,
    pub max_replicas: u32,
    #[serde(default = "default_cpu_target")]
    pub target_cpu_percent: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Volume {
    pub name: String,
    pub mount_path: String,
    /// A Kubernetes quantity, e.g. `1Gi`.
    pub size: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_mode: Option<String>,
}

fn main() -> String {
    "main".into()
}
fn root() -> String {
    ".".into()
}
fn production() -> String {
    "production".into()
}
fn auto() -> String {
    "auto".into()
}
fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn default_port() -> u16 {
    4200
}
fn default_cpu_target() -> u32 {
    80
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

impl ServiceSpec {
    /// A spec from a JSON document (a create body, or a patched spec), fully validated.
    pub fn from_json(value: Value) -> Result<Self, Error> {
        let spec: Self = crate::from_json(value)?;
        spec.validate()?;
        Ok(spec)
    }

    /// This spec with `patch` merged over it, validated.
    pub fn patched(&self, patch: &Value) -> Result<Self, Error> {
        if !patch.is_object() {
            return Err(Error::invalid("body", "must be a JSON object"));
        }
        let mut value = serde_json::to_value(self)
            .map_err(|e| Error::internal("serialising a service spec", e))?;
        merge_patch(&mut value, patch);
        Self::from_json(value)
    }

    pub fn validate(&self) -> Result<(), Error> {
        crate::service_rules::check(self)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(extra: Value) -> Result<ServiceSpec, Error> {
        let mut body = json!({"name": "api", "git_repo": "https://github.com/acme/shop"});
        merge_patch(&mut body, &extra);
        ServiceSpec::from_json(body)
    }

    #[test]
    fn defaults_match_the_original() {
        let s = spec(json!({})).unwrap();
        assert_eq!((s.port, s.replicas, s.auto_deploy), (4200, 1, true));
        assert_eq!((s.git_branch.as_str(), s.app_path.as_str()), ("main", "."));
        assert_eq!(s.auto_deploy_env, "production");
        assert_eq!(s.build_config.kind, "auto");
        assert_eq!(s.health_check.path, "/health");
        assert_eq!(
            (
                s.health_check.initial_delay_seconds,
                s.health_check.period_seconds
            ),
            (30, 10)
        );
        assert_eq!(s.resources.cpu_request, "100m");
        assert_eq!(s.resources.memory_limit, "512Mi");
    }

    #[test]
    fn patches_merge_nested_objects_and_are_revalidated() {
        let s = spec(json!({})).unwrap();
        let p = s
            .patched(&json!({"health_check": {"path": "/ready"}, "replicas": 3}))
            .unwrap();
        assert_eq!(p.health_check.path, "/ready");
        assert_eq!(p.health_check.period_seconds, 10, "untouched fields stay");
        assert_eq!(p.replicas, 3);
        let err = s.patched(&json!({"app_path": "../etc"})).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: Some(ref f), .. } if f == "app_path"));
        let err = s.patched(&json!({"nmae": "typo"})).unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { field: Some(ref f), .. } if f == "nmae"),
            "{err:?}"
        );
    }

    #[test]
    fn every_rule_names_its_field() {
        for (patch, field) in [
            (json!({"name": "Api"}), "name"),
            (json!({"name": "1api"}), "name"),
            (json!({"name": "a".repeat(64)}), "name"),
            (json!({"git_repo": "ftp://x/y"}), "git_repo"),
            (json!({"git_repo": "https://"}), "git_repo"),
            (json!({"git_repo": "https://x/y z"}), "git_repo"),
            (json!({"git_branch": "a..b"}), "git_branch"),
            (json!({"git_branch": "-x"}), "git_branch"),
            (json!({"git_branch": "x.lock"}), "git_branch"),
            (json!({"auto_deploy_branch": "a b"}), "auto_deploy_branch"),
            (json!({"app_path": "/abs"}), "app_path"),
            (json!({"app_path": "a/../../b"}), "app_path"),
            (json!({"watch_paths": ["ok", ".."]}), "watch_paths"),
            (json!({"auto_deploy_env": "a/b"}), "auto_deploy_env"),
            (
                json!({"build_config": {"type": "magic"}}),
                "build_config.type",
            ),
            (
                json!({"build_config": {"dockerfile": "../Dockerfile"}}),
                "build_config.dockerfile",
            ),
            (json!({"port": 0}), "port"),
            (json!({"port": 70000}), "port"),
            (json!({"replicas": 51}), "replicas"),
            (
                json!({"health_check": {"path": "health"}}),
                "health_check.path",
            ),
            (
                json!({"health_check": {"period_seconds": 0}}),
                "health_check.period_seconds",
            ),
            (
                json!({"health_check": {"timeout_seconds": 20}}),
                "health_check.timeout_seconds",
            ),
            (
                json!({"health_check": {"failure_threshold": 0}}),
                "health_check.failure_threshold",
            ),
            (
                json!({"resources": {"cpu_request": "lots"}}),
                "resources.cpu_request",
            ),
            (
                json!({"resources": {"cpu_request": "2"}}),
                "resources.cpu_request",
            ),
            (
                json!({"resources": {"memory_limit": "1Qi"}}),
                "resources.memory_limit",
            ),
            (
                json!({"resources": {"memory_request": "1Gi"}}),
                "resources.memory_request",
            ),
            (
                json!({"autoscaling": {"min_replicas": 3, "max_replicas": 2}}),
                "autoscaling",
            ),
            (
                json!({"autoscaling": {"min_replicas": 1, "max_replicas": 2, "target_cpu_percent": 0}}),
                "autoscaling.target_cpu_percent",
            ),
            (
                json!({"volumes": [{"name": "Data", "mount_path": "/d", "size": "1Gi"}]}),
                "volumes.name",
            ),
            (
                json!({"volumes": [{"name": "d", "mount_path": "d", "size": "1Gi"}]}),
                "volumes.mount_path",
            ),
            (
                json!({"volumes": [{"name": "d", "mount_path": "/d", "size": "big"}]}),
                "volumes.size",
            ),
            (
                json!({"volumes": [{"name": "d", "mount_path": "/d", "size": "1Gi", "access_mode": "x"}]}),
                "volumes.access_mode",
            ),
        ] {
            let err = spec(patch.clone()).unwrap_err();
            match err {
                Error::InvalidInput { field: Some(f), .. } => assert_eq!(f, field, "{patch}"),
                other => panic!("{patch}: {other:?}"),
            }
        }
        for ok in [
            json!({"git_repo": "git@github.com:acme/shop.git"}),
            json!({"git_branch": "feature/x-1"}),
            json!({"resources": {"cpu_request": "0.25", "cpu_limit": "1"}}),
            json!({"autoscaling": {"min_replicas": 1, "max_replicas": 5}}),
            json!({"volumes": [{"name": "data", "mount_path": "/data", "size": "5Gi"}]}),
        ] {
            assert!(spec(ok.clone()).is_ok(), "{ok}");
        }
    }
}
