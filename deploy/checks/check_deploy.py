#!/usr/bin/env python3
"""Checks rendered Switchyard manifests and docker-compose.yml against the rules the audits of the
original deployment call for (issue 8): pinned images, no `Never`, hardened non-root pods,
probes, port 4200 everywhere, drain time, migrations only in the PreSync Job, secrets only from
ExternalSecrets, least-privilege RBAC, PDB/HPA/NetworkPolicy/ServiceMonitor coverage, and
ENCLII_* names the binary reads (its own list, `switchyard config known`).

    check_deploy.py --known-vars FILE [--schemas 1.33.0] [--compose docker-compose.yml
                    [--env-example .env.example]] RENDERED.yaml...

Prints one line per finding (`RULE where: message`) and exits 1 when there is any.
Needs PyYAML; `--schemas` also needs kubernetes-validate (both in scripts/check-deploy's venv).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import yaml

# Every rule, with what it enforces. tests/test_check_deploy.py has a failing case for each.
RULES = {
    "schema": "every object validates against the Kubernetes schemas (CRDs: only the known ones)",
    "image-pinned": "images carry an explicit tag other than `latest` (or a digest)",
    "pull-policy": "imagePullPolicy is IfNotPresent",
    "non-root": "pods run as a non-root UID (runAsNonRoot, runAsUser != 0)",
    "seccomp": "seccompProfile RuntimeDefault",
    "hardening": "no privilege escalation, read-only root fs, all capabilities dropped, not privileged",
    "resources": "every container requests CPU and memory and has a memory limit",
    "probes": "serving containers have startup, readiness and liveness HTTP probes (API: /health, /health/ready, /health/live)",
    "startup-window": "startup probes allow at least 60 s before the container is restarted",
    "port-4200": "container ports, probe ports, Service target ports and ENCLII_PORT/ENCLII_WORKER_PORT are 4200",
    "service-port": "the API Service listens on 80 and targets 4200",
    "grace-period": "terminationGracePeriodSeconds exceeds preStop sleep + ENCLII_SHUTDOWN_TIMEOUT_SECS",
    "no-migrate-in-pods": "Deployments run `serve` or `worker`, never `migrate`",
    "migrate-hook": "`migrate up` runs in a Job that is an ArgoCD PreSync hook",
    "service-links": "enableServiceLinks is false (a Service named `enclii` would inject ENCLII_PORT)",
    "no-secret-values": "no Secret objects and no secret variable with a literal or ConfigMap value",
    "secret-source": "every Secret a pod uses is the target of an ExternalSecret",
    "file-secrets": "*_FILE variables point into a volume mounted in that container",
    "known-names": "every ENCLII_* name set is one the binary reads",
    "legacy-alias": "the legacy aliases ENCLII_DB_URL and ENCLII_ENV are not used",
    "pdb": "every Deployment is covered by a PodDisruptionBudget",
    "hpa": "the API has a HorizontalPodAutoscaler; autoscaled Deployments set no replicas",
    "network-policy": "every pod is selected by a NetworkPolicy restricting ingress and egress",
    "service-monitor": "a ServiceMonitor scrapes the API Service through a port it has",
    "rbac": "no wildcards or escalation; the API only reads; the worker gets exactly the reconciler's rights",
    "external-secret": "ExternalSecrets name a store, a target and remote keys",
    "compose-services": "compose parses; depends_on and volumes reference defined ones, with conditions",
    "compose-health": "compose: postgres, redis, api and worker have healthchecks; Redis uses AOF; Jaeger takes OTLP",
    "compose-secrets": "compose: no default or literal passwords; every ${VAR} is in .env.example",
}

SECRET_VARS = {
    "ENCLII_DATABASE_URL",
    "ENCLII_DB_URL",
    "ENCLII_REDIS_URL",
    "ENCLII_REDIS_PASSWORD",
    "ENCLII_ENVVAR_ENCRYPTION_KEY",
    "ENCLII_ENVVAR_ENCRYPTION_KEY_PREVIOUS",
    "ENCLII_JWT_SIGNING_KEY",
    "ENCLII_OIDC_CLIENT_SECRET",
    "ENCLII_ROUNDHOUSE_API_KEY",
    "ENCLII_GITHUB_WEBHOOK_SECRET",
    "ENCLII_BOOTSTRAP_TOKEN",
}
LEGACY_ALIASES = {"ENCLII_DB_URL": "ENCLII_DATABASE_URL", "ENCLII_ENV": "ENCLII_ENVIRONMENT"}
PORT = 4200
DEFAULT_SHUTDOWN_SECS = 20
# Kinds without a schema in kubernetes-validate that we check structurally here instead.
KNOWN_CRDS = {
    ("external-secrets.io/v1", "ExternalSecret"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
}
READ = {"get", "list", "watch"}
APPLY = READ | {"create", "patch", "delete"}
# What the reconciler applies (DESIGN §11), and nothing else. Leases: a namespaced Role only.
WORKER_RIGHTS = {
    ("", "namespaces"): READ | {"create", "patch"},
    ("", "secrets"): APPLY,
    ("", "services"): APPLY,
    ("", "persistentvolumeclaims"): APPLY,
    ("apps", "deployments"): APPLY,
    ("networking.k8s.io", "ingresses"): APPLY,
    ("networking.k8s.io", "networkpolicies"): APPLY,
    ("policy", "poddisruptionbudgets"): APPLY,
    ("autoscaling", "horizontalpodautoscalers"): APPLY,
    ("", "pods"): READ,
    ("", "pods/log"): READ,
}
WORKER_LEASES = {("coordination.k8s.io", "leases"): READ | {"create", "update", "patch"}}
API_RIGHTS = {("", "pods"): READ, ("", "pods/log"): READ, ("apps", "deployments"): READ}


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.where}: {self.message}"


def name_of(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def selects(selector: dict | None, labels: dict) -> bool:
    """A Kubernetes label selector (matchLabels + matchExpressions); empty selects everything."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def pod_templates(docs: list[dict]) -> Iterator[tuple[dict, dict]]:
    """(workload, pod template) for every object that runs pods."""
    for obj in docs:
        spec = obj.get("spec") or {}
        kind = obj.get("kind")
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            yield obj, spec.get("template") or {}
        elif kind == "CronJob":
            yield obj, spec["jobTemplate"]["spec"].get("template") or {}
        elif kind == "Pod":
            yield obj, obj


