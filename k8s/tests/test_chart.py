"""Properties of the rendered chart that a deployment relies on (issue: deployment, section 2).

Run by scripts/check-deploy.sh with HELM pointing at the helm binary it installed:
    HELM=target/deploy-tools/helm/helm target/deploy-venv/bin/pytest k8s/tests
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "k8s" / "helm" / "todo-app"
DOKS = CHART / "values-doks.yaml"
HELM = os.environ.get("HELM", "helm")

SECRET_ENV = {"DATABASE_URL", "DIRECT_URL", "OPENAI_API_KEY", "DAPR_API_TOKEN", "APP_API_TOKEN"}


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


APP_TOKEN_SECRET = "todo-app-app-token"


def test_no_secret_values_anywhere(rendered):
    # The one Secret the chart writes is its own random app token (when dapr.appTokenSecret
    # names none); every other secret is only referenced.
    for secret in of_kind(rendered, "Secret"):
        assert secret["metadata"]["name"] == APP_TOKEN_SECRET and set(secret["data"]) == {"token"}, secret["metadata"]
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


def agent_token_ref(docs: list[dict]) -> dict:
    env = {e["name"]: e for e in deployment(docs, "ai-agent")["spec"]["template"]["spec"]["containers"][0]["env"]}
    return env["APP_API_TOKEN"]["valueFrom"]["secretKeyRef"]


def test_the_agent_always_gets_an_app_token(default, doks):
    # The operator's Secret when named (DOKS), else the chart's own; with or without Dapr.
    assert agent_token_ref(doks) == {"name": "todo-dapr-app-token", "key": "token"}
    assert not of_kind(doks, "Secret")
    for docs in (default, render("--set", "dapr.enabled=false")):
        assert agent_token_ref(docs) == {"name": APP_TOKEN_SECRET, "key": "token"}
        assert [s["metadata"]["name"] for s in of_kind(docs, "Secret")] == [APP_TOKEN_SECRET]
    # Both sidecars send the same token the agent checks.
    for name in ("backend", "ai-agent"):
        assert deployment(default, name)["spec"]["template"]["metadata"]["annotations"]["dapr.io/app-token-secret"] == APP_TOKEN_SECRET


def container_env(docs: list[dict], name: str) -> dict[str, dict]:
    return {e["name"]: e for e in deployment(docs, name)["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_web_push_keys_come_from_the_secret_only_when_enabled(default):
    for name in ("backend", "ai-agent"):
        assert not {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT"} & container_env(default, name).keys()
    assert 443 not in {port for name, rule in egress_rules(default) if name == "ai-agent" for port in rule_ports(rule)}

    docs = render("--set", "push.enabled=true", "--set", "push.subject=mailto:ops@example.com")
    backend, agent = container_env(docs, "backend"), container_env(docs, "ai-agent")
    assert backend["VAPID_PUBLIC_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "todo-app-secrets", "key": "VAPID_PUBLIC_KEY"}
    assert "VAPID_PRIVATE_KEY" not in backend, "the private key goes to the agent only"
    assert agent["VAPID_PRIVATE_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "todo-app-secrets", "key": "VAPID_PRIVATE_KEY"}
    assert agent["VAPID_SUBJECT"]["value"] == "mailto:ops@example.com"
    assert backend["PUSH_ENDPOINT_HOSTS"]["value"] == agent["PUSH_ENDPOINT_HOSTS"]["value"]
    # The push services are on the internet: the agent gets HTTPS there, never private ranges.
    assert 443 in {port for name, rule in egress_rules(docs) if name == "ai-agent" for port in rule_ports(rule)}

    result = helm_template("--set", "push.enabled=true")
    assert result.returncode != 0 and "push.subject" in result.stderr


def app_token(docs: list[dict]) -> str:
    (secret,) = of_kind(docs, "Secret")
    return base64.b64decode(secret["data"]["token"]).decode()


def test_chart_app_token_is_random(default):
    token = app_token(default)
    assert re.fullmatch(r"[A-Za-z0-9]{64}", token), token
    assert app_token(render()) != token


class FakeCluster(http.server.BaseHTTPRequestHandler):
    """Just enough of the Kubernetes API for `helm template --dry-run=server`: discovery of the
    chart's kinds, and GET of the one Secret in `secrets` (anything else is absent)."""

    KINDS = [
        ("", "v1", "Secret", "secrets"), ("", "v1", "ConfigMap", "configmaps"), ("", "v1", "Service", "services"),
        ("", "v1", "ServiceAccount", "serviceaccounts"), ("", "v1", "Pod", "pods"), ("apps", "v1", "Deployment", "deployments"),
        ("batch", "v1", "Job", "jobs"), ("networking.k8s.io", "v1", "Ingress", "ingresses"),
        ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies"), ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets"),
        ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
        ("dapr.io", "v1alpha1", "Configuration", "configurations"), ("dapr.io", "v1alpha1", "Component", "components"),
        ("dapr.io", "v1alpha1", "Resiliency", "resiliencies"),
    ]
    secrets: dict[str, dict] = {}

    def routes(self) -> dict:
        routes = {
            "/version": {"major": "1", "minor": "33", "gitVersion": "v1.33.0"},
            "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
        }
        groups = {}
        for group, version, kind, plural in self.KINDS:
            gv = f"{group}/{version}" if group else version
            listing = routes.setdefault(f"/apis/{gv}" if group else "/api/v1", {"kind": "APIResourceList", "groupVersion": gv, "resources": []})
            listing["resources"].append({"name": plural, "singularName": kind.lower(), "namespaced": True, "kind": kind, "verbs": ["get"]})
            if group:
                groups[group] = {"name": group, "versions": [{"groupVersion": gv, "version": version}], "preferredVersion": {"groupVersion": gv, "version": version}}
        routes["/apis"] = {"kind": "APIGroupList", "apiVersion": "v1", "groups": list(groups.values())}
        for name, secret in self.secrets.items():
            routes[f"/api/v1/namespaces/todo/secrets/{name}"] = secret
        return routes

    def do_GET(self):
        body = self.routes().get(self.path.split("?")[0])
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body or {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_cluster(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeCluster)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "fake", "user": {"token": "fake"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": "todo"}}],
    }))
    FakeCluster.secrets = {}
    yield lambda: render("--dry-run=server", "--disable-openapi-validation", "--kubeconfig", str(kubeconfig))
    server.shutdown()


