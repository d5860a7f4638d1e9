//! What each rendered object must say: the original's labels and selector, replicas, variables
//! (secret values only inside the Secret), optional objects only when wanted.

use std::collections::BTreeMap;

use base64::Engine;
use secrecy::SecretString;
use serde_json::{Value, json};
use switchyard_k8s::{CONFIG_CHECKSUM_ANNOTATION, REDACTED, selector_labels};

use crate::{body, fixtures, rendered};

fn kinds(fixture: &fixtures::Fixture) -> Vec<String> {
    rendered(fixture)
        .objects
        .iter()
        .map(|o| format!("{}/{}", o.kind, o.name))
        .collect()
}

#[test]
fn objects_come_in_apply_order_and_optional_ones_only_when_wanted() {
    assert_eq!(
        kinds(&fixtures::minimal()),
        [
            "Namespace/enclii-shop-production",
            "NetworkPolicy/web-ingress",
            "NetworkPolicy/web-egress",
            "Deployment/web",
            "Service/web",
        ]
    );
    assert_eq!(
        kinds(&fixtures::full()),
        [
            "Namespace/enclii-shop-production",
            "NetworkPolicy/api-ingress",
            "NetworkPolicy/api-egress",
            "PersistentVolumeClaim/api-data",
            "PersistentVolumeClaim/api-uploads",
            "Secret/api-secrets",
            "Deployment/api",
            "Service/api",
            "Ingress/api",
            "PodDisruptionBudget/api",
        ]
    );
    assert_eq!(
        kinds(&fixtures::autoscaled())[3..],
        [
            "Deployment/worker",
            "Service/worker",
            "PodDisruptionBudget/worker",
            "HorizontalPodAutoscaler/worker",
        ]
    );
}

#[test]
fn deployment_carries_the_original_labels_and_immutable_selector() {
    let fixture = fixtures::full();
    let desired = rendered(&fixture);
    let deployment = body(&desired, "Deployment", "api");
    let labels: BTreeMap<String, String> =
        serde_json::from_value(deployment["metadata"]["labels"].clone()).unwrap();
    let input = fixture.input();
    assert_eq!(
        labels,
        BTreeMap::from(
            [
                ("app", "api".to_owned()),
                ("version", fixture.version.clone()),
                ("enclii.dev/service", "api".to_owned()),
                ("enclii.dev/project", input.project.id.to_string()),
                ("enclii.dev/release", input.release.id.to_string()),
                ("enclii.dev/deployment", input.deployment.id.to_string()),
                ("enclii.dev/managed-by", "switchyard".to_owned()),
            ]
            .map(|(k, v)| (k.to_owned(), v))
        )
    );
    assert_eq!(
        deployment["spec"]["selector"],
        json!({"matchLabels": {"app": "api", "enclii.dev/service": "api"}}),
        "only the original's two keys: the selector is immutable"
    );
    assert_eq!(
        serde_json::to_value(selector_labels("api")).unwrap(),
        deployment["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["labels"],
        deployment["metadata"]["labels"]
    );
    let annotations = &deployment["metadata"]["annotations"];
    assert_eq!(annotations["enclii.dev/git-sha"], input.release.git_sha);
    assert_eq!(
        annotations["enclii.dev/deployment-time"],
        "2026-01-02T03:04:05Z"
    );
    for (kind, name) in [
        ("Service", "api"),
        ("Secret", "api-secrets"),
        ("NetworkPolicy", "api-egress"),
    ] {
        let labels = &body(&desired, kind, name)["metadata"]["labels"];
        assert_eq!(labels["enclii.dev/managed-by"], "switchyard", "{kind}");
        assert_eq!(labels["enclii.dev/service"], "api", "{kind}");
        assert!(
            labels.get("enclii.dev/deployment").is_none(),
            "{kind} must not change per deploy"
        );
    }
    let namespace = &body(&desired, "Namespace", "enclii-shop-production")["metadata"]["labels"];
    assert_eq!(
        namespace["enclii.dev/project"],
        input.project.id.to_string()
    );
    assert_eq!(
        namespace["enclii.dev/environment"],
        input.environment.id.to_string()
    );
    assert_eq!(namespace["enclii.dev/managed-by"], "switchyard");
}

#[test]
fn replicas_are_honoured_unless_an_autoscaler_owns_them() {
    let full = rendered(&fixtures::full());
    assert_eq!(body(&full, "Deployment", "api")["spec"]["replicas"], 3);
    let bare = rendered(&fixtures::bare());
    assert_eq!(body(&bare, "Deployment", "legacy")["spec"]["replicas"], 0);
    let scaled = rendered(&fixtures::autoscaled());
    assert!(
        body(&scaled, "Deployment", "worker")["spec"]
            .get("replicas")
            .is_none()
    );
    let hpa = body(&scaled, "HorizontalPodAutoscaler", "worker");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(
        (
            hpa["spec"]["minReplicas"].clone(),
            hpa["spec"]["maxReplicas"].clone()
        ),
        (json!(2), json!(5))
    );
    assert_eq!(
        hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        70
    );
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "worker");
}

