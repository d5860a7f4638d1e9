//! The Ingress `{service}` for verified custom domains: one rule per host (sorted), `/` Prefix →
//! the Service's port 80, TLS from cert-manager for hosts that want it.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use super::{Context, object, service::SERVICE_PORT};
use crate::{Object, RenderError, names};

const ISSUER_ANNOTATION: &str = "cert-manager.io/cluster-issuer";

/// `None` without domains. Hosts are lower-cased and deduplicated (a host listed twice is TLS
/// when either entry is); wildcards are refused (a verified domain names one host).
pub(super) fn ingress(cx: &Context<'_>) -> Result<Option<Object>, RenderError> {
    let mut hosts: BTreeMap<String, bool> = BTreeMap::new();
    for domain in cx.input.domains {
        let host = domain.host.to_ascii_lowercase();
        names::dns_subdomain("domain", &host)?;
        *hosts.entry(host).or_default() |= domain.tls;
    }
    if hosts.is_empty() {
        return Ok(None);
    }
    let settings = cx.input.settings;
    names::dns_subdomain("ingress class", &settings.ingress_class)?;
    let tls: Vec<IngressTLS> = hosts
        .iter()
        .filter(|(_, tls)| **tls)
        .map(|(host, _)| {
            Ok(IngressTLS {
                hosts: Some(vec![host.clone()]),
                secret_name: Some(cx.child_name(
                    "TLS secret name",
                    &format!("{}-tls", host.replace('.', "-")),
                )?),
            })
        })
        .collect::<Result<_, RenderError>>()?;
    let mut meta = cx.meta(cx.name);
    if let Some(issuer) = settings.cert_issuer.as_ref().filter(|_| !tls.is_empty()) {
        meta.annotations = Some(BTreeMap::from([(
            ISSUER_ANNOTATION.to_owned(),
            issuer.clone(),
        )]));
    }
    let rules = hosts
        .keys()
        .map(|host| IngressRule {
            host: Some(host.clone()),
            http: Some(HTTPIngressRuleValue {
                paths: vec![HTTPIngressPath {
                    path: Some("/".into()),
                    path_type: "Prefix".into(),
                    backend: IngressBackend {
                        service: Some(IngressServiceBackend {
                            name: cx.name.to_owned(),
                            port: Some(ServiceBackendPort {
                                number: Some(SERVICE_PORT),
                                name: None,
                            }),
                        }),
                        resource: None,
                    },
                }],
            }),
        })
        .collect();
    object(&Ingress {
        metadata: meta,
        spec: Some(IngressSpec {
            ingress_class_name: Some(settings.ingress_class.clone()),
            tls: (!tls.is_empty()).then_some(tls),
            rules: Some(rules),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    })
    .map(Some)
}
