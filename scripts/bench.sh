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
# A failing command inside $(...) fails the assignment, and so the run.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source scripts/product.sh

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
mkdir "$tmp/logs"
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  stop_product
  if [ "$status" != 0 ]; then print_logs "$tmp/logs" >&2; fi
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup INT TERM EXIT

echo "==> starting PostgreSQL (durability defaults; pg_stat_statements loaded)"
database_url=$(throwaway_postgres "$tmp" todo -c shared_preload_libraries=pg_stat_statements -c max_connections=200)
psql "$database_url" -qc "create extension if not exists pg_stat_statements"
pg_pid=$(head -n 1 "$tmp/pg/postmaster.pid")

api_port=$(free_port)
base_url="http://127.0.0.1:$api_port"
echo "==> starting the backend on $base_url, the assistants and the Dapr stand-in"
# AUTH_RATE_LIMIT_PER_MINUTE=0: every virtual user signs in from 127.0.0.1, and the limiter
# would answer most of them 429.
# shellcheck disable=SC2206 # BENCH_BACKEND_ENV is a list of NAME=value words.
BACKEND_ENV=(DATABASE_MAX_CONNECTIONS="$db_connections" AUTH_RATE_LIMIT_PER_MINUTE=0 ${BENCH_BACKEND_ENV:-})
# The assistants give the report its change → suggestion latency. No cron passes (only events
# make suggestions here) and no hourly cap (a virtual user makes far more tasks than a person).
AGENT_ENV=(CRON_ENABLED=false SUGGESTIONS_PER_HOUR=1000000)
DATABASE_URL=$database_url LOG_FORMAT=json RUST_LOG=warn \
  start_product "$api_port" "$(free_port)" "$(free_port)" "$tmp/logs"

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
  --backend-pid "${PRODUCT_PIDS[backend]}" \
  --emulator-pid "${PRODUCT_PIDS[dapr-emulator]}" \
  --agent-pid "${PRODUCT_PIDS[ai-agent]}" \
  --postgres-pid "$pg_pid" \
  "$@" | tee -a "$report"

# Anything the services complained about during the run belongs in the report.
{
  echo
  echo "# backend log: $(grep -c '"level":"WARN"' "$tmp/logs/backend.log" || true) warnings, $(grep -c '"level":"ERROR"' "$tmp/logs/backend.log" || true) errors"
  grep -m 5 -E '"level":"(WARN|ERROR)"' "$tmp/logs/backend.log" | sed 's/^/#   /' || true
  echo "# emulator log: $(grep -c -E 'WARN|ERROR' "$tmp/logs/dapr-emulator.log" || true) warnings or errors"
} | tee -a "$report"
echo "==> report written to $report"
