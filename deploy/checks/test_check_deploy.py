"""Tests of check_deploy.py: the rendered overlays and docker-compose.yml pass, and every rule
fires on a copy broken the way it forbids (so a rule that silently stopped checking fails here).

Run by scripts/check-deploy, which provides (and these tests require, never skip without):
  DEPLOY_RENDERED_DIR   `kubectl kustomize` output of each overlay, as <overlay>.yaml
  SWITCHYARD_KNOWN_VARS the output of `switchyard config known`
"""

from __future__ import annotations

import copy
import os
import pathlib

import pytest
import yaml

import check_deploy as cd

ROOT = pathlib.Path(__file__).resolve().parents[2]
OVERLAYS = ["dev", "staging", "production"]


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests through scripts/check-deploy")
    return value


@pytest.fixture(scope="session")
def known() -> set[str]:
    names = set(pathlib.Path(required_env("SWITCHYARD_KNOWN_VARS")).read_text().split())
    assert "ENCLII_DATABASE_URL" in names
    return names


def rendered(overlay: str) -> list[dict]:
    path = pathlib.Path(required_env("DEPLOY_RENDERED_DIR")) / f"{overlay}.yaml"
    return cd.load_all(str(path))


@pytest.fixture()
def production() -> list[dict]:
    return rendered("production")


@pytest.fixture()
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="session")
def env_example() -> set[str]:
    return cd.env_example_names(str(ROOT / ".env.example"))


def rules(findings: list[cd.Finding]) -> set[str]:
    return {f.rule for f in findings}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_passes_every_rule(overlay, known):
    docs = rendered(overlay)
    assert {d["kind"] for d in docs} >= {"Deployment", "Job", "Service", "NetworkPolicy", "ExternalSecret"}
    assert cd.Manifests(docs, known).run() == []
    assert cd.validate_schemas(docs, "1.33.0") == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_tag_is_the_one_deployed(overlay):
    # An overlay's `images` entry must name the image as the base leaves it, or it does nothing.
    kustomization = yaml.safe_load(
        (ROOT / "deploy/k8s/overlays" / overlay / "kustomization.yaml").read_text()
    )
    (entry,) = kustomization["images"]
    images = {c["image"] for _, t in cd.pod_templates(rendered(overlay)) for c in cd.containers(t["spec"])}
    assert images == {f"{entry['name']}:{entry['newTag']}"}


def test_compose_passes_every_rule(compose, known, env_example):
    assert cd.check_compose(compose, known, env_example) == []


# Helpers that find the object a mutation changes.
def obj(docs, kind, name_prefix):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"].startswith(name_prefix))


def pod(docs, name):
    return obj(docs, "Deployment" if name != "switchyard-migrate" else "Job", name)["spec"]["template"][
        "spec"
    ]


def main(docs, name="switchyard-api"):
    return pod(docs, name)["containers"][0]


def env_var(container, name):
    return next(e for e in container["env"] if e["name"] == name)


def rbac_rules(docs, name):
    return obj(docs, "ClusterRole", name)["rules"]


def set_(target, key, value):
    target[key] = value


