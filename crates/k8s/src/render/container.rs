//! The one container of a service's pods: image, port `http`, environment (injected variables,
//! then the user's sorted by name), resources, probes and a security context that any image
//! survives.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::{
    api::core::v1::{
        Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction, Probe, ResourceRequirements,
        SecretKeySelector, SecurityContext, VolumeMount,
    },
    apimachinery::pkg::{api::resource::Quantity, util::intstr::IntOrString},
};

use super::{Context, secret::secret_name};
use crate::{RenderError, names, quantity};

/// Variables we set on every container. A user variable with one of these names is ignored:
/// `PORT` must match the port the probes and the Service use.
pub(super) const INJECTED: [&str; 5] = [
    "ENCLII_SERVICE_NAME",
    "ENCLII_PROJECT_ID",
    "ENCLII_RELEASE_VERSION",
    "ENCLII_DEPLOYMENT_ID",
    "PORT",
];

pub(super) fn container(cx: &Context<'_>) -> Result<Container, RenderError> {
    let image = cx.input.release.image;
    if image.is_empty() || image.chars().any(char::is_whitespace) {
        return Err(RenderError::InvalidImage {
            image: image.to_owned(),
        });
    }
    let probes = probes(cx);
    Ok(Container {
        name: cx.name.to_owned(),
        image: Some(image.to_owned()),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: cx.port,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: Some(env(cx)?),
        resources: Some(resources(cx)?),
        liveness_probe: probes.as_ref().map(|p| p.0.clone()),
        readiness_probe: probes.map(|p| p.1),
        // No runAsNonRoot or read-only root: user images may run as root or write to their
        // file system. Refusing privilege escalation breaks only setuid tricks.
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            ..SecurityContext::default()
        }),
        volume_mounts: mounts(cx),
        ..Container::default()
    })
}

/// The injected variables, then the plain and secret ones sorted by name.
fn env(cx: &Context<'_>) -> Result<Vec<EnvVar>, RenderError> {
    let input = cx.input;
    let plain = |name: &str, value: String| EnvVar {
        name: name.to_owned(),
        value: Some(value),
        value_from: None,
    };
    let mut vars = vec![
        plain(INJECTED[0], cx.name.to_owned()),
        plain(INJECTED[1], input.project.id.to_string()),
        plain(INJECTED[2], input.release.version.to_owned()),
        plain(INJECTED[3], input.deployment.id.to_string()),
        plain(INJECTED[4], cx.port.to_string()),
    ];
    let secret = secret_name(cx)?;
    let names: BTreeSet<&String> = input.env.keys().chain(input.secrets.keys()).collect();
    for name in names {
        names::variable(name)?;
        if INJECTED.contains(&name.as_str()) {
            continue;
        }
        match (input.env.get(name), input.secrets.contains_key(name)) {
            (Some(_), true) => {
                return Err(RenderError::DuplicateVariable { name: name.clone() });
            }
            (Some(value), false) => vars.push(plain(name, value.clone())),
            (None, _) => vars.push(EnvVar {
                name: name.clone(),
                value: None,
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: secret.clone(),
                        key: name.clone(),
                        optional: None,
                    }),
                    ..EnvVarSource::default()
                }),
            }),
        }
    }
    Ok(vars)
}

fn resources(cx: &Context<'_>) -> Result<ResourceRequirements, RenderError> {
    let r = &cx.input.service.spec.resources;
    let pair = |cpu: &str, cpu_field, memory: &str, memory_field| {
        Ok::<_, RenderError>(BTreeMap::from([
            ("cpu".to_owned(), Quantity(quantity::cpu(cpu_field, cpu)?)),
            (
                "memory".to_owned(),
                Quantity(quantity::bytes(memory_field, memory)?),
            ),
        ]))
    };
    Ok(ResourceRequirements {
        requests: Some(pair(
            &r.cpu_request,
            "resources.cpu_request",
            &r.memory_request,
            "resources.memory_request",
        )?),
        limits: Some(pair(
            &r.cpu_limit,
            "resources.cpu_limit",
            &r.memory_limit,
            "resources.memory_limit",
        )?),
        ..ResourceRequirements::default()
    })
}

/// (liveness, readiness), both HTTP GET on the `http` port; `None` when health checks are
/// disabled. `ServiceSpec` has one period/timeout/threshold for both; readiness has its own
/// initial delay and path.
fn probes(cx: &Context<'_>) -> Option<(Probe, Probe)> {
    let h = &cx.input.service.spec.health_check;
    if h.disabled {
        return None;
    }
    let probe = |path: &str, initial_delay: u32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String("http".into()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(clamp(initial_delay)),
        period_seconds: Some(clamp(h.period_seconds)),
        timeout_seconds: Some(clamp(h.timeout_seconds)),
        failure_threshold: Some(clamp(h.failure_threshold)),
        ..Probe::default()
    };
    Some((
        probe(
            h.liveness_path.as_deref().unwrap_or(&h.path),
            h.initial_delay_seconds,
        ),
        probe(
            h.readiness_path.as_deref().unwrap_or(&h.path),
            h.readiness_initial_delay_seconds,
        ),
    ))
}

/// Probe timings are validated to at most an hour by the domain; saturate rather than wrap.
fn clamp(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn mounts(cx: &Context<'_>) -> Option<Vec<VolumeMount>> {
    let volumes = &cx.input.service.spec.volumes;
    (!volumes.is_empty()).then(|| {
        volumes
            .iter()
            .map(|v| VolumeMount {
                name: v.name.clone(),
                mount_path: v.mount_path.clone(),
                ..VolumeMount::default()
            })
            .collect()
    })
}
