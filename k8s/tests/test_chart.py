"""Properties of the rendered chart that a deployment relies on (issue: deployment, section 2).

Run by scripts/check-deploy.sh with HELM pointing at the helm binary it installed:
    HELM=target/deploy-tools/helm/helm target/deploy-venv/bin/pytest k8s/tests
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "k8s" / "helm" / "todo-app"
DOKS = CHART / "values-doks.yaml"
HELM = os.environ.get("HELM", "helm")

SECRET_ENV = {"DATABASE_URL", "DIRECT_URL", "AUTH_SECRET", "OPENAI_API_KEY", "DAPR_API_TOKEN", "APP_API_TOKEN"}


def helm_template(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HELM, "template", "todo-app", str(CHART), "--namespace", "todo", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def render(*args: str) -> list[dict]:
    result = helm_template(*args)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@pytest.fixture(scope="session")
def default() -> list[dict]:
    return render()


@pytest.fixture(scope="session")
def doks() -> list[dict]:
    return render("-f", str(DOKS))


@pytest.fixture(scope="session", params=["default", "doks"])
def rendered(request, default, doks) -> list[dict]:
    return {"default": default, "doks": doks}[request.param]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def component(doc: dict) -> str:
    return doc["metadata"]["labels"]["app.kubernetes.io/component"]


def deployment(docs: list[dict], name: str) -> dict:
    (found,) = [d for d in of_kind(docs, "Deployment") if component(d) == name]
    return found


def pod_specs(docs: list[dict]):
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            yield d, d["spec"]["template"]["spec"]
        elif d["kind"] == "Pod":
            yield d, d["spec"]


# --- security -------------------------------------------------------------------------------

def test_every_pod_and_container_is_non_root_and_hardened(rendered):
    specs = list(pod_specs(rendered))
    assert len(specs) >= 5  # 3 deployments, the migration job, the test pod
    for doc, spec in specs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True, where
        assert psc["seccompProfile"]["type"] == "RuntimeDefault", where
        assert spec["automountServiceAccountToken"] is False, where
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, where
            assert sc["runAsUser"] >= 10000, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc.get("privileged", False) is False, where
            assert "ALL" in sc["capabilities"]["drop"], where
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"], where


def test_service_accounts_mount_no_token(rendered):
    for sa in of_kind(rendered, "ServiceAccount"):
        assert sa["automountServiceAccountToken"] is False


def test_no_secret_values_anywhere(rendered):
    assert not of_kind(rendered, "Secret"), "the chart must only reference existing Secrets"
    text = yaml.safe_dump_all(rendered)
    for pattern in [r"postgres(ql)?://", r"AVNS_", r"\bsk-[A-Za-z0-9]{8,}", r"BEGIN (RSA |EC )?(PRIVATE KEY|CERTIFICATE)"]:
        assert not re.search(pattern, text), pattern
    for _, spec in pod_specs(rendered):
        for c in spec["containers"]:
            for env in c.get("env", []):
                if env["name"] in SECRET_ENV:
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"], env
    for cm in of_kind(rendered, "ConfigMap"):
        assert not SECRET_ENV & set(cm["data"]), cm["metadata"]["name"]


def test_dapr_component_takes_credentials_from_secrets(doks):
    (comp,) = of_kind(doks, "Component")
    items = {m["name"]: m for m in comp["spec"]["metadata"]}
    for name in ("brokers", "saslUsername", "saslPassword", "caCert"):
        assert "value" not in items[name] and items[name]["secretKeyRef"]["name"] == "kafka-creds", name
    assert comp["auth"] == {"secretStore": "kubernetes"}
    # ../shared/dapr-contract.md §7.2: the exact literal for SCRAM-SHA-256, TLS on.
    assert items["saslMechanism"]["value"] == "SHA-256"
    assert items["disableTls"]["value"] == "false"
    assert "maxMessageBytes" not in items


# --- probes, rollout ------------------------------------------------------------------------

@pytest.mark.parametrize("name,live,ready", [("backend", "/health", "/ready"), ("ai-agent", "/health", "/ready"), ("frontend", "/healthz", "/healthz")])
def test_probes(rendered, name, live, ready):
    (c,) = deployment(rendered, name)["spec"]["template"]["spec"]["containers"]
    assert c["startupProbe"]["httpGet"]["path"] == live
    assert c["livenessProbe"]["httpGet"]["path"] == live
    assert c["readinessProbe"]["httpGet"]["path"] == ready
    assert all(c[p]["httpGet"]["port"] == "http" for p in ("startupProbe", "livenessProbe", "readinessProbe"))


def test_rolling_update_drops_no_requests(rendered):
    for d in of_kind(rendered, "Deployment"):
        assert d["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
        spec = d["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        sleep = c["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert sleep > 0
        assert spec["terminationGracePeriodSeconds"] > sleep


def test_doks_scaling_and_disruption_budgets(doks):
    hpas = {component(h): h for h in of_kind(doks, "HorizontalPodAutoscaler")}
    pdbs = {component(p): p for p in of_kind(doks, "PodDisruptionBudget")}
    assert {"backend", "ai-agent", "frontend"} <= set(hpas) and {"backend", "ai-agent", "frontend"} <= set(pdbs)
    assert hpas["backend"]["spec"]["minReplicas"] >= 2 and hpas["frontend"]["spec"]["minReplicas"] >= 2
    assert hpas["ai-agent"]["spec"]["minReplicas"] >= 1
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"]["name"] == deployment(doks, name)["metadata"]["name"]
        # Replicas belong to the HPA: a fixed count would fight it on every upgrade.
        assert "replicas" not in deployment(doks, name)["spec"]
    for name, pdb in pdbs.items():
        labels = deployment(doks, name)["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_default_values_pdbs_without_hpas(default):
    assert len(of_kind(default, "PodDisruptionBudget")) == 3
    assert not of_kind(default, "HorizontalPodAutoscaler")


# --- Dapr -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["backend", "ai-agent"])
def test_dapr_annotations_on_the_services(doks, name):
    d = deployment(doks, name)
    ann = d["spec"]["template"]["metadata"]["annotations"]
    port = d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert ann["dapr.io/enabled"] == "true"
    assert ann["dapr.io/app-id"] == {"backend": "todo-backend", "ai-agent": "todo-ai-agent"}[name]
    assert ann["dapr.io/app-port"] == str(port)
    assert ann["dapr.io/enable-api-logging"] in ("true", "false")
    (config,) = of_kind(doks, "Configuration")
    assert ann["dapr.io/config"] == config["metadata"]["name"]
    assert ann["dapr.io/api-token-secret"] and ann["dapr.io/app-token-secret"]
    assert int(ann["dapr.io/graceful-shutdown-seconds"]) <= d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]


def test_tokens_reach_the_apps(doks):
    backend_env = {e["name"]: e for e in deployment(doks, "backend")["spec"]["template"]["spec"]["containers"][0]["env"]}
    agent_env = {e["name"]: e for e in deployment(doks, "ai-agent")["spec"]["template"]["spec"]["containers"][0]["env"]}
    ann = deployment(doks, "backend")["spec"]["template"]["metadata"]["annotations"]
    assert backend_env["DAPR_API_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": ann["dapr.io/api-token-secret"], "key": "token"}
    assert agent_env["APP_API_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": ann["dapr.io/app-token-secret"], "key": "token"}


def test_no_dapr_on_the_frontend(rendered):
    ann = deployment(rendered, "frontend")["spec"]["template"]["metadata"].get("annotations") or {}
    assert not [k for k in ann if k.startswith("dapr.io/")]


def test_consumer_groups_are_distinct_per_app(doks):
    (comp,) = of_kind(doks, "Component")
    items = {m["name"]: m.get("value") for m in comp["spec"]["metadata"]}
    # {appID} is replaced by each sidecar's app-id: one group per app, shared by its replicas.
    assert items["consumerGroup"] == "{appID}"
    app_ids = [deployment(doks, n)["spec"]["template"]["metadata"]["annotations"]["dapr.io/app-id"] for n in ("backend", "ai-agent")]
    assert len(set(app_ids)) == 2
    assert sorted(comp["scopes"]) == sorted(app_ids)


def test_pubsub_name_matches_the_services(doks):
    (comp,) = of_kind(doks, "Component")
    for cm in of_kind(doks, "ConfigMap"):
        assert cm["data"]["PUBSUB_NAME"] == comp["metadata"]["name"]
    (res,) = of_kind(doks, "Resiliency")
    assert list(res["spec"]["targets"]["components"]) == [comp["metadata"]["name"]]
    retries = res["spec"]["policies"]["retries"]
    # Finite everywhere: Dapr's default of -1 retries forever and never reaches the DLQ.
    assert retries["deliver"]["maxRetries"] == 3 and retries["publish"]["maxRetries"] >= 0


def test_chart_and_k8s_dapr_files_agree(doks):
    files = {}
    for path in (ROOT / "k8s" / "dapr").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        files[doc["kind"]] = doc
    for kind in ("Component", "Resiliency", "Configuration"):
        (chart,) = of_kind(doks, kind)
        assert chart["spec"] == files[kind]["spec"], kind
        assert chart.get("scopes") == files[kind].get("scopes"), kind
        assert chart["metadata"]["name"] == files[kind]["metadata"]["name"], kind


# --- ingress --------------------------------------------------------------------------------

def test_ingress_routes_api_to_backend_and_the_rest_to_frontend(rendered):
    (ing,) = of_kind(rendered, "Ingress")
    (rule,) = ing["spec"]["rules"]
    paths = {p["path"]: p for p in rule["http"]["paths"]}
    assert paths["/api"]["pathType"] == "Prefix"
    assert paths["/api"]["backend"]["service"]["name"] == deployment(rendered, "backend")["metadata"]["name"]
    assert paths["/"]["backend"]["service"]["name"] == deployment(rendered, "frontend")["metadata"]["name"]
    ann = ing["metadata"]["annotations"]
    assert not [k for k in ann if "rewrite" in k], "a rewrite would break /api/v1"
    assert ann["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(ann["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600
    assert ing["spec"]["ingressClassName"] == "nginx"
    # Open live-update streams are connections: NGINX caps them per address across replicas,
    # each replica caps them per user and per address.
    assert int(ann["nginx.ingress.kubernetes.io/limit-connections"]) > 0
    cm = {c["metadata"]["name"]: c for c in of_kind(rendered, "ConfigMap")}["todo-app-backend"]
    assert int(cm["data"]["STREAM_MAX_PER_USER"]) > 0 and int(cm["data"]["STREAM_MAX_PER_ADDRESS"]) > 0
    assert int(cm["data"]["CHAT_DAILY_CALLS_PER_USER"]) > 0 and int(cm["data"]["CHAT_DAILY_CALLS_TOTAL"]) > 0


def test_doks_ingress_host_and_tls(doks):
    (ing,) = of_kind(doks, "Ingress")
    host = ing["spec"]["rules"][0]["host"]
    assert ing["spec"]["tls"] == [{"secretName": "todo-app-tls", "hosts": [host]}]
    assert ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    cm = {c["metadata"]["name"]: c for c in of_kind(doks, "ConfigMap")}["todo-app-backend"]
    assert cm["data"]["COOKIE_SECURE"] == "true" and cm["data"]["TRUST_PROXY_HEADERS"] == "true"
    assert f"https://{host}" in cm["data"]["ALLOWED_ORIGINS"].split(",")


def test_doks_images_come_from_the_do_registry(doks):
    for _, spec in pod_specs(doks):
        for c in spec["containers"]:
            assert c["image"].startswith("registry.digitalocean.com/"), c["image"]


# --- migrations, config -----------------------------------------------------------------------

def test_migration_job_is_a_pre_install_and_pre_upgrade_hook(rendered):
    (job,) = of_kind(rendered, "Job")
    ann = job["metadata"]["annotations"]
    assert set(ann["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert c["args"] == ["migrate"]
    env = {e["name"]: e for e in c["env"]}
    assert env["DIRECT_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DIRECT_URL"
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "todo-app-secrets"
    # Its service account and network policy exist before it: they are hooks too.
    sa_name = job["spec"]["template"]["spec"]["serviceAccountName"]
    (sa,) = [s for s in of_kind(rendered, "ServiceAccount") if s["metadata"]["name"] == sa_name]
    assert int(sa["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(ann["helm.sh/hook-weight"])
    for cm in of_kind(rendered, "ConfigMap"):
        if component(cm) == "backend":
            assert cm["data"]["MIGRATE_ON_START"] == "false"


def checksum(docs, name):
    return deployment(docs, name)["spec"]["template"]["metadata"]["annotations"]["checksum/config"]


def test_config_checksum_rolls_pods_on_config_change(default):
    changed = render("--set", "backend.config.rustLog=debug")
    for name in ("backend", "ai-agent"):
        assert re.fullmatch(r"[0-9a-f]{64}", checksum(default, name))
        assert checksum(default, name) != checksum(changed, name)
    # A change elsewhere (an image tag) leaves the checksum alone: no needless restarts.
    assert checksum(render("--set", "image.tag=other"), "backend") == checksum(default, "backend")


def test_every_pod_is_selected_by_a_network_policy(rendered):
    policies = [p["spec"]["podSelector"]["matchLabels"] for p in of_kind(rendered, "NetworkPolicy")]
    for doc, _ in pod_specs(rendered):
        labels = doc["metadata"]["labels"] if doc["kind"] == "Pod" else doc["spec"]["template"]["metadata"]["labels"]
        assert any(sel.items() <= labels.items() for sel in policies), doc["metadata"]["name"]


# --- the values schema -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "args,message",
    [
        (["--set", "backend.replicas=3"], "replicas"),  # unknown key (typo of replicaCount)
        (["--set", "backend.replicaCount=two"], "replicaCount"),  # wrong type
        (["--set-string", "backend.config.cookieSecure=yes"], "cookieSecure"),
        (["--set", "dapr.resiliency.inbound.maxRetries=-1"], "maxRetries"),  # would block a partition
        (["--set", "backend.config.logFormat=xml"], "logFormat"),
        (["--set", "backend.config.extraEnv.DATABASE_URL=postgres://u:p@h/db"], "extraEnv"),  # secrets never as values
        (["--set", "podSecurityContext.runAsNonRoot=false"], "runAsNonRoot"),
        (["--set", "ingress.tls.enabeld=true"], "enabeld"),
        (["--set", "networkPolicy.egress.databasePorts[0]=70000"], "databasePorts"),
    ],
)
def test_schema_rejects_unknown_and_mistyped_values(args, message):
    result = helm_template(*args)
    assert result.returncode != 0, f"{args} was accepted"
    assert message in result.stderr, result.stderr


def test_trace_export_is_off_by_default_and_reaches_both_services_when_set(default):
    for doc in of_kind(default, "ConfigMap"):
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in doc["data"]
    docs = render("--set", "tracing.otlpEndpoint=http://otel-collector.observability:4318")
    names = {}
    for doc in of_kind(docs, "ConfigMap"):
        if "OTEL_EXPORTER_OTLP_ENDPOINT" in doc["data"]:
            assert doc["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"
            names[component(doc)] = doc["data"]["OTEL_SERVICE_NAME"]
    assert names == {"backend": "todo-backend", "ai-agent": "todo-ai-agent"}
    for policy in of_kind(docs, "NetworkPolicy"):
        if component(policy) in names:
            ports = [p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])]
            assert 4318 in ports, component(policy)
