//! The NetworkPolicies `{service}-ingress` and `{service}-egress`.
//!
//! Ingress: the container port, from the ingress/tunnel namespaces of the settings and from the
//! service's own namespace. Egress: DNS (kube-system, 53 UDP and TCP), anything in the own
//! namespace, the settings' shared namespaces on their ports, and TCP 443 to any address. The
//! last is a product decision: apps call payment, mail and storage APIs over HTTPS, and the
//! original's "no public egress" broke them; plain HTTP, SMTP and other ports stay closed.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::{
    api::networking::v1::{
        IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule,
        NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
    },
    apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString},
};

use super::{Context, object};
use crate::{Object, RenderError, names};

/// The label every namespace carries with its own name (Kubernetes sets it).
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

pub(super) fn policies(cx: &Context<'_>) -> Result<Vec<Object>, RenderError> {
    Ok(vec![ingress(cx)?, egress(cx)?])
}

fn ingress(cx: &Context<'_>) -> Result<Object, RenderError> {
    let mut from = namespaces(cx, cx.input.settings.ingress_namespaces.iter())?;
    from.push(own_namespace());
    policy(
        cx,
        "ingress",
        NetworkPolicySpec {
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(from),
                ports: Some(vec![port("TCP", cx.port)]),
            }]),
            ..NetworkPolicySpec::default()
        },
    )
}

fn egress(cx: &Context<'_>) -> Result<Object, RenderError> {
    let mut dns = namespace_peer("kube-system");
    dns.pod_selector = Some(match_labels([("k8s-app", "kube-dns")]));
    let mut rules = vec![
        NetworkPolicyEgressRule {
            to: Some(vec![dns]),
            ports: Some(vec![port("UDP", 53), port("TCP", 53)]),
        },
        NetworkPolicyEgressRule {
            to: Some(vec![own_namespace()]),
            ports: None,
        },
    ];
    for target in &cx.input.settings.egress_targets {
        names::dns_label("egress namespace", &target.namespace)?;
        let ports: BTreeSet<u16> = target.ports.iter().copied().collect();
        rules.push(NetworkPolicyEgressRule {
            to: Some(vec![namespace_peer(&target.namespace)]),
            ports: Some(ports.into_iter().map(|p| port("TCP", p.into())).collect()),
        });
    }
    rules.push(NetworkPolicyEgressRule {
        to: Some(
            ["0.0.0.0/0", "::/0"]
                .map(|cidr| NetworkPolicyPeer {
                    ip_block: Some(IPBlock {
                        cidr: cidr.into(),
                        except: None,
                    }),
                    ..NetworkPolicyPeer::default()
                })
                .into(),
        ),
        ports: Some(vec![port("TCP", 443)]),
    });
    policy(
        cx,
        "egress",
        NetworkPolicySpec {
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(rules),
            ..NetworkPolicySpec::default()
        },
    )
}

fn policy(cx: &Context<'_>, suffix: &str, spec: NetworkPolicySpec) -> Result<Object, RenderError> {
    object(&NetworkPolicy {
        metadata: cx.meta(&cx.child_name("network policy name", suffix)?),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(cx.selector()),
                ..LabelSelector::default()
            }),
            ..spec
        }),
    })
}

/// One peer per namespace, sorted and deduplicated, leaving out the own namespace (it has its
/// own peer).
fn namespaces<'s>(
    cx: &Context<'_>,
    names: impl Iterator<Item = &'s String>,
) -> Result<Vec<NetworkPolicyPeer>, RenderError> {
    let mut set = BTreeSet::new();
    for name in names {
        names::dns_label("ingress namespace", name)?;
        if name != cx.namespace {
            set.insert(name.as_str());
        }
    }
    Ok(set.into_iter().map(namespace_peer).collect())
}

fn namespace_peer(name: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(match_labels([(NAMESPACE_NAME_LABEL, name)])),
        ..NetworkPolicyPeer::default()
    }
}

/// Every pod of the policy's own namespace (an empty pod selector without a namespace selector).
fn own_namespace() -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector::default()),
        ..NetworkPolicyPeer::default()
    }
}

fn match_labels<const N: usize>(pairs: [(&str, &str); N]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..LabelSelector::default()
    }
}

fn port(protocol: &str, number: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        protocol: Some(protocol.into()),
        port: Some(IntOrString::Int(number)),
        end_port: None,
    }
}