#[test]
fn a_budget_only_when_more_than_one_pod_runs() {
    for (replicas, wanted) in [(0, false), (1, false), (2, true), (3, true)] {
        let mut fixture = fixtures::minimal();
        fixture.replicas = replicas;
        let desired = rendered(&fixture);
        assert_eq!(
            desired.get("PodDisruptionBudget", "web").is_some(),
            wanted,
            "{replicas}"
        );
    }
    let mut fixture = fixtures::autoscaled();
    fixture.spec.autoscaling.as_mut().unwrap().min_replicas = 1;
    assert!(
        rendered(&fixture)
            .get("PodDisruptionBudget", "worker")
            .is_none(),
        "autoscaler may go to one pod"
    );
    let pdb = rendered(&fixtures::full());
    assert_eq!(
        body(&pdb, "PodDisruptionBudget", "api")["spec"]["minAvailable"],
        1
    );
}

#[test]
fn variables_are_injected_then_sorted_and_secrets_are_references() {
    let fixture = fixtures::full();
    let desired = rendered(&fixture);
    let container =
        &body(&desired, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0];
    let names: Vec<&str> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ENCLII_SERVICE_NAME",
            "ENCLII_PROJECT_ID",
            "ENCLII_RELEASE_VERSION",
            "ENCLII_DEPLOYMENT_ID",
            "PORT",
            "A_FIRST",
            "DATABASE_URL",
            "LOG_LEVEL",
            "STRIPE_KEY",
        ],
        "the user's PORT is dropped: the injected one matches the container port"
    );
    assert_eq!(container["env"][4]["value"], "8080");
    assert_eq!(
        container["env"][6],
        json!({"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "api-secrets", "key": "DATABASE_URL"}}})
    );
    assert_eq!(
        container["ports"],
        json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}])
    );
    assert_eq!(
        container["resources"]["requests"]["cpu"], "250m",
        "canonical quantities"
    );
    assert_eq!(container["resources"]["limits"]["cpu"], "1");
    assert_eq!(container["resources"]["limits"]["memory"], "1Gi");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/livez");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(
        container["securityContext"],
        json!({"allowPrivilegeEscalation": false})
    );
    let pod = &body(&desired, "Deployment", "api")["spec"]["template"]["spec"];
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(
        pod["imagePullSecrets"],
        json!([{"name": "enclii-registry-credentials"}])
    );
    assert!(
        pod["securityContext"].get("runAsNonRoot").is_none(),
        "user images may run as root"
    );
}

#[test]
fn secret_values_appear_only_in_the_secret_and_change_the_checksum() {
    let fixture = fixtures::full();
    let desired = rendered(&fixture);
    let value = "postgres://shop:hunter2-not-real@db/shop";
    let encoded = base64::engine::general_purpose::STANDARD.encode(value);
    for object in &desired.objects {
        let yaml = object.to_yaml();
        assert!(
            !yaml.contains("hunter2"),
            "{} {} holds the value",
            object.kind,
            object.name
        );
        assert_eq!(
            yaml.contains(&encoded),
            object.kind == "Secret",
            "{}",
            object.kind
        );
        assert!(!object.redacted().to_yaml().contains(&encoded));
    }
    let secret = body(&desired, "Secret", "api-secrets");
    assert_eq!(secret["type"], "Opaque");
    assert_eq!(secret["data"]["DATABASE_URL"], encoded);
    let redacted = desired.get("Secret", "api-secrets").unwrap().redacted();
    assert_eq!(redacted.body["data"]["DATABASE_URL"], REDACTED);
    assert!(!format!("{desired:?}").contains(&encoded), "Debug redacts");

    let checksum = |fixture: &fixtures::Fixture| -> Value {
        body(&rendered(fixture), "Deployment", "api")["spec"]["template"]["metadata"]["annotations"]
            [CONFIG_CHECKSUM_ANNOTATION]
            .clone()
    };
    let before = checksum(&fixture);
    assert_eq!(before.as_str().unwrap().len(), 64);
    let mut rotated = fixtures::full();
    rotated.secrets.insert(
        "DATABASE_URL".into(),
        SecretString::from("postgres://shop:new@db/shop"),
    );
    assert_ne!(
        before,
        checksum(&rotated),
        "a new secret value rolls the pods"
    );
    let mut plain = fixtures::full();
    plain.env.insert("LOG_LEVEL".into(), "debug".into());
    assert_ne!(before, checksum(&plain));
    assert_eq!(before, checksum(&fixtures::full()));
}