MANIFEST_CASES = {
    "schema: a replica count that is not a number": (
        "schema",
        lambda d: set_(obj(d, "Deployment", "switchyard-worker")["spec"], "replicas", "two"),
    ),
    "schema: a kind nobody has a schema for": (
        "schema",
        lambda d: d.append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
    ),
    "image-pinned: latest": (
        "image-pinned",
        lambda d: set_(main(d), "image", "ghcr.io/madfam-org/switchyard:latest"),
    ),
    "image-pinned: no tag": (
        "image-pinned",
        lambda d: set_(main(d), "image", "ghcr.io/madfam-org/switchyard"),
    ),
    "pull-policy: Never": ("pull-policy", lambda d: set_(main(d), "imagePullPolicy", "Never")),
    "non-root: uid 0": (
        "non-root",
        lambda d: set_(pod(d, "switchyard-api")["securityContext"], "runAsUser", 0),
    ),
    "seccomp: unconfined": (
        "seccomp",
        lambda d: pod(d, "switchyard-migrate")["securityContext"].pop("seccompProfile"),
    ),
    "hardening: writable root fs": (
        "hardening",
        lambda d: set_(main(d)["securityContext"], "readOnlyRootFilesystem", False),
    ),
    "hardening: capabilities kept in the init container": (
        "hardening",
        lambda d: set_(
            pod(d, "switchyard-api")["initContainers"][0]["securityContext"], "capabilities", {"drop": []}
        ),
    ),
    "resources: no memory limit": (
        "resources",
        lambda d: main(d, "switchyard-worker")["resources"].pop("limits"),
    ),
    "probes: no readiness probe": ("probes", lambda d: main(d).pop("readinessProbe")),
    "probes: startup on another path": (
        "probes",
        lambda d: set_(main(d)["startupProbe"]["httpGet"], "path", "/healthz"),
    ),
    "startup-window: 15 s": (
        "startup-window",
        lambda d: set_(main(d)["startupProbe"], "failureThreshold", 3),
    ),
    "port-4200: containerPort 8080": (
        "port-4200",
        lambda d: set_(main(d)["ports"][0], "containerPort", 8080),
    ),
    "port-4200: ENCLII_PORT=8080 in the ConfigMap": (
        "port-4200",
        lambda d: set_(obj(d, "ConfigMap", "switchyard-config")["data"], "ENCLII_PORT", "8080"),
    ),
    "port-4200: probe on another port": (
        "port-4200",
        lambda d: set_(main(d, "switchyard-worker")["livenessProbe"]["httpGet"], "port", 8080),
    ),
    "service-port: 4200 instead of 80": (
        "service-port",
        lambda d: set_(obj(d, "Service", "switchyard-api")["spec"]["ports"][0], "port", 4200),
    ),
    "grace-period: shorter than the drain": (
        "grace-period",
        lambda d: set_(pod(d, "switchyard-api"), "terminationGracePeriodSeconds", 20),
    ),
    "no-migrate-in-pods: the API migrates at start": (
        "no-migrate-in-pods",
        lambda d: set_(main(d), "args", ["migrate", "up"]),
    ),
    "migrate-hook: the Job is not a PreSync hook": (
        "migrate-hook",
        lambda d: obj(d, "Job", "switchyard-migrate")["metadata"]["annotations"].pop(
            "argocd.argoproj.io/hook"
        ),
    ),
    "service-links: left on": (
        "service-links",
        lambda d: pod(d, "switchyard-worker").pop("enableServiceLinks"),
    ),
    "no-secret-values: a Secret object": (
        "no-secret-values",
        lambda d: d.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "jwt-secrets"},
                "stringData": {"k": "v"},
            }
        ),
    ),
    "no-secret-values: a literal database URL": (
        "no-secret-values",
        lambda d: main(d)["env"].__setitem__(
            0, {"name": "ENCLII_DATABASE_URL", "value": "postgres://u:p@db/x"}
        ),
    ),
    "no-secret-values: a key in the ConfigMap": (
        "no-secret-values",
        lambda d: set_(obj(d, "ConfigMap", "switchyard-config")["data"], "ENCLII_ENVVAR_ENCRYPTION_KEY", "x"),
    ),
    "secret-source: a hand-made Secret": (
        "secret-source",
        lambda d: set_(
            env_var(main(d), "ENCLII_REDIS_URL")["valueFrom"]["secretKeyRef"], "name", "redis-credentials"
        ),
    ),
    "file-secrets: a path nothing mounts": (
        "file-secrets",
        lambda d: set_(env_var(main(d), "ENCLII_JWT_SIGNING_KEY_FILE"), "value", "/etc/keys/jwt"),
    ),
    "known-names: ENCLII_JWT_SECRET in the ConfigMap": (
        "known-names",
        lambda d: set_(obj(d, "ConfigMap", "switchyard-api-config")["data"], "ENCLII_JWT_SECRET", "x"),
    ),
    "known-names: ENCLII_METRICS_ENABLED in env": (
        "known-names",
        lambda d: main(d, "switchyard-worker")["env"].append(
            {"name": "ENCLII_METRICS_ENABLED", "value": "true"}
        ),
    ),
    "legacy-alias: ENCLII_ENV": (
        "legacy-alias",
        lambda d: set_(obj(d, "ConfigMap", "switchyard-config")["data"], "ENCLII_ENV", "production"),
    ),
    "legacy-alias: ENCLII_DB_URL": (
        "legacy-alias",
        lambda d: set_(env_var(main(d), "ENCLII_DATABASE_URL"), "name", "ENCLII_DB_URL"),
    ),
    "pdb: none for the worker": (
        "pdb",
        lambda d: d.remove(obj(d, "PodDisruptionBudget", "switchyard-worker")),
    ),
    "hpa: none for the API": ("hpa", lambda d: d.remove(obj(d, "HorizontalPodAutoscaler", "switchyard-api"))),
    "hpa: replicas fight the autoscaler": (
        "hpa",
        lambda d: set_(obj(d, "Deployment", "switchyard-api")["spec"], "replicas", 3),
    ),
    "network-policy: the worker's ingress is open": (
        "network-policy",
        lambda d: d.remove(obj(d, "NetworkPolicy", "switchyard-worker")),
    ),
    "network-policy: the migration Job is open": (
        "network-policy",
        lambda d: d.remove(obj(d, "NetworkPolicy", "switchyard-migrate")),
    ),
    "service-monitor: a port the Service lacks": (
        "service-monitor",
        lambda d: set_(obj(d, "ServiceMonitor", "switchyard")["spec"]["endpoints"][0], "port", "metrics"),
    ),
    "rbac: the API reads secrets": (
        "rbac",
        lambda d: rbac_rules(d, "switchyard-api-read").append(
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}
        ),
    ),
    "rbac: the API writes deployments": (
        "rbac",
        lambda d: rbac_rules(d, "switchyard-api-read")[1]["verbs"].append("patch"),
    ),
    "rbac: a wildcard": (
        "rbac",
        lambda d: rbac_rules(d, "switchyard-worker-reconciler").append(
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
        ),
    ),
    "rbac: the worker deletes namespaces": (
        "rbac",
        lambda d: rbac_rules(d, "switchyard-worker-reconciler")[0]["verbs"].append("delete"),
    ),
    "rbac: the worker cannot read logs": (
        "rbac",
        lambda d: set_(rbac_rules(d, "switchyard-worker-reconciler")[-1], "resources", ["pods"]),
    ),
    "rbac: cluster-admin": (
        "rbac",
        lambda d: set_(obj(d, "ClusterRoleBinding", "switchyard-worker")["roleRef"], "name", "cluster-admin"),
    ),
    "external-secret: no remote key": (
        "external-secret",
        lambda d: obj(d, "ExternalSecret", "switchyard")["spec"]["data"][0].pop("remoteRef"),
    ),
}


