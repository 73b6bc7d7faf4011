#!/usr/bin/env bash
# Builds the real Dapr sidecar (daprd) from tools/daprd through the Go module proxy, with only
# the components the product uses (see tools/daprd/README.md), and caches it under target/daprd.
#
#   scripts/daprd.sh build     build when needed; prints the binary's absolute path on stdout
#   scripts/daprd.sh version   prints the pinned Dapr release (from tools/daprd/go.mod), e.g. 1.16.5
#   scripts/daprd.sh run APP_ID APP_PORT HTTP_PORT HEALTH_PATH
#                              builds when needed, then becomes (exec) one sidecar for the app on
#                              127.0.0.1:APP_PORT, with the annotations the chart gives the pod
#                              (k8s/helm/todo-app/templates/_helpers.tpl) and the resources of dapr/
#                              (generated from the same blueprint as production). APP_API_TOKEN and
#                              DAPR_API_TOKEN are read from the environment, as in the cluster, and
#                              so are the Kafka settings (dapr/components/pubsub-kafka.yaml).
#                              DAPRD_LOG_LEVEL: default warn.
#
# The cache is target/daprd/daprd plus target/daprd/stamp, the sha256 of tools/daprd's go.mod,
# go.sum and main.go: the binary is rebuilt only when they change. GOMODCACHE and GOCACHE are
# used as set (else Go's defaults), so keep them between runs: a cold build takes many minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/tools/daprd"
OUT="$ROOT/target/daprd"
BIN="$OUT/daprd"
STAMP="$OUT/stamp"
DAPR_MOD=github.com/dapr/dapr

log() { echo "daprd.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    echo "usage: $0 build | version | run APP_ID APP_PORT HTTP_PORT HEALTH_PATH" >&2
    exit 2
}

# The pinned release as Dapr prints it (no leading v), read from go.mod without needing go.
pinned_version() {
    local v
    v="$(awk -v m="$DAPR_MOD" '
        $1 == "require" && $2 == m { print $3; exit }
        $1 == m && $2 ~ /^v/ { print $2; exit }' "$SRC/go.mod")"
    [[ -n "$v" ]] || die "no $DAPR_MOD requirement in $SRC/go.mod"
    echo "${v#v}"
}

stamp_of() {
    cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go" | sha256sum | cut -d' ' -f1
}

up_to_date() {
    [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$1" ]]
}

build() {
    command -v go >/dev/null 2>&1 ||
        die "'go' not found on PATH: install Go (1.24.11 or newer) to build daprd"

    local want version
    want="$(stamp_of)"
    version="$(pinned_version)"
    if up_to_date "$want"; then
        log "up to date: $BIN (dapr $version)"
        echo "$BIN"
        return
    fi

    mkdir -p "$OUT"
    # One build at a time: a second caller waits, then finds the binary up to date.
    exec 9>"$OUT/.lock"
    flock 9
    if up_to_date "$want"; then
        log "up to date: $BIN (dapr $version)"
        echo "$BIN"
        return
    fi
    cd "$SRC"
    export GOWORK=off # until the generated go.work below
    # -p=2 bounds memory; keep any GOFLAGS already set (environment or go env file).
    GOFLAGS="$(go env GOFLAGS) -p=2"
    export GOFLAGS
    export CGO_ENABLED=0 # as upstream's Makefile: a static binary

    log "fetching modules for dapr $version (GOMODCACHE=$(go env GOMODCACHE))"
    go mod download "$DAPR_MOD" || die "go mod download $DAPR_MOD failed (is the Go module proxy reachable?)"
    local dapr_dir
    dapr_dir="$(go list -m -f '{{.Dir}}' "$DAPR_MOD")"
    [[ -d "$dapr_dir/cmd/daprd/components" ]] || die "no cmd/daprd/components in $dapr_dir"

    # Upstream's cmd/daprd/components (imported by cmd/daprd/app) registers its components in
    # files built only with the tags stablecomponents/allcomponents, which would pull in every
    # cloud SDK; without them its zz_notag.go panics at start. Go refuses -overlay for files in
    # GOMODCACHE, so the build uses a copy of the pinned module (under target/, never committed)
    # whose zz_notag.go is reduced to its package clause, wired in by a generated go.work;
    # tools/daprd/main.go registers the components the product uses.
    local src="$OUT/dapr-src" goversion
    rm -rf "$src"
    cp -R "$dapr_dir" "$src"
    chmod -R u+w "$src"
    printf 'package components\n' >"$src/cmd/daprd/components/zz_notag.go"
    goversion="$(awk '$1 == "go" { print $2; exit }' "$SRC/go.mod")"
    printf 'go %s\n\nuse %s\n\nreplace %s v%s => %s\n' \
        "$goversion" "$SRC" "$DAPR_MOD" "$version" "$src" >"$OUT/go.work"
    rm -f "$OUT/go.work.sum"
    export GOWORK="$OUT/go.work"

    local ldflags="-s -w"
    ldflags+=" -X $DAPR_MOD/pkg/buildinfo.version=$version"
    ldflags+=" -X $DAPR_MOD/pkg/buildinfo.gitversion=v$version"
    ldflags+=" -X github.com/dapr/kit/logger.DaprVersion=$version"

    log "building daprd $version into $BIN (GOCACHE=$(go env GOCACHE); a cold build takes many minutes)"
    local start=$SECONDS
    go build -trimpath -ldflags "$ldflags" -o "$BIN.tmp" . ||
        die "go build failed"
    mv -f "$BIN.tmp" "$BIN"
    echo "$want" >"$STAMP"
    log "built in $((SECONDS - start))s: $BIN ($(du -h "$BIN" | cut -f1))"
    echo "$BIN"
}

# shellcheck source=scripts/ports.sh
source "$ROOT/scripts/ports.sh"

run() {
    [[ $# -eq 4 ]] || usage
    local bin
    bin="$(build)"
    exec "$bin" --app-id "$1" --app-port "$2" --app-protocol http --dapr-http-port "$3" \
        --dapr-grpc-port "$(free_port)" --metrics-port "$(free_port)" --dapr-listen-addresses 127.0.0.1 \
        --resources-path "$ROOT/dapr/components" --config "$ROOT/dapr/config.yaml" \
        --enable-app-health-check --app-health-check-path "$4" --log-level "${DAPRD_LOG_LEVEL:-warn}"
}

[[ $# -ge 1 ]] || usage
case "$1" in
    build) [[ $# -eq 1 ]] || usage; build ;;
    version) [[ $# -eq 1 ]] || usage; pinned_version ;;
    run) shift; run "$@" ;;
    *) usage ;;
esac
