#!/usr/bin/env python3
"""Validates rendered manifests offline: Kubernetes kinds against the Kubernetes 1.33 schemas
(kubernetes-validate, strict: unknown fields fail), Dapr kinds against the Dapr CRD schemas in
../shared/schemas/dapr (plus a strict pass, since CRD schemas accept unknown fields that the API
server would silently prune). Any other kind fails.

    python k8s/tests/validate.py FILE...
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.33.0"


def dapr_schema_dir() -> Path:
    # CI clones the repository with shared/ beside it, so the schemas are at ../shared relative to
    # the repository root (never an absolute path).
    return Path(os.environ.get("DAPR_SCHEMA_DIR", ROOT.parent / "shared" / "schemas" / "dapr"))


def unknown_fields(doc, schema, path="") -> list[str]:
    """Fields present in doc that the (OpenAPI) schema does not declare."""
    if not isinstance(schema, dict):
        return []
    found: list[str] = []
    if isinstance(doc, dict) and "properties" in schema:
        if schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("additionalProperties"):
            return []
        for key, value in doc.items():
            if key not in schema["properties"]:
                found.append(f"{path}.{key}")
            else:
                found += unknown_fields(value, schema["properties"][key], f"{path}.{key}")
    elif isinstance(doc, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, value in doc.items():
            found += unknown_fields(value, schema["additionalProperties"], f"{path}.{key}")
    elif isinstance(doc, list) and "items" in schema:
        for i, item in enumerate(doc):
            found += unknown_fields(item, schema["items"], f"{path}[{i}]")
    return found


def validate_dapr(doc: dict) -> list[str]:
    group, version = doc["apiVersion"].split("/")
    path = dapr_schema_dir() / f"{doc['kind'].lower()}-{version}.json"
    if not path.exists():
        return [f"no Dapr schema {path}"]
    schema = json.loads(path.read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
    errors += [f"unknown field {f}" for f in unknown_fields(doc, schema)]
    return errors


def validate(doc: dict) -> list[str]:
    if doc["apiVersion"].startswith("dapr.io/"):
        return validate_dapr(doc)
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{'/'.join(map(str, e.path))}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"no Kubernetes {KUBERNETES_VERSION} schema for {doc['apiVersion']} {doc['kind']}"]
    return []


def main(files: list[str]) -> int:
    if not dapr_schema_dir().is_dir():
        print(f"Dapr schemas not found at {dapr_schema_dir()}", file=sys.stderr)
        return 2
    failures = count = 0
    for name in files:
        for doc in yaml.safe_load_all(Path(name).read_text()):
            if not doc:
                continue
            count += 1
            for error in validate(doc):
                failures += 1
                print(f"{name}: {doc['kind']}/{doc['metadata'].get('name')}: {error}")
    print(f"validated {count} resources in {len(files)} file(s): {failures} error(s)")
    return 1 if failures or not count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
