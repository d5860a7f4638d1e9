//! The HorizontalPodAutoscaler `{service}` (autoscaling/v2, CPU utilisation), only when the
//! service sets `autoscaling`. The Deployment then leaves `replicas` to it.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};

use super::{Context, object};
use crate::{Object, RenderError};

pub(super) fn autoscaler(cx: &Context<'_>) -> Result<Option<Object>, RenderError> {
    let Some(a) = &cx.input.service.spec.autoscaling else {
        return Ok(None);
    };
    let int = |field, value: u32| {
        i32::try_from(value).map_err(|_| RenderError::OutOfRange {
            field,
            value: value.to_string(),
        })
    };
    object(&HorizontalPodAutoscaler {
        metadata: cx.meta(cx.name),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: cx.name.to_owned(),
            },
            min_replicas: Some(int("autoscaling.min_replicas", a.min_replicas)?),
            max_replicas: int("autoscaling.max_replicas", a.max_replicas)?,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(int(
                            "autoscaling.target_cpu_percent",
                            a.target_cpu_percent,
                        )?),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    })
    .map(Some)
}
