"""The Dockerfiles' steps, checked without Docker (no engine runs on our machines or in CI).

What a broken image build would look like, caught here: a workspace member missing from the
dependency layer (the build fails on `cargo build`), a COPY of a file that does not exist, an
image whose port or user disagrees with the chart, a health check that needs a shell, an NGINX
configuration that does not start or does not serve the one-page app. The release build itself
(`cargo build --release --locked`, the command in the Dockerfiles) runs before
scripts/check-deploy.sh, which also runs the binaries' `migrate` and `healthcheck`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VALUES = yaml.safe_load((ROOT / "k8s/helm/todo-app/values.yaml").read_text())
RUST_IMAGES = {"backend": ("Dockerfile.backend", "backend"), "ai-agent": ("Dockerfile.ai-agent", "aiAgent")}
FRONTEND_READY = (ROOT / "frontend" / "package.json").exists()


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / dockerfile).read_text()
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(dockerfile: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions(dockerfile):
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def copies(stage) -> list[tuple[list[str], str]]:
    out = []
    for word, rest in stage:
        if word == "COPY" and not rest.startswith("--from"):
            *sources, dest = shlex.split(rest)
            out.append((sources, dest))
    return out


def workspace_members() -> list[str]:
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["members"]


@pytest.mark.parametrize("dockerfile", ["Dockerfile.backend", "Dockerfile.ai-agent", "Dockerfile.frontend"])
def test_copy_sources_exist(dockerfile):
    for stage in stages(dockerfile):
        for sources, _ in copies(stage):
            for src in sources:
                if src.startswith("frontend/") and not FRONTEND_READY:
                    continue  # the frontend's sources land with its own change
                assert (ROOT / src).exists(), f"{dockerfile}: COPY {src}: no such file"


@pytest.mark.parametrize("name", list(RUST_IMAGES))
def test_dependency_layer_lists_every_workspace_member(name):
    dockerfile, _ = RUST_IMAGES[name]
    build = stages(dockerfile)[0]
    copied = {src for sources, _ in copies(build) for src in sources}
    for member in workspace_members():
        assert f"{member}/Cargo.toml" in copied, f"{dockerfile} does not copy {member}/Cargo.toml into the dependency layer"


@pytest.mark.parametrize("name", list(RUST_IMAGES))
def test_dependency_layer_resolves_with_stub_crates(name, tmp_path):
    """Replays the dependency stage: its COPYs, the stubs, and cargo resolving the locked graph."""
    dockerfile, _ = RUST_IMAGES[name]
    build = stages(dockerfile)[0]
    for word, rest in build[1:]:
        if word == "RUN":
            break
        if word == "COPY":
            *sources, dest = shlex.split(rest)
            for src in sources:
                target = tmp_path / dest / (Path(src).name if dest.endswith("/") else "")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / src, target)
    subprocess.run(["sh", "scripts/stub-workspace.sh", "create"], cwd=tmp_path, check=True)
    result = subprocess.run(
        ["cargo", "metadata", "--locked", "--offline", "--format-version", "1"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    packages = {p["name"] for p in json.loads(result.stdout)["packages"]}
    assert name in packages
    subprocess.run(["sh", "scripts/stub-workspace.sh", "remove"], cwd=tmp_path, check=True)
    assert not list(tmp_path.rglob("*.rs")), "stub crate roots left behind would shadow nothing but confuse the build"


@pytest.mark.parametrize("name", list(RUST_IMAGES))
def test_rust_image_matches_the_chart(name):
    dockerfile, key = RUST_IMAGES[name]
    build, final = stages(dockerfile)
    runs = " ".join(rest for word, rest in build if word == "RUN")
    assert f"cargo build --release --locked -p {name}" in runs
    assert final[0][1].startswith("gcr.io/distroless/"), "the final image has no shell"
    d = dict((w, r) for w, r in final)
    values = VALUES[key]
    assert d["USER"] == f"{values['runAsUser']}:{values['runAsUser']}"
    assert d["EXPOSE"] == str(values["containerPort"])
    assert f"LISTEN_ADDR=0.0.0.0:{values['containerPort']}" in d["ENV"]
    entry = json.loads(d["ENTRYPOINT"])
    assert entry == [f"/usr/local/bin/{name}"]
    health = json.loads(d["HEALTHCHECK"].split("CMD", 1)[1])
    assert health[:2] == [f"/usr/local/bin/{name}", "healthcheck"], "exec form: no shell in the image"
    assert f":{values['containerPort']}{values['probes']['livenessPath']}" in health[-1]


def test_frontend_image_matches_the_chart():
    _, final = stages("Dockerfile.frontend")
    d = dict((w, r) for w, r in final)
    fe = VALUES["frontend"]
    assert "nginx-unprivileged" in final[0][1]
    assert d["USER"] == f"{fe['runAsUser']}:{fe['runAsUser']}"
    assert d["EXPOSE"] == str(fe["containerPort"])
    conf = (ROOT / "docker/nginx.conf").read_text()
    assert f"listen {fe['containerPort']};" in conf
    assert f"location = {fe['probes']['path']}" in conf
    # Read-only root filesystem: everything NGINX writes is under /tmp.
    for directive in re.findall(r"^\s*(pid|\w+_temp_path)\s+(\S+);", conf, re.M):
        assert directive[1].startswith("/tmp/"), directive


def test_dockerignore_keeps_build_output_out_of_the_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"target", "node_modules", ".git"} <= set(ignored)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), ""


def security_headers() -> dict[str, str]:
    """The headers docker/security-headers.conf adds (the backend's web.rs reads the same file)."""
    text = (ROOT / "docker/security-headers.conf").read_text()
    found = re.findall(r'^add_header ([A-Za-z-]+) "([^"]*)" always;$', text, re.M)
    assert len(found) == len([line for line in text.splitlines() if line.strip() and not line.startswith("#")]), "one header a line"
    return dict(found)


def test_security_headers_include_a_strict_content_security_policy():
    headers = security_headers()
    assert {"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} <= set(headers)
    csp = {d.split()[0]: d.split()[1:] for d in headers["Content-Security-Policy"].split("; ")}
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"] and csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert not [v for values in csp.values() for v in values if "unsafe" in v], csp


def test_nginx_serves_the_one_page_app():
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    assert nginx, "nginx is not installed (./dev test installs it: scripts/debian-packages.txt)"
    # Not pytest's tmp_path: run as root, NGINX's workers switch to `nobody`, who must be able
    # to reach the files (pytest's base directory is private).
    tmp_path = Path(tempfile.mkdtemp(prefix="nginx-test-"))
    html = tmp_path / "html"
    (html / "assets").mkdir(parents=True)
    (html / "index.html").write_text("<!doctype html><title>todo</title>")
    (html / "assets" / "app-1234.js").write_text("console.log(1)")
    for p in (tmp_path, html, html / "assets"):
        p.chmod(0o755)
    port = free_port()
    conf = (ROOT / "docker/nginx.conf").read_text()
    conf = conf.replace("/tmp/", f"{tmp_path}/")
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};").replace("/usr/share/nginx/html", str(html))
    (tmp_path / "nginx.conf").write_text(conf)
    shutil.copy(ROOT / "docker/security-headers.conf", tmp_path)
    test = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    proc = subprocess.Popen([nginx, "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        assert get(f"{base}/healthz")[0] == 200
        status, headers, body = get(f"{base}/tasks/123")  # a client-side route
        assert status == 200 and "<title>todo</title>" in body and headers["Cache-Control"] == "no-cache"
        status, headers, _ = get(f"{base}/assets/app-1234.js")
        assert status == 200 and "immutable" in headers["Cache-Control"]
        assert get(f"{base}/assets/missing.js")[0] == 404
        assert get(f"{base}/api/v1/tasks")[0] == 404
        # Every security header on every path, whatever the location and the status.
        # (NGINX drops the server's add_header lines in a location that has any of its own.)
        expected = security_headers()
        for path in ["/", "/index.html", "/tasks/123", "/assets/app-1234.js", "/assets/missing.js", "/favicon.svg", "/api/v1/tasks", "/healthz"]:
            _, headers, _ = get(f"{base}{path}")
            for name, value in expected.items():
                assert headers.get(name) == value, f"{path}: {name} is {headers.get(name)!r}"
        assert get(f"{base}/index.html")[1]["Cache-Control"] == "no-cache"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp_path, ignore_errors=True)
