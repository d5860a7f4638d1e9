//! `render`: every object of one deployment (DESIGN.md §11), in apply order. Each kind has its
//! own module; this one validates the shared inputs once and hands each module a `Context`.

mod container;
mod deployment;
mod hpa;
mod ingress;
mod namespace;
mod network;
mod pdb;
mod secret;
mod service;
mod volumes;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub use namespace::namespace_object;

use crate::{Desired, Object, RenderError, RenderInput, labels, names};

/// Every object the deployment needs, in apply order: Namespace, NetworkPolicies (before any
/// pod exists), PersistentVolumeClaims, Secret, Deployment, Service, Ingress,
/// PodDisruptionBudget, HorizontalPodAutoscaler. Optional objects appear only when wanted.
/// Deterministic: the same input gives byte-identical YAML.
pub fn render(input: &RenderInput<'_>) -> Result<Desired, RenderError> {
    let cx = Context::new(input)?;
    let mut objects = vec![namespace_object(&input.project, &input.environment)?];
    objects.extend(network::policies(&cx)?);
    objects.extend(volumes::claims(&cx)?);
    objects.extend(secret::secret(&cx)?);
    objects.push(deployment::deployment(&cx)?);
    objects.push(service::service(&cx)?);
    objects.extend(ingress::ingress(&cx)?);
    objects.extend(pdb::budget(&cx)?);
    objects.extend(hpa::autoscaler(&cx)?);
    Ok(Desired {
        objects,
        namespace: cx.namespace.to_owned(),
        service: cx.name.to_owned(),
    })
}

/// The validated pieces every object module uses.
struct Context<'a> {
    input: &'a RenderInput<'a>,
    /// The service name: names the Deployment, the Service, the container and prefixes the rest.
    name: &'a str,
    namespace: &'a str,
    /// The container port.
    port: i32,
    /// `service_labels`: selector + project + managed-by.
    labels: BTreeMap<String, String>,
}

impl<'a> Context<'a> {
    fn new(input: &'a RenderInput<'a>) -> Result<Self, RenderError> {
        let name = input.service.spec.name.as_str();
        names::dns1035_label("service name", name)?;
        let namespace = input.environment.namespace;
        names::dns_label("namespace", namespace)?;
        let project = input.project.id.to_string();
        Ok(Self {
            input,
            name,
            namespace,
            port: i32::from(input.service.spec.port),
            labels: labels::service_labels(name, &project),
        })
    }

    /// Metadata of an object in the service's namespace with the service labels.
    fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(self.namespace.to_owned()),
            labels: Some(self.labels.clone()),
            ..ObjectMeta::default()
        }
    }

    /// `{service}-{suffix}`, checked as an object name (a DNS subdomain).
    fn child_name(&self, what: &'static str, suffix: &str) -> Result<String, RenderError> {
        let name = format!("{}-{suffix}", self.name);
        names::dns_subdomain(what, &name)?;
        Ok(name)
    }

    fn selector(&self) -> BTreeMap<String, String> {
        labels::selector_labels(self.name)
    }
}

/// An `Object` from a typed resource (shared by every module).
fn object<K>(resource: &K) -> Result<Object, RenderError>
where
    K: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + serde::Serialize,
{
    Object::from_resource(resource)
}
