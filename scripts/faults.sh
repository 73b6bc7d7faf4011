#!/usr/bin/env bash
# Fault tests: runs the backend and ai-agent as processes against a private PostgreSQL,
# first with the Dapr stand-in, then on real daprd sidecars and a Kafka broker, and injects one
# fault per scenario during a stream of writes through the API. After each, it counts committed
# changes, events the sidecar accepted and effects processed, prints `scenario X: committed N,
# delivered N, processed N, duplicate effects N ...` and fails on any mismatch (see
# crates/loadtest/src/bin/faults/main.rs).
#   stand-in: the sidecar frozen, the backend killed (-9) and restarted, the ai-agent killed
#             mid-delivery and restarted, PostgreSQL restarted
#   replicas: two backends and two ai-agents on one database and the stand-in, 500 writes
#             through both: each event published and delivered once and in order per user,
#             sign-outs effective on both, the sign-in throttle shared, each cron period run
#             once; then one backend killed (-9) mid-stream
#   daprd:    no fault (the latency), a second ai-agent replica killed with its sidecar, the
#             Kafka broker restarted, the backend's sidecar killed (-9) and restarted, and a
#             handler that keeps failing (dead-letter topic, store, replay)
#
#   BIN_DIR          where backend, ai-agent and dapr-emulator are (default target/release); the
#                    harness is taken from there too, and built with the same profile when missing
#                    or older than its sources
#   FAULTS_SIDECARS  which runs: "stand-in replicas dapr" (default), or some of them
#   FAULTS_ARGS      extra arguments for every run, e.g. "--writes 300 --scenarios backend,postgres"
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source scripts/backbone.sh

bin_dir=${BIN_DIR:-target/release}
for bin in backend ai-agent dapr-emulator; do
  [ -x "$bin_dir/$bin" ] || { echo "faults: $bin_dir/$bin is missing; build it first" >&2; exit 1; }
done
if [ ! -x "$bin_dir/faults" ] || [ -n "$(find crates/loadtest/src -newer "$bin_dir/faults" -name '*.rs' 2>/dev/null)" ]; then
  profile=()
  [ "$(basename "$bin_dir")" = debug ] || profile=(--release)
  cargo build "${profile[@]}" --locked -p loadtest --bin faults
fi

tmp=$(mktemp -d /tmp/todo-faults.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  [ ! -d "$tmp/kafka" ] || scripts/kafka.sh kill "$tmp/kafka"
  pg_stop "$tmp/pg"
  if [ "$status" != 0 ]; then
    for log in target/faults/*/*.log; do
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
rm -rf target/faults
started=$(date +%s)
for run in ${FAULTS_SIDECARS:-stand-in replicas dapr}; do
  db=todo_${run/-/_}
  pg_create_db "$pg_port" "$db"
  mkdir -p "target/faults/$run"
  sidecars=$run extra=()
  if [ "$run" = replicas ]; then
    echo "==> two backends and two ai-agents on the stand-in"
    sidecars=stand-in extra=(--replicas 2 --writes 500)
  fi
  if [ "$run" = dapr ]; then
    echo "==> the same on daprd $(scripts/daprd.sh version) and Kafka"
    start_kafka "$tmp/kafka"
    extra=(--kafka-dir "$tmp/kafka"
      --broker-restart-command "scripts/kafka.sh stop '$tmp/kafka' && scripts/kafka.sh start '$tmp/kafka' $(cat "$tmp/kafka/port") >/dev/null")
  fi
  # shellcheck disable=SC2086 # FAULTS_ARGS is a list of words.
  "$bin_dir/faults" \
    --sidecars "$sidecars" \
    --bin-dir "$bin_dir" \
    --database-url "postgres://postgres@127.0.0.1:$pg_port/$db" \
    --pg-restart-command "source scripts/postgres.sh && pg_as_owner pg_ctl -D '$tmp/pg' -w -t 60 restart -m fast >/dev/null" \
    --log-dir "target/faults/$run" \
    "${extra[@]}" ${FAULTS_ARGS:-}
done
echo "==> fault tests took $(( $(date +%s) - started )) s"