@pytest.mark.parametrize("case", MANIFEST_CASES)
def test_each_manifest_rule_fires(case, production, known):
    rule, mutate = MANIFEST_CASES[case]
    docs = copy.deepcopy(production)
    mutate(docs)
    findings = cd.Manifests(docs, known).run()
    if rule == "schema":  # kubernetes-validate is slow: only where it is the rule under test
        findings += cd.validate_schemas(docs, "1.33.0")
    assert rule in rules(findings), [str(f) for f in findings]


def service(compose, name):
    return compose["services"][name]


COMPOSE_CASES = {
    "compose-services: depends on a missing service": (
        "compose-services",
        lambda c: set_(service(c, "api")["depends_on"], "db", {"condition": "service_healthy"}),
    ),
    "compose-services: depends_on without conditions": (
        "compose-services",
        lambda c: set_(service(c, "worker"), "depends_on", ["migrate", "redis"]),
    ),
    "compose-services: an undeclared volume": (
        "compose-services",
        lambda c: set_(service(c, "redis"), "volumes", ["cache:/data"]),
    ),
    "compose-services: an undeclared secret": (
        "compose-services",
        lambda c: set_(service(c, "api"), "secrets", ["oidc-client-secret"]),
    ),
    "compose-services: no worker": ("compose-services", lambda c: c["services"].pop("worker")),
    "compose-health: Redis without AOF": (
        "compose-health",
        lambda c: set_(service(c, "redis"), "command", ["redis-server"]),
    ),
    "compose-health: API without a health check": (
        "compose-health",
        lambda c: service(c, "api").pop("healthcheck"),
    ),
    "compose-health: Jaeger without OTLP": (
        "compose-health",
        lambda c: set_(service(c, "jaeger"), "environment", {}),
    ),
    "compose-secrets: a literal password": (
        "compose-secrets",
        lambda c: set_(service(c, "postgres")["environment"], "POSTGRES_PASSWORD", "switchyard"),
    ),
    "compose-secrets: a default password": (
        "compose-secrets",
        lambda c: set_(
            service(c, "postgres")["environment"], "POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:-switchyard}"
        ),
    ),
    "compose-secrets: a password in a URL": (
        "compose-secrets",
        lambda c: set_(
            service(c, "worker")["environment"], "ENCLII_REDIS_URL", "redis://:hunter2@redis:6379"
        ),
    ),
    "compose-secrets: a variable .env.example lacks": (
        "compose-secrets",
        lambda c: set_(service(c, "api")["environment"], "ENCLII_ADMIN_EMAILS", "${ADMINS}"),
    ),
    "known-names: a typo in compose": (
        "known-names",
        lambda c: set_(service(c, "api")["environment"], "ENCLII_DB_POOL_SIZES", "5"),
    ),
    "legacy-alias: ENCLII_DB_URL in compose": (
        "legacy-alias",
        lambda c: set_(service(c, "migrate"), "environment", {"ENCLII_DB_URL": "x"}),
    ),
}


