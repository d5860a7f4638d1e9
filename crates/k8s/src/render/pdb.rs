//! The PodDisruptionBudget `{service}` (minAvailable 1), only when more than one pod runs: with
//! one pod it would block every node drain.

use k8s_openapi::{
    api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec},
    apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString},
};

use super::{Context, object};
use crate::{Object, RenderError};

/// Wanted when the deployment runs more than one replica, or, when autoscaled, when the
/// autoscaler never goes below two.
pub(super) fn budget(cx: &Context<'_>) -> Result<Option<Object>, RenderError> {
    let floor = match &cx.input.service.spec.autoscaling {
        Some(autoscaling) => autoscaling.min_replicas,
        None => cx.input.deployment.replicas,
    };
    if floor <= 1 {
        return Ok(None);
    }
    object(&PodDisruptionBudget {
        metadata: cx.meta(cx.name),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(cx.selector()),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    })
    .map(Some)
}
