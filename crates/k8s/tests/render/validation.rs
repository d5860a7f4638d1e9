//! Inputs that would make an invalid object are refused with a `RenderError` naming the culprit.

use secrecy::SecretString;
use switchyard_k8s::{DomainBinding, RenderError, render};

use crate::fixtures;

fn error(fixture: &fixtures::Fixture) -> RenderError {
    render(&fixture.input()).unwrap_err()
}

#[test]
fn names_kubernetes_would_refuse_are_errors() {
    let mut long = fixtures::full();
    long.spec.name = "a".repeat(63);
    long.domains = vec![DomainBinding {
        host: format!("{}.example.com", "b".repeat(190)),
        tls: true,
    }];
    assert!(
        matches!(
            error(&long),
            RenderError::InvalidName {
                what: "TLS secret name",
                ..
            }
        ),
        "a 63-character service plus a long host overflows 253 characters"
    );
    let mut service = fixtures::minimal();
    service.spec.name = "Web".into();
    assert!(matches!(
        error(&service),
        RenderError::InvalidName {
            what: "service name",
            ..
        }
    ));
    let mut namespace = fixtures::minimal();
    namespace.namespace = "enclii_shop".into();
    assert!(matches!(
        error(&namespace),
        RenderError::InvalidName {
            what: "namespace",
            ..
        }
    ));
    let mut wildcard = fixtures::minimal();
    wildcard.domains = vec![DomainBinding {
        host: "*.example.com".into(),
        tls: true,
    }];
    assert!(matches!(
        error(&wildcard),
        RenderError::InvalidName { what: "domain", .. }
    ));
    let mut version = fixtures::minimal();
    version.version = "v1 beta".into();
    assert!(matches!(
        error(&version),
        RenderError::InvalidLabelValue { key: "version", .. }
    ));
    let mut image = fixtures::minimal();
    image.image = String::new();
    assert!(matches!(error(&image), RenderError::InvalidImage { .. }));
    let mut class = fixtures::minimal();
    class.domains = fixtures::bare().domains;
    class.settings.ingress_class = "Traefik!".into();
    assert!(matches!(
        error(&class),
        RenderError::InvalidName {
            what: "ingress class",
            ..
        }
    ));
}

#[test]
fn variables_must_be_named_well_and_not_both_plain_and_secret() {
    let mut bad = fixtures::minimal();
    bad.env.insert("MY-VAR".into(), "x".into());
    assert!(matches!(error(&bad), RenderError::InvalidVariableName { name } if name == "MY-VAR"));
    let mut both = fixtures::full();
    both.env.insert("STRIPE_KEY".into(), "x".into());
    let err = error(&both);
    assert!(matches!(&err, RenderError::DuplicateVariable { name } if name == "STRIPE_KEY"));
    assert!(
        !err.to_string().contains("sk_test"),
        "errors never carry values"
    );
    let mut secret = fixtures::minimal();
    secret
        .secrets
        .insert("1KEY".into(), SecretString::from("x"));
    assert!(matches!(
        error(&secret),
        RenderError::InvalidVariableName { .. }
    ));
}

#[test]
fn quantities_kubernetes_would_refuse_are_errors() {
    let mut cpu = fixtures::minimal();
    cpu.spec.resources.cpu_limit = "lots".into();
    assert!(matches!(
        error(&cpu),
        RenderError::InvalidQuantity {
            field: "resources.cpu_limit",
            ..
        }
    ));
    let mut size = fixtures::full();
    size.spec.volumes[0].size = "5GB".into();
    assert!(matches!(
        error(&size),
        RenderError::InvalidQuantity {
            field: "volumes.size",
            ..
        }
    ));
}