def containers(pod_spec: dict) -> Iterator[dict]:
    yield from pod_spec.get("initContainers") or []
    yield from pod_spec.get("containers") or []


def command_of(container: dict) -> list[str]:
    return [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]


class Manifests:
    """The rendered objects of one overlay, and the lookups the rules need."""

    def __init__(self, docs: Iterable[dict], known: set[str]):
        self.docs = [d for d in docs if d]
        self.known = known
        self.findings: list[Finding] = []
        self.config_maps = {
            d["metadata"]["name"]: d.get("data") or {} for d in self.docs if d.get("kind") == "ConfigMap"
        }
        self.external_secrets = {
            d["spec"]["target"]["name"]: d
            for d in self.docs
            if d.get("kind") == "ExternalSecret" and (d.get("spec") or {}).get("target", {}).get("name")
        }

    def add(self, rule: str, where: str, message: str) -> None:
        assert rule in RULES, rule
        self.findings.append(Finding(rule, where, message))

    def env_of(self, container: dict) -> dict[str, tuple]:
        """Variable -> ('value', v) | ('configmap', name) | ('secret', name, key) | ('other',)."""
        env: dict[str, tuple] = {}
        for source in container.get("envFrom") or []:
            prefix = source.get("prefix", "")
            if "configMapRef" in source:
                cm = source["configMapRef"]["name"]
                for key, value in self.config_maps.get(cm, {}).items():
                    env[prefix + key] = ("configmap", cm, str(value))
            elif "secretRef" in source:
                secret = source["secretRef"]["name"]
                es = self.external_secrets.get(secret)
                for item in (es or {}).get("spec", {}).get("data") or []:
                    env[prefix + item["secretKey"]] = ("secret", secret, item["secretKey"])
        for var in container.get("env") or []:
            ref = var.get("valueFrom") or {}
            if "value" in var:
                env[var["name"]] = ("value", str(var["value"]))
            elif "secretKeyRef" in ref:
                env[var["name"]] = ("secret", ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"])
            elif "configMapKeyRef" in ref:
                cm = ref["configMapKeyRef"]["name"]
                value = self.config_maps.get(cm, {}).get(ref["configMapKeyRef"]["key"])
                env[var["name"]] = ("configmap", cm, str(value))
            else:
                env[var["name"]] = ("other",)
        return env

    def run(self) -> list[Finding]:
        self.check_objects()
        for workload, template in pod_templates(self.docs):
            self.check_pod(workload, template)
        self.check_coverage()
        self.check_rbac()
        return self.findings

    # Objects on their own.
    def check_objects(self) -> None:
        for obj in self.docs:
            where = name_of(obj)
            kind = obj.get("kind")
            if kind == "Secret":
                self.add("no-secret-values", where, "a Secret with values; use an ExternalSecret")
            if kind == "ConfigMap":
                for key, value in (obj.get("data") or {}).items():
                    self.check_name(where, key)
                    if key in SECRET_VARS:
                        self.add("no-secret-values", where, f"{key} is a secret but in a ConfigMap")
                    self.check_port_var(where, key, value)
            if kind == "ExternalSecret":
                spec = obj.get("spec") or {}
                store = spec.get("secretStoreRef") or {}
                if not store.get("name") or store.get("kind") not in ("SecretStore", "ClusterSecretStore"):
                    self.add("external-secret", where, "secretStoreRef needs a name and a kind")
                if not (spec.get("target") or {}).get("name"):
                    self.add("external-secret", where, "spec.target.name is missing")
                data = spec.get("data") or []
                if not data or any(
                    not d.get("secretKey") or not (d.get("remoteRef") or {}).get("key") for d in data
                ):
                    self.add("external-secret", where, "every data entry needs secretKey and remoteRef.key")
            if kind == "Service" and obj["metadata"]["name"] == "switchyard-api":
                ports = obj["spec"].get("ports") or []
                if [p.get("port") for p in ports] != [80]:
                    self.add(
                        "service-port", where, f"expected one port 80, got {[p.get('port') for p in ports]}"
                    )
            if kind == "Service":
                self.check_service_target(obj)

    def check_service_target(self, service: dict) -> None:
        where = name_of(service)
        pods = [
            t
            for _, t in pod_templates(self.docs)
            if selects({"matchLabels": service["spec"].get("selector")}, labels_of(t))
        ]
        for port in service["spec"].get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for template in pods:
                resolved = {resolve_port(c, target) for c in template["spec"].get("containers") or []}
                if PORT not in resolved:
                    self.add("port-4200", where, f"targetPort {target} is not {PORT} in the pods it selects")

    def check_name(self, where: str, name: str) -> None:
        if not name.startswith("ENCLII_"):
            return
        if name in LEGACY_ALIASES:
            self.add("legacy-alias", where, f"{name} is a legacy alias; use {LEGACY_ALIASES[name]}")
        elif name not in self.known:
            self.add("known-names", where, f"{name} is not read by switchyard (`switchyard config known`)")

    def check_port_var(self, where: str, name: str, value: Any) -> None:
        if name in ("ENCLII_PORT", "ENCLII_WORKER_PORT") and str(value) != str(PORT):
            self.add("port-4200", where, f"{name}={value}, expected {PORT}")

    # One pod template.
    def check_pod(self, workload: dict, template: dict) -> None:
        where = name_of(workload)
        spec = template.get("spec") or {}
        pod_sc = spec.get("securityContext") or {}
        if spec.get("enableServiceLinks") is not False:
            self.add("service-links", where, "set enableServiceLinks: false")
        if workload.get("kind") == "Deployment":
            self.check_deployment(workload, spec)
        for c in containers(spec):
            cw = f"{where}[{c.get('name')}]"
            sc = c.get("securityContext") or {}
            self.check_image(cw, c)
            run_as_non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
            uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
            if run_as_non_root is not True or uid in (None, 0):
                self.add("non-root", cw, "needs runAsNonRoot: true and a non-zero runAsUser")
            seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
            if seccomp != "RuntimeDefault":
                self.add("seccomp", cw, f"seccompProfile is {seccomp!r}, expected RuntimeDefault")
            drops = (sc.get("capabilities") or {}).get("drop") or []
            if (
                sc.get("allowPrivilegeEscalation") is not False
                or sc.get("readOnlyRootFilesystem") is not True
                or sc.get("privileged") is True
                or "ALL" not in drops
            ):
                self.add(
                    "hardening",
                    cw,
                    "needs allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, drop [ALL], not privileged",
                )
            res = c.get("resources") or {}
            requests, limits = res.get("requests") or {}, res.get("limits") or {}
            if not requests.get("cpu") or not requests.get("memory") or not limits.get("memory"):
                self.add("resources", cw, "needs requests.cpu, requests.memory and limits.memory")
            for port in c.get("ports") or []:
                if port.get("containerPort") != PORT:
                    self.add("port-4200", cw, f"containerPort {port.get('containerPort')}, expected {PORT}")
            self.check_env(cw, c)
            cmd = command_of(c)
            if "migrate" in cmd and workload.get("kind") != "Job":
                self.add(
                    "no-migrate-in-pods", cw, f"runs {' '.join(cmd)}; migrations belong to the PreSync Job"
                )
            if cmd[:2] == ["migrate", "up"]:
                hook = (workload.get("metadata", {}).get("annotations") or {}).get("argocd.argoproj.io/hook")
                if workload.get("kind") != "Job" or hook != "PreSync":
                    self.add(
                        "migrate-hook",
                        cw,
                        "`migrate up` must run in a Job annotated argocd.argoproj.io/hook: PreSync",
                    )

    def check_image(self, where: str, container: dict) -> None:
        image = str(container.get("image", ""))
        if "@sha256:" not in image:
            last = image.rsplit("/", 1)[-1]
            tag = last.split(":", 1)[1] if ":" in last else ""
            if tag in ("", "latest"):
                self.add("image-pinned", where, f"image {image!r} has no pinned tag")
        if container.get("imagePullPolicy") != "IfNotPresent":
            self.add(
                "pull-policy",
                where,
                f"imagePullPolicy is {container.get('imagePullPolicy')!r}, expected IfNotPresent",
            )

    def check_env(self, where: str, container: dict) -> None:
        env = self.env_of(container)
        mounts = [m["mountPath"].rstrip("/") + "/" for m in container.get("volumeMounts") or []]
        for name, source in env.items():
            self.check_name(where, name)
            if name in SECRET_VARS and source[0] != "secret":
                self.add(
                    "no-secret-values",
                    where,
                    f"{name} must come from a Secret (secretKeyRef), not {source[0]}",
                )
            if source[0] == "secret" and source[1] not in self.external_secrets:
                self.add(
                    "secret-source",
                    where,
                    f"{name} reads Secret {source[1]!r}, which no ExternalSecret creates",
                )
            if source[0] in ("value", "configmap"):
                self.check_port_var(where, name, source[-1])
            if name.endswith("_FILE") and source[0] in ("value", "configmap"):
                if not any(source[-1].startswith(m) for m in mounts):
                    self.add("file-secrets", where, f"{name}={source[-1]} is not under a mounted volume")

    def check_deployment(self, workload: dict, spec: dict) -> None:
        where = name_of(workload)
        main = (spec.get("containers") or [{}])[0]
        cmd = command_of(main)
        if cmd not in (["serve"], ["worker"]):
            self.add("no-migrate-in-pods", where, f"runs {cmd}, expected serve or worker")
        probes = {k: main.get(k) or {} for k in ("startupProbe", "readinessProbe", "livenessProbe")}
        for kind, probe in probes.items():
            http = probe.get("httpGet")
            if not http:
                self.add("probes", where, f"{kind} with httpGet is missing")
                continue
            if resolve_port(main, http.get("port")) != PORT:
                self.add("port-4200", where, f"{kind} port {http.get('port')} is not {PORT}")
        expected = {}
        if cmd == ["serve"]:
            expected = {
                "startupProbe": "/health",
                "readinessProbe": "/health/ready",
                "livenessProbe": "/health/live",
            }
        elif cmd == ["worker"]:
            # The worker is ready when it reaches PostgreSQL and Redis.
            expected = {"readinessProbe": "/health/ready", "livenessProbe": "/health/live"}
        if expected:
            for kind, path in expected.items():
                got = (probes[kind].get("httpGet") or {}).get("path")
                if probes[kind] and got != path:
                    self.add("probes", where, f"{kind} path {got}, expected {path}")
        startup = probes["startupProbe"]
        if startup:
            window = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
            if window < 60:
                self.add("startup-window", where, f"startup probe allows {window} s, expected >= 60")
        sleep = ((main.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0)
        shutdown = self.env_of(main).get("ENCLII_SHUTDOWN_TIMEOUT_SECS")
        drain = (
            int(shutdown[-1]) if shutdown and shutdown[0] in ("value", "configmap") else DEFAULT_SHUTDOWN_SECS
        )
        grace = spec.get("terminationGracePeriodSeconds", 30)
        if grace <= sleep + drain:
            self.add(
                "grace-period",
                where,
                f"terminationGracePeriodSeconds {grace} <= preStop {sleep} s + drain {drain} s",
            )

    # Objects that must cover others.
    def check_coverage(self) -> None:
        pdbs = [d for d in self.docs if d.get("kind") == "PodDisruptionBudget"]
        hpas = [d for d in self.docs if d.get("kind") == "HorizontalPodAutoscaler"]
        policies = [d for d in self.docs if d.get("kind") == "NetworkPolicy"]
        for workload, template in pod_templates(self.docs):
            where, labels = name_of(workload), labels_of(template)
            if workload.get("kind") == "Deployment":
                if not any(selects(p["spec"].get("selector"), labels) for p in pdbs):
                    self.add("pdb", where, "no PodDisruptionBudget selects its pods")
                scaled = any(
                    h["spec"]["scaleTargetRef"].get("kind") == "Deployment"
                    and h["spec"]["scaleTargetRef"].get("name") == workload["metadata"]["name"]
                    for h in hpas
                )
                if command_of((template["spec"].get("containers") or [{}])[0]) == ["serve"] and not scaled:
                    self.add("hpa", where, "the API has no HorizontalPodAutoscaler")
                if scaled and "replicas" in workload["spec"]:
                    self.add(
                        "hpa", where, "autoscaled but sets spec.replicas (each sync would reset the count)"
                    )
            types: set[str] = set()
            for policy in policies:
                if selects(policy["spec"].get("podSelector"), labels):
                    types |= set(policy["spec"].get("policyTypes") or ["Ingress"])
            if not {"Ingress", "Egress"} <= types:
                self.add(
                    "network-policy", where, f"NetworkPolicies restrict only {sorted(types) or 'nothing'}"
                )
        api = next(
            (
                d
                for d in self.docs
                if d.get("kind") == "Service" and d["metadata"]["name"] == "switchyard-api"
            ),
            None,
        )
        monitors = [d for d in self.docs if d.get("kind") == "ServiceMonitor"]
        scraped = api is not None and any(
            selects(m["spec"].get("selector"), api["metadata"].get("labels") or {})
            and any(
                e.get("port") in {p.get("name") for p in api["spec"].get("ports") or []}
                for e in m["spec"].get("endpoints") or []
            )
            for m in monitors
        )
        if not scraped:
            self.add(
                "service-monitor",
                "Service/switchyard-api",
                "no ServiceMonitor scrapes it through one of its ports",
            )

    def check_rbac(self) -> None:
        roles = {
            (d["kind"], d["metadata"]["name"]): d
            for d in self.docs
            if d.get("kind") in ("Role", "ClusterRole")
        }
        for role in roles.values():
            for rule in role.get("rules") or []:
                fields = (
                    (rule.get("apiGroups") or []) + (rule.get("resources") or []) + (rule.get("verbs") or [])
                )
                if "*" in fields:
                    self.add("rbac", name_of(role), f"wildcard in {rule}")
                if {"escalate", "bind", "impersonate"} & set(rule.get("verbs") or []):
                    self.add("rbac", name_of(role), f"escalation verb in {rule}")
        granted: dict[str, dict[str, dict]] = {"switchyard-api": {}, "switchyard-worker": {}}
        for binding in (d for d in self.docs if d.get("kind") in ("RoleBinding", "ClusterRoleBinding")):
            ref = binding["roleRef"]
            if ref["name"] in ("cluster-admin", "admin", "edit"):
                self.add("rbac", name_of(binding), f"binds the built-in {ref['name']} role")
            role = roles.get((ref["kind"], ref["name"]))
            for subject in binding.get("subjects") or []:
                if subject.get("kind") != "ServiceAccount" or subject["name"] not in granted:
                    continue
                if role is None:
                    self.add(
                        "rbac",
                        name_of(binding),
                        f"binds {ref['kind']}/{ref['name']}, which is not in these manifests",
                    )
                    continue
                scope = (
                    "cluster"
                    if ref["kind"] == "ClusterRole" and binding["kind"] == "ClusterRoleBinding"
                    else "namespace"
                )
                for rule in role.get("rules") or []:
                    for group in rule.get("apiGroups") or [""]:
                        for resource in rule.get("resources") or []:
                            verbs = (
                                granted[subject["name"]]
                                .setdefault(scope, {})
                                .setdefault((group, resource), set())
                            )
                            verbs |= set(rule.get("verbs") or [])
        self.compare_rights("switchyard-api", granted["switchyard-api"], {"cluster": API_RIGHTS})
        self.compare_rights(
            "switchyard-worker",
            granted["switchyard-worker"],
            {"cluster": WORKER_RIGHTS, "namespace": WORKER_LEASES},
        )

    def compare_rights(self, account: str, got: dict, expected: dict) -> None:
        where = f"ServiceAccount/{account}"
        for scope in ("cluster", "namespace"):
            have, want = got.get(scope, {}), expected.get(scope, {})
            for key in sorted(set(have) | set(want)):
                if have.get(key, set()) != want.get(key, set()):
                    group, resource = key
                    self.add(
                        "rbac",
                        where,
                        f"{scope} rights on {group or 'core'}/{resource}: {sorted(have.get(key, set()))}, expected {sorted(want.get(key, set()))}",
                    )


def labels_of(template: dict) -> dict:
    return (template.get("metadata") or {}).get("labels") or {}


def resolve_port(container: dict, port: Any) -> Any:
    for p in container.get("ports") or []:
        if port == p.get("name"):
            return p.get("containerPort")
    return port


def validate_schemas(docs: list[dict], version: str) -> list[Finding]:
    import kubernetes_validate  # from scripts/check-deploy's venv

    findings = []
    for obj in docs:
        key = (obj.get("apiVersion"), obj.get("kind"))
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            if key not in KNOWN_CRDS:
                findings.append(Finding("schema", name_of(obj), f"no {version} schema for {key[0]} {key[1]}"))
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            findings.append(Finding("schema", name_of(obj), f"{path}: {e.message}"))
    return findings


INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")
# `${VAR}`, `${VAR?message}` or `${VAR:?message}`: from the environment or .env, no default.
REQUIRED_VAR = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}")
PASSWORD_IN_URL = re.compile(r"://[^/@\s:]*:(\$\{[^}]*\}|[^@/\s]+)@")


def check_compose(compose: Any, known: set[str], env_example: set[str] | None) -> list[Finding]:
    findings: list[Finding] = []

    def add(rule: str, where: str, message: str) -> None:
        findings.append(Finding(rule, where, message))

    if not isinstance(compose, dict) or not isinstance(compose.get("services"), dict):
        add("compose-services", "compose", "no services mapping")
        return findings
    services = compose["services"]
    volumes = set((compose.get("volumes") or {}).keys())
    for name, svc in services.items():
        where = f"compose/{name}"
        depends = svc.get("depends_on") or {}
        if isinstance(depends, list):
            add("compose-services", where, "depends_on without conditions")
            depends = {d: {} for d in depends}
        for dep, cond in depends.items():
            if dep not in services:
                add("compose-services", where, f"depends_on {dep!r}, which is not a service")
            elif (cond or {}).get("condition") not in (
                "service_healthy",
                "service_completed_successfully",
                "service_started",
            ):
                add("compose-services", where, f"depends_on {dep!r} without a condition")
        for volume in svc.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
            if source and not source.startswith((".", "/", "~", "$")) and source not in volumes:
                add("compose-services", where, f"volume {source!r} is not declared")
        for secret in svc.get("secrets") or []:
            source = secret if isinstance(secret, str) else secret.get("source")
            if source not in (compose.get("secrets") or {}):
                add("compose-services", where, f"secret {source!r} is not declared")
        environment = svc.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(e.split("=", 1) if "=" in e else (e, "") for e in environment)
        for key, value in environment.items():
            value = "" if value is None else str(value)
            if key.startswith("ENCLII_"):
                if key in LEGACY_ALIASES:
                    add("legacy-alias", where, f"{key} is a legacy alias; use {LEGACY_ALIASES[key]}")
                elif key not in known:
                    add("known-names", where, f"{key} is not read by switchyard")
            secretish = re.search(r"PASSWORD|SECRET|_KEY$|TOKEN", key) and not key.endswith("_FILE")
            url_password = PASSWORD_IN_URL.search(value)
            for candidate in ([value] if secretish else []) + (
                [url_password.group(1)] if url_password else []
            ):
                if not REQUIRED_VAR.fullmatch(candidate):
                    add(
                        "compose-secrets",
                        where,
                        f"{key}: a password must be ${{VAR:?...}} from .env, not {candidate!r}",
                    )
        for var, rest in INTERPOLATION.findall(yaml.safe_dump(svc)):
            has_default = rest.startswith((":-", "-"))
            if env_example is not None and not has_default and var not in env_example:
                add("compose-secrets", where, f"${{{var}}} is not in .env.example")
    for required in ("postgres", "redis", "migrate", "api", "worker", "jaeger"):
        if required not in services:
            add("compose-services", "compose", f"service {required!r} is missing")
    for name in ("postgres", "redis", "api", "worker"):
        if name in services and not (services[name].get("healthcheck") or {}).get("test"):
            add("compose-health", f"compose/{name}", "no healthcheck")
    redis_cmd = " ".join(str(a) for a in (services.get("redis") or {}).get("command") or [])
    if "--appendonly yes" not in redis_cmd:
        add("compose-health", "compose/redis", "Redis must run with --appendonly yes")
    jaeger_env = (services.get("jaeger") or {}).get("environment") or {}
    if str(jaeger_env.get("COLLECTOR_OTLP_ENABLED", "")).lower() != "true":
        add("compose-health", "compose/jaeger", "COLLECTOR_OTLP_ENABLED must be true")
    return findings


def load_all(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def env_example_names(path: str) -> set[str]:
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                names.add(line.split("=", 1)[0].strip())
    return names


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--known-vars", required=True, help="output of `switchyard config known`")
    parser.add_argument("--schemas", help="Kubernetes version to validate against, e.g. 1.33.0")
    parser.add_argument("--compose", help="docker-compose.yml to check")
    parser.add_argument("--env-example", help=".env.example that defines the compose variables")
    parser.add_argument("rendered", nargs="*", help="`kubectl kustomize` output, one file per overlay")
    args = parser.parse_args(argv)
    with open(args.known_vars, encoding="utf-8") as f:
        known = {line.strip() for line in f if line.strip()}
    if not known:
        print(f"{args.known_vars} lists no names", file=sys.stderr)
        return 2
    findings: list[Finding] = []
    for path in args.rendered:
        docs = load_all(path)
        if not docs:
            findings.append(Finding("schema", path, "no objects rendered"))
        found = Manifests(docs, known).run()
        if args.schemas:
            found += validate_schemas(docs, args.schemas)
        findings += [Finding(f.rule, f"{path}: {f.where}", f.message) for f in found]
        print(f"{path}: {len(docs)} objects, {len(found)} findings")
    if args.compose:
        with open(args.compose, encoding="utf-8") as f:
            compose = yaml.safe_load(f)
        example = env_example_names(args.env_example) if args.env_example else None
        found = check_compose(compose, known, example)
        findings += found
        print(f"{args.compose}: {len(found)} findings")
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
