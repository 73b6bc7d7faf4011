"""The local multi-app run (dapr.yaml, dapr/) agrees with production, so `dapr run -f .` runs the
code path the cluster runs (same app ids, ports, pub/sub name, retry policies)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VALUES = yaml.safe_load((ROOT / "k8s/helm/todo-app/values.yaml").read_text())


def load(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def test_run_file_starts_both_services_like_the_chart():
    run = load("dapr.yaml")
    assert run["version"] == 1
    assert (ROOT / run["common"]["resourcesPath"]).is_dir()
    assert (ROOT / run["common"]["configFilePath"]).is_file()
    apps = {a["appID"]: a for a in run["apps"]}
    for key, binary in (("backend", "backend"), ("aiAgent", "ai-agent")):
        app = apps[VALUES["dapr"][key]["appId"]]
        assert app["appPort"] == VALUES[key]["containerPort"]
        assert app["env"]["LISTEN_ADDR"].endswith(f":{app['appPort']}")
        assert binary in app["command"] and app["command"][-1] == "serve"
        assert (ROOT / app["appDirPath"]).is_dir()


def test_local_pubsub_has_the_production_name():
    comp = load("dapr/components/pubsub-kafka.yaml")
    assert comp["metadata"]["name"] == VALUES["dapr"]["pubsub"]["name"] == load("k8s/dapr/pubsub-kafka.yaml")["metadata"]["name"]
    assert sorted(comp["scopes"]) == sorted([VALUES["dapr"]["backend"]["appId"], VALUES["dapr"]["aiAgent"]["appId"]])


def test_local_pubsub_is_the_production_component_but_for_where_secrets_come_from():
    local, prod = load("dapr/components/pubsub-kafka.yaml"), load("k8s/dapr/pubsub-kafka.yaml")
    assert local["spec"]["type"] == prod["spec"]["type"] == "pubsub.kafka"
    assert {k: v for k, v in local["spec"].items() if k != "metadata"} == {k: v for k, v in prod["spec"].items() if k != "metadata"}
    local_meta = {m["name"]: m for m in local["spec"]["metadata"]}
    prod_meta = {m["name"]: m for m in prod["spec"]["metadata"]}
    assert local_meta.keys() == prod_meta.keys()
    for name, item in prod_meta.items():
        if "value" in item:
            assert local_meta[name] == item, name
        else:
            # Secrets come from the sidecar's environment, through the local env secret store.
            assert "secretKeyRef" in local_meta[name], name
    store = load("dapr/components/secretstore.yaml")
    assert local["auth"]["secretStore"] == store["metadata"]["name"]
    assert store["spec"]["type"] == "secretstores.local.env"


def test_local_resiliency_equals_production():
    assert load("dapr/components/resiliency.yaml")["spec"] == load("k8s/dapr/resiliency.yaml")["spec"]
