#!/usr/bin/env bash
# The load benchmark: release builds of the backend, the Dapr stand-in and the load generator,
# a throwaway PostgreSQL, and one run of `loadtest` against them. Called by `./dev bench`;
# arguments go to loadtest (`./dev bench -- --users 500 --duration 30`, see
# `target/release/loadtest --help`). The report is printed and kept in
# target/bench/report-<timestamp>.txt; the one line starting with `{` is its JSON summary.
# `./dev bench cron` runs the cron sweep benchmark instead (scripts/bench-cron.sh).
#
#   BENCH_DB_CONNECTIONS   the backend's pool size (default 16, see below)
#   BENCH_BACKEND_ENV      extra `NAME=value` words for the backend's environment
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/postgres.sh

if [ "${1:-}" = "--" ]; then shift; fi
# `./dev bench cron`: the cron sweep benchmark over a million tasks instead of the load test.
if [ "${1:-}" = "cron" ]; then
  shift
  cargo build --release --locked -p backend -p ai-agent
  exec scripts/bench-cron.sh "$@"
fi

# 16 on 2 cores: a request's transaction spends most of its life waiting for round trips
# between the backend and PostgreSQL and for the WAL flush at commit, not on a core, so a few
# connections per core keep both busy and let commits share flushes; many more only add
# context switches and queue inside PostgreSQL instead of in the pool. Measured at 100 users
# without sign-ins (20 s): 8 gave 1566 req/s with p99 186 ms, 16 gave 1590 req/s with p99
# 94 ms, 32 gave 1431 req/s with p99 159 ms.
db_connections=${BENCH_DB_CONNECTIONS:-16}

command -v curl >/dev/null || { echo "curl is needed to wait for the services" >&2; exit 1; }

echo "==> building release binaries"
cargo build --release --locked -p backend -p ai-agent -p dapr-emulator -p loadtest

tmp=$(mktemp -d /tmp/todo-bench.XXXXXX)
# The postgres user must reach the cluster directory inside it.
chmod 755 "$tmp"
pids=()
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  # TERM first so the backend drains and the relay stops cleanly; then PostgreSQL.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup INT TERM EXIT

pg_port=$(free_port)
echo "==> starting PostgreSQL on port $pg_port (durability defaults; pg_stat_statements loaded)"
pg_start "$tmp/pg" "$pg_port" -c shared_preload_libraries=pg_stat_statements -c max_connections=200
pg_create_db "$pg_port" todo
psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc "create extension if not exists pg_stat_statements" todo
database_url="postgres://postgres@127.0.0.1:$pg_port/todo"
pg_pid=$(head -n 1 "$tmp/pg/postmaster.pid")

dapr_port=$(free_port)
agent_port=$(free_port)

api_port=$(free_port)
base_url="http://127.0.0.1:$api_port"
# AUTH_RATE_LIMIT_PER_MINUTE=0: every virtual user signs in from 127.0.0.1, and the limiter
# would answer most of them 429.
# shellcheck disable=SC2086 # BENCH_BACKEND_ENV is a list of NAME=value words.
env DATABASE_URL="$database_url" \
  LISTEN_ADDR="127.0.0.1:$api_port" \
  DAPR_HTTP_PORT="$dapr_port" \
  DATABASE_MAX_CONNECTIONS="$db_connections" \
  AUTH_RATE_LIMIT_PER_MINUTE=0 \
  LOG_FORMAT=json \
  RUST_LOG=warn \
  ${BENCH_BACKEND_ENV:-} \
  target/release/backend serve >"$tmp/backend.log" 2>&1 &
backend_pid=$!
pids+=("$backend_pid")

echo "==> waiting for the backend on $base_url"
for _ in $(seq 1 150); do
  if curl -fsS "$base_url/ready" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$backend_pid" 2>/dev/null; then
    echo "the backend exited:" >&2; tail -n 30 "$tmp/backend.log" >&2; exit 1
  fi
  sleep 0.2
done
curl -fsS "$base_url/ready" >/dev/null || { echo "the backend did not become ready" >&2; tail -n 30 "$tmp/backend.log" >&2; exit 1; }

# The assistants, so the report has change → suggestion latency. Started after the backend
# applied the migrations, and before the stand-in, which discovers their subscription at start.
# No cron passes (only events make suggestions here) and no hourly cap (a virtual user makes
# far more tasks than a person).
env DATABASE_URL="$database_url" LISTEN_ADDR="127.0.0.1:$agent_port" DAPR_HTTP_PORT="$dapr_port" \
  CRON_ENABLED=false SUGGESTIONS_PER_HOUR=1000000 LOG_FORMAT=json RUST_LOG=warn \
  target/release/ai-agent serve >"$tmp/agent.log" 2>&1 &
agent_pid=$!
pids+=("$agent_pid")
for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$agent_port/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$agent_port/ready" >/dev/null || { echo "the ai-agent did not become ready" >&2; tail -n 30 "$tmp/agent.log" >&2; exit 1; }

RUST_LOG=warn target/release/dapr-emulator --port "$dapr_port" --app-url "http://127.0.0.1:$agent_port" \
  >"$tmp/emulator.log" 2>&1 &
emulator_pid=$!
pids+=("$emulator_pid")
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$dapr_port/v1.0/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

mkdir -p target/bench
report="target/bench/report-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "# Todo load benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
  echo "# machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
  echo "# $("$(pg_bin_dir)/postgres" --version), max_connections=200, durability defaults"
  echo "# backend: DATABASE_MAX_CONNECTIONS=$db_connections, AUTH_RATE_LIMIT_PER_MINUTE=0, RUST_LOG=warn ${BENCH_BACKEND_ENV:-}"
  echo "# loadtest args: ${*:-(defaults)}"
  echo
} >"$report"

echo "==> running the load test"
target/release/loadtest \
  --base-url "$base_url" \
  --database-url "$database_url" \
  --backend-pid "$backend_pid" \
  --emulator-pid "$emulator_pid" \
  --agent-pid "$agent_pid" \
  --postgres-pid "$pg_pid" \
  "$@" | tee -a "$report"

# Anything the services complained about during the run belongs in the report.
{
  echo
  echo "# backend log: $(grep -c '"level":"WARN"' "$tmp/backend.log" || true) warnings, $(grep -c '"level":"ERROR"' "$tmp/backend.log" || true) errors"
  grep -m 5 -E '"level":"(WARN|ERROR)"' "$tmp/backend.log" | sed 's/^/#   /' || true
  echo "# emulator log: $(grep -c -E 'WARN|ERROR' "$tmp/emulator.log" || true) warnings or errors"
} | tee -a "$report"
echo "==> report written to $report"