#[test]
fn no_secret_object_without_secret_variables() {
    let desired = rendered(&fixtures::minimal());
    assert!(desired.objects.iter().all(|o| o.kind != "Secret"));
}

#[test]
fn an_ingress_only_with_domains_sorted_with_tls_where_asked() {
    assert!(
        rendered(&fixtures::minimal())
            .get("Ingress", "web")
            .is_none()
    );
    let desired = rendered(&fixtures::full());
    let ingress = body(&desired, "Ingress", "api");
    assert_eq!(ingress["spec"]["ingressClassName"], "traefik");
    assert_eq!(
        ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
        "letsencrypt-prod"
    );
    let hosts: Vec<&str> = ingress["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        [
            "internal.example.com",
            "shop.example.com",
            "www.example.com"
        ]
    );
    assert_eq!(
        ingress["spec"]["tls"],
        json!([
            {"hosts": ["shop.example.com"], "secretName": "api-shop-example-com-tls"},
            {"hosts": ["www.example.com"], "secretName": "api-www-example-com-tls"},
        ])
    );
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0],
        json!({"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 80}}}})
    );
    let bare = rendered(&fixtures::bare());
    let plain = body(&bare, "Ingress", "legacy");
    assert!(
        plain["metadata"].get("annotations").is_none(),
        "no issuer without TLS"
    );
    assert!(plain["spec"].get("tls").is_none());
}

#[test]
fn network_policies_admit_the_ingress_namespaces_and_allow_dns_and_https_out() {
    let desired = rendered(&fixtures::minimal());
    let ingress = body(&desired, "NetworkPolicy", "web-ingress");
    assert_eq!(
        ingress["spec"]["podSelector"]["matchLabels"],
        json!({"app": "web", "enclii.dev/service": "web"})
    );
    let from = &ingress["spec"]["ingress"][0]["from"];
    let namespaces: Vec<&str> = from
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str()
        })
        .collect();
    assert_eq!(
        namespaces,
        ["cloudflare-tunnel", "ingress-nginx", "kube-system"]
    );
    assert!(
        from.as_array()
            .unwrap()
            .contains(&json!({"podSelector": {}})),
        "own namespace"
    );
    assert_eq!(
        ingress["spec"]["ingress"][0]["ports"],
        json!([{"protocol": "TCP", "port": 4200}])
    );
    let egress = &body(&desired, "NetworkPolicy", "web-egress")["spec"]["egress"];
    assert_eq!(
        egress[0]["ports"],
        json!([{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}])
    );
    assert_eq!(
        egress[2]["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "data"
    );
    assert_eq!(
        egress[3]["ports"],
        json!([{"protocol": "TCP", "port": 443}])
    );
    assert_eq!(egress[3]["to"][0]["ipBlock"]["cidr"], "0.0.0.0/0");
}

#[test]
fn disabled_health_checks_leave_no_probes_and_volumes_become_claims() {
    let bare = rendered(&fixtures::bare());
    let pod = &body(&bare, "Deployment", "legacy")["spec"]["template"]["spec"];
    assert!(pod["containers"][0].get("livenessProbe").is_none());
    assert!(pod["containers"][0].get("readinessProbe").is_none());
    assert!(pod.get("imagePullSecrets").is_none());

    let full = rendered(&fixtures::full());
    let claim = body(&full, "PersistentVolumeClaim", "api-uploads");
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteMany"]));
    assert_eq!(claim["spec"]["storageClassName"], "longhorn");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
    assert_eq!(
        claim["metadata"]["annotations"]["enclii.dev/mount-path"],
        "/uploads"
    );
    let data = body(&full, "PersistentVolumeClaim", "api-data");
    assert_eq!(data["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert!(
        data["spec"].get("storageClassName").is_none(),
        "the cluster's default class"
    );
    let pod = &body(&full, "Deployment", "api")["spec"]["template"]["spec"];
    assert_eq!(
        pod["volumes"][0],
        json!({"name": "data", "persistentVolumeClaim": {"claimName": "api-data"}})
    );
    assert_eq!(
        pod["containers"][0]["volumeMounts"][1],
        json!({"name": "uploads", "mountPath": "/uploads"})
    );
}