def test_chart_app_token_is_kept_across_upgrades(fake_cluster):
    first = app_token(fake_cluster())  # a first install: nothing to look up
    FakeCluster.secrets[APP_TOKEN_SECRET] = {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": {"token": base64.b64encode(first.encode()).decode()},
        "metadata": {
            "name": APP_TOKEN_SECRET, "namespace": "todo", "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "annotations": {"meta.helm.sh/release-name": "todo-app", "meta.helm.sh/release-namespace": "todo"},
        },
    }
    assert app_token(fake_cluster()) == first  # an upgrade reads it back
    assert app_token(fake_cluster()) == first


def test_agent_metrics_on_their_own_port(default):
    agent = deployment(default, "ai-agent")
    (c,) = agent["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"http": 8081, "metrics": 9464}
    (cm,) = [c for c in of_kind(default, "ConfigMap") if component(c) == "ai-agent"]
    assert cm["data"]["METRICS_LISTEN_ADDR"] == "0.0.0.0:9464"
    docs = render("--set", "metrics.scrapeAnnotations=true", "--set", "aiAgent.metricsPort=9500")
    agent = deployment(docs, "ai-agent")
    assert agent["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "9500"
    (policy,) = [p for p in of_kind(docs, "NetworkPolicy") if component(p) == "ai-agent"]
    by_port = {}
    for rule in policy["spec"]["ingress"]:
        for port in rule["ports"]:
            by_port.setdefault(port["port"], []).extend(rule["from"])
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    # Only the monitoring namespace reaches the metrics port, and it does not reach deliveries.
    assert by_port["metrics"] == [monitoring]
    assert monitoring not in by_port["http"]
    refused = helm_template("--set", "aiAgent.metricsPort=8081")
    assert refused.returncode != 0 and "aiAgent.metricsPort" in refused.stderr


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


def backend_config(docs: list[dict]) -> dict:
    (cm,) = [c for c in of_kind(docs, "ConfigMap") if component(c) == "backend"]
    return cm["data"]


def test_secure_transport_by_default(default):
    assert backend_config(default)["COOKIE_SECURE"] == "true"
    (ing,) = of_kind(default, "Ingress")
    assert ing["spec"]["tls"] == [{"secretName": "todo-app-tls"}]
    assert ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"


@pytest.mark.parametrize("setting", ["backend.config.cookieSecure=false", "ingress.tls.enabled=false"])
def test_plain_http_needs_the_named_opt_out(setting):
    refused = helm_template("--set", setting)
    assert refused.returncode != 0, f"{setting} rendered without insecure.allowPlainHttp"
    assert setting.split("=")[0] in refused.stderr and "insecure.allowPlainHttp=true" in refused.stderr, refused.stderr
    docs = render("--set", setting, "--set", "insecure.allowPlainHttp=true")
    if setting.startswith("backend"):
        assert backend_config(docs)["COOKIE_SECURE"] == "false"
    else:
        (ing,) = of_kind(docs, "Ingress")
        assert "tls" not in ing["spec"]
    # With the ingress off there is no ingress TLS to ask for.
    assert helm_template("--set", "ingress.enabled=false").returncode == 0


def test_no_auth_secret(rendered):
    # Nothing reads AUTH_SECRET (sessions are random ids stored in PostgreSQL).
    for _, spec in pod_specs(rendered):
        for c in spec["containers"]:
            assert "AUTH_SECRET" not in {e["name"] for e in c.get("env", [])}
    result = helm_template("--set", "secrets.keys.authSecret=AUTH_SECRET")
    assert result.returncode != 0 and "authSecret" in result.stderr


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


def egress_rules(docs: list[dict]):
    for policy in of_kind(docs, "NetworkPolicy"):
        for rule in policy["spec"].get("egress") or []:
            yield component(policy), rule


def rule_ports(rule: dict) -> set[int]:
    return {p["port"] for p in rule.get("ports", [])}


def test_dns_only_to_the_cluster_dns(rendered):
    dns_rules = [(name, rule) for name, rule in egress_rules(rendered) if 53 in rule_ports(rule)]
    assert {name for name, _ in dns_rules} == {"backend", "ai-agent", "migrate", "test"}
    for name, rule in dns_rules:
        assert {(p["port"], p["protocol"]) for p in rule["ports"]} == {(53, "UDP"), (53, "TCP")}, name
        assert rule["to"] == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ], name


def test_no_egress_to_any_address_by_default(default):
    """0.0.0.0/0 only for HTTPS to the internet, never to private or link-local addresses."""
    for name, rule in egress_rules(default):
        assert rule.get("to"), f"{name}: an egress rule without `to` reaches every address"
        for peer in rule["to"]:
            block = peer.get("ipBlock")
            if block and block["cidr"] == "0.0.0.0/0":
                assert rule_ports(rule) == {443}, name
                assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(block["except"]), name


def cidrs_for(docs: list[dict], port: int) -> dict[str, list[str]]:
    return {
        name: [peer["ipBlock"]["cidr"] for peer in rule["to"]]
        for name, rule in egress_rules(docs)
        if port in rule_ports(rule)
    }


def test_database_and_broker_egress_follow_their_cidrs(default, doks):
    private = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    assert cidrs_for(default, 5432) == {"backend": private, "ai-agent": private, "migrate": private}
    assert cidrs_for(default, 9092) == {"backend": private, "ai-agent": private}
    # DOKS: Managed Kafka on its private port inside the VPC; Neon has no fixed addresses.
    assert cidrs_for(doks, 25080) == {"backend": ["10.110.0.0/20"], "ai-agent": ["10.110.0.0/20"]}
    assert not cidrs_for(doks, 25073)
    assert set(map(tuple, cidrs_for(doks, 5432).values())) == {("0.0.0.0/0",)}
    docs = render("--set", "networkPolicy.egress.databaseCidrs={10.20.0.0/16}", "--set", "networkPolicy.egress.brokerCidrs={10.30.0.0/24,10.31.0.0/24}")
    assert set(map(tuple, cidrs_for(docs, 5432).values())) == {("10.20.0.0/16",)}
    assert set(map(tuple, cidrs_for(docs, 9092).values())) == {("10.30.0.0/24", "10.31.0.0/24")}


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
        (["--set", "networkPolicy.egress.databaseCidrs={10.0.0.1}"], "databaseCidrs"),  # no prefix length
        (["--set", "networkPolicy.egress.brokerCidrs={}"], "brokerCidrs"),
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
