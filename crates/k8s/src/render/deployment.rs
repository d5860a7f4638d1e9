//! The Deployment `{service}`: replicas honoured (unless autoscaled), the original's immutable
//! selector, labels and annotations, and a pod template whose checksum annotation rolls the pods
//! when any variable changes.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment},
        core::v1::{
            LocalObjectReference, PodSecurityContext, PodSpec, PodTemplateSpec, SeccompProfile,
        },
    },
    apimachinery::pkg::{
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};
use time::format_description::well_known::Rfc3339;

use super::{Context, container::container, object, volumes};
use crate::{
    Object, RenderError, config_checksum,
    labels::{
        CONFIG_CHECKSUM_ANNOTATION, DEPLOYMENT_LABEL, DEPLOYMENT_TIME_ANNOTATION,
        GIT_SHA_ANNOTATION, RELEASE_LABEL, VERSION_LABEL,
    },
    names,
};

pub(super) fn deployment(cx: &Context<'_>) -> Result<Object, RenderError> {
    let input = cx.input;
    let labels = workload_labels(cx)?;
    let git_sha = (
        GIT_SHA_ANNOTATION.to_owned(),
        input.release.git_sha.to_owned(),
    );
    let deployed_at =
        input
            .deployment
            .created_at
            .format(&Rfc3339)
            .map_err(|_| RenderError::OutOfRange {
                field: "deployment.created_at",
                value: input.deployment.created_at.to_string(),
            })?;
    let replicas =
        match input.service.spec.autoscaling {
            // The HorizontalPodAutoscaler owns the count; applying one would fight it.
            Some(_) => None,
            None => Some(i32::try_from(input.deployment.replicas).map_err(|_| {
                RenderError::OutOfRange {
                    field: "deployment.replicas",
                    value: input.deployment.replicas.to_string(),
                }
            })?),
        };
    let pull_secrets = match &input.settings.registry_pull_secret {
        Some(name) => {
            names::dns_subdomain("registry pull secret", name)?;
            Some(vec![LocalObjectReference { name: name.clone() }])
        }
        None => None,
    };
    let pod = PodSpec {
        containers: vec![container(cx)?],
        image_pull_secrets: pull_secrets,
        restart_policy: Some("Always".into()),
        termination_grace_period_seconds: Some(30),
        security_context: Some(PodSecurityContext {
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..SeccompProfile::default()
            }),
            ..PodSecurityContext::default()
        }),
        volumes: volumes::pod_volumes(cx)?,
        ..PodSpec::default()
    };
    let quarter = || Some(IntOrString::String("25%".into()));
    object(&Deployment {
        metadata: ObjectMeta {
            labels: Some(labels.clone()),
            annotations: Some(BTreeMap::from([
                git_sha.clone(),
                (DEPLOYMENT_TIME_ANNOTATION.to_owned(), deployed_at),
            ])),
            ..cx.meta(cx.name)
        },
        spec: Some(DeploymentSpec {
            replicas,
            selector: LabelSelector {
                match_labels: Some(cx.selector()),
                ..LabelSelector::default()
            },
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: quarter(),
                    max_unavailable: quarter(),
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([
                        git_sha,
                        (
                            CONFIG_CHECKSUM_ANNOTATION.to_owned(),
                            config_checksum(input.env, input.secrets),
                        ),
                    ])),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    })
}

/// The service labels plus `version`, `enclii.dev/release` and `enclii.dev/deployment`: on the
/// Deployment and its pods only, so other objects are not rewritten by every deploy.
fn workload_labels(cx: &Context<'_>) -> Result<BTreeMap<String, String>, RenderError> {
    let input = cx.input;
    names::label_value(VERSION_LABEL, input.release.version)?;
    let mut labels = cx.labels.clone();
    labels.extend([
        (VERSION_LABEL.to_owned(), input.release.version.to_owned()),
        (RELEASE_LABEL.to_owned(), input.release.id.to_string()),
        (DEPLOYMENT_LABEL.to_owned(), input.deployment.id.to_string()),
    ]);
    Ok(labels)
}
