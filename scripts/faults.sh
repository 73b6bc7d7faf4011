#!/usr/bin/env bash
# Fault tests: runs the release backend, ai-agent and Dapr stand-in as processes against a
# private PostgreSQL and, during a stream of writes through the API, freezes the sidecar, kills
# the backend (-9) and restarts it, kills the ai-agent mid-delivery and restarts it, and
# restarts PostgreSQL. After each, it counts committed changes, events the sidecar accepted and
# effects processed, prints `scenario X: committed N, delivered N, processed N` and fails on any
# mismatch (see crates/loadtest/src/bin/faults/main.rs).
#
#   RELEASE_DIR    where backend, ai-agent and dapr-emulator are (default target/release); the
#                  harness itself is built here (`cargo build --release --locked -p loadtest --bin faults`)
#   FAULTS_ARGS    extra arguments, e.g. "--writes 300 --scenarios backend,postgres"
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

release_dir=${RELEASE_DIR:-target/release}
for bin in backend ai-agent dapr-emulator; do
  [ -x "$release_dir/$bin" ] || { echo "faults: $release_dir/$bin is missing; build it first" >&2; exit 1; }
done
if [ ! -x "$release_dir/faults" ] || [ -n "$(find crates/loadtest/src -newer "$release_dir/faults" -name '*.rs' 2>/dev/null)" ]; then
  cargo build --release --locked -p loadtest --bin faults
fi

tmp=$(mktemp -d /tmp/todo-faults.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  pg_stop "$tmp/pg"
  if [ "$status" != 0 ]; then
    for log in target/faults/*.log; do
      echo "--- $log (last 15 lines) ---" >&2; tail -n 15 "$log" >&2 || true
    done
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup INT TERM EXIT

pg_port=$(free_port)
# Durability defaults: the PostgreSQL restart must not lose a committed write.
pg_start "$tmp/pg" "$pg_port" -c max_connections=100
pg_create_db "$pg_port" todo
rm -rf target/faults && mkdir -p target/faults
started=$(date +%s)
# shellcheck disable=SC2086 # FAULTS_ARGS is a list of words.
"$release_dir/faults" \
  --release-dir "$release_dir" \
  --database-url "postgres://postgres@127.0.0.1:$pg_port/todo" \
  --pg-restart-command "source scripts/postgres.sh && pg_as_owner pg_ctl -D '$tmp/pg' -w -t 60 restart -m fast >/dev/null" \
  --log-dir target/faults \
  ${FAULTS_ARGS:-}
echo "==> fault tests took $(( $(date +%s) - started )) s"