@pytest.mark.parametrize("case", COMPOSE_CASES)
def test_each_compose_rule_fires(case, compose, known, env_example):
    rule, mutate = COMPOSE_CASES[case]
    doc = copy.deepcopy(compose)
    mutate(doc)
    findings = cd.check_compose(doc, known, env_example)
    assert rule in rules(findings), [str(f) for f in findings]


def test_every_rule_has_a_failing_case():
    covered = {rule for rule, _ in MANIFEST_CASES.values()} | {rule for rule, _ in COMPOSE_CASES.values()}
    assert covered == set(cd.RULES)


# The original deployment's manifest, as the audits describe it (issue 8, "Why").
ORIGINAL = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: switchyard-api}
spec:
  replicas: 2
  selector: {matchLabels: {app: switchyard-api}}
  template:
    metadata: {labels: {app: switchyard-api}}
    spec:
      containers:
        - name: switchyard-api
          image: switchyard-api:latest
          imagePullPolicy: Never
          env:
            - {name: ENCLII_DB_URL, valueFrom: {secretKeyRef: {name: postgres-credentials, key: url}}}
            - {name: ENCLII_ENV, value: production}
            - {name: ENCLII_PORT, value: "8080"}
          ports: [{containerPort: 8080}]
          startupProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 5, failureThreshold: 3}
---
apiVersion: v1
kind: Secret
metadata: {name: postgres-credentials}
stringData: {url: "postgres://enclii:password@postgres/enclii"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: switchyard-api}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: switchyard-api}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: switchyard-api}
subjects: [{kind: ServiceAccount, name: switchyard-api, namespace: enclii}]
"""


def test_the_audit_findings_of_the_original_are_all_caught(known):
    findings = rules(cd.Manifests(list(yaml.safe_load_all(ORIGINAL)), known).run())
    assert {
        "image-pinned",
        "pull-policy",
        "no-secret-values",
        "rbac",
        "pdb",
        "startup-window",
        "legacy-alias",
        "port-4200",
        "non-root",
        "hardening",
        "network-policy",
    } <= findings
