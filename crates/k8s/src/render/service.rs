//! The ClusterIP Service `{service}`: port `http` 80 → the container's `http` port.

use k8s_openapi::{
    api::core::v1::{Service, ServicePort, ServiceSpec},
    apimachinery::pkg::util::intstr::IntOrString,
};

use super::{Context, object};
use crate::{Object, RenderError};

/// The port the Service (and so the Ingress and the tunnel) uses.
pub(super) const SERVICE_PORT: i32 = 80;

pub(super) fn service(cx: &Context<'_>) -> Result<Object, RenderError> {
    object(&Service {
        metadata: cx.meta(cx.name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(cx.selector()),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: SERVICE_PORT,
                target_port: Some(IntOrString::String("http".into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    })
}
