#!/usr/bin/env bash
# The load benchmark: release builds of the backend, the ai-agent, the Dapr stand-in and the
# load generator, one throwaway PostgreSQL, and in one run:
#   - the floor: pgbench inserting one row per transaction into a table shaped like `task`
#     (same columns, checks and indexes) at 16 clients, on the same PostgreSQL;
#   - the load test (`loadtest`, 100 closed-loop users by default) for three workloads (mixed,
#     create only, list only) against the backend alone (relay on, a stand-in that takes the
#     events and delivers them nowhere) and against the whole product as `./dev run` starts it
#     (backend, ai-agent, stand-in delivering to it);
#   - the tails: the whole product offered half the capacity its mixed row measured, in an open
#     loop (`loadtest --rate`), so latencies show stalls rather than queueing.
# Then a table of every figure with its ratio to the floor, the CPU of each process (PostgreSQL
# with its connection processes) and each service's peak RSS. Called by `./dev bench`; arguments
# go to every loadtest run (`./dev bench -- --users 500 --duration 60`, see
# `target/release/loadtest --help`; the script sets `--mix` per row). The report is kept in
# target/bench/report-<timestamp>.txt. `./dev bench cron` runs the cron sweep benchmark instead
# (scripts/bench-cron.sh), `./dev bench soak [MINUTES]` the soak run (scripts/soak.sh).
#
#   BENCH_DB_CONNECTIONS   the backend's pool size (default 16, see below)
#   BENCH_BACKEND_ENV      extra `NAME=value` words for the backend's environment
#   BENCH_AGENT_ENV        extra `NAME=value` words for the ai-agent's environment
#   BENCH_ROWS             which rows to run (default "backend:mixed backend:create backend:list
#                          product:mixed product:create product:list product:tails"; tails
#                          needs product:mixed before it)
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
if [ "${1:-}" = "soak" ]; then
  shift
  exec scripts/soak.sh "$@"
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
  end_run "$tmp" "$status"
  exit "$status"
}
trap cleanup INT TERM EXIT

echo "==> starting PostgreSQL (durability defaults; pg_stat_statements loaded)"
database_url=$(throwaway_postgres "$tmp" todo -c shared_preload_libraries=pg_stat_statements -c max_connections=200)
psql "$database_url" -qc "create extension if not exists pg_stat_statements"
pg_pid=$(head -n 1 "$tmp/pg/postmaster.pid")

# The floor's table is shaped like `task`, which the migrations make.
DATABASE_URL=$database_url target/release/backend migrate >"$tmp/logs/migrate.log" 2>&1

echo "==> the floor: pgbench, one-row inserts into a table shaped like task, 16 clients, 15 s"
psql "$database_url" -qc "create table bench_floor_task (like task including all)"
# 100 users' rows, as in the load test; every column a created task fills, so the same
# indexes (the trigram search, tag and project indexes included) do the same work. `like`
# copies no foreign keys: the floor is the insert alone.
cat >"$tmp/floor.sql" <<'SQL'
\set user random(1, 100)
insert into bench_floor_task (task_id, user_id, title, series_id, tags, tag_keys, due_at, project_id)
values (gen_random_uuid(), ('00000000-0000-0000-0000-' || lpad(:user::text, 12, '0'))::uuid,
        'Benchmark task ' || :user, gen_random_uuid(), '{home}', '{home}', now() + interval '1 day',
        ('00000000-0000-0000-0001-' || lpad(:user::text, 12, '0'))::uuid);
SQL
"$(pg_bin_dir)/pgbench" -n -c 16 -j 2 -T 15 -f "$tmp/floor.sql" "$database_url" >"$tmp/floor.out" 2>&1 ||
  { cat "$tmp/floor.out" >&2; exit 1; }
floor_tps=$(grep -oP '^tps = \K[0-9.]+' "$tmp/floor.out")
psql "$database_url" -qc "drop table bench_floor_task"
echo "    $floor_tps inserts/s"

mkdir -p target/bench
stamp=$(date -u +%Y%m%dT%H%M%SZ)
report="target/bench/report-$stamp.txt"
{
  echo "# Todo load benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
  echo "# machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
  echo "# $("$(pg_bin_dir)/postgres" --version), max_connections=200, durability defaults"
  echo "# backend: DATABASE_MAX_CONNECTIONS=$db_connections, AUTH_RATE_LIMIT_PER_MINUTE=0, WRITE_RATE_LIMIT_PER_MINUTE=1000000000, MAX_TASKS_PER_USER=2000000000, RUST_LOG=warn ${BENCH_BACKEND_ENV:-}"
  echo "# ai-agent: CRON_ENABLED=false, SUGGESTIONS_PER_HOUR=1000000 ${BENCH_AGENT_ENV:-}"
  echo "# loadtest args: ${*:-(defaults)}"
  echo "# floor: $floor_tps inserts/s (pgbench -c 16 -j 2 -T 15)"
  echo
} >"$report"

# The issue's workloads: the mixed one is 40 % list, 25 % create, 15 % patch, 10 % complete,
# 5 % reopen, 5 % get, no sign-ins or deletes.
declare -A MIXES=(
  [mixed]="sign_in=0,list=400,get=50,create=250,update=150,complete=100,reopen=50,delete=0"
  [create]="sign_in=0,list=0,get=0,create=1000,update=0,complete=0,reopen=0,delete=0"
  [list]="sign_in=0,list=1000,get=0,create=0,update=0,complete=0,reopen=0,delete=0"
)
rows=${BENCH_ROWS:-"backend:mixed backend:create backend:list product:mixed product:create product:list product:tails"}
mkdir "$tmp/results"
# AUTH_RATE_LIMIT_PER_MINUTE=0: every virtual user signs in from 127.0.0.1, and the limiter
# would answer most of them 429. A virtual user writes far faster and more than a person: the
# write rate and the task quota are set out of reach but still checked, so their cost is measured.
# shellcheck disable=SC2206 # BENCH_BACKEND_ENV is a list of NAME=value words.
BACKEND_ENV=(DATABASE_MAX_CONNECTIONS="$db_connections" AUTH_RATE_LIMIT_PER_MINUTE=0
  WRITE_RATE_LIMIT_PER_MINUTE=1000000000 MAX_TASKS_PER_USER=2000000000 ${BENCH_BACKEND_ENV:-})
# The assistants give the report its change → suggestion latency. No cron passes (only events
# make suggestions here) and no hourly cap (a virtual user makes far more tasks than a person).
# shellcheck disable=SC2206 # BENCH_AGENT_ENV is a list of NAME=value words.
AGENT_ENV=(CRON_ENABLED=false SUGGESTIONS_PER_HOUR=1000000 ${BENCH_AGENT_ENV:-})
for setup in backend product; do
  wanted=()
  for row in $rows; do [ "${row%%:*}" != "$setup" ] || wanted+=("${row#*:}"); done
  [ "${#wanted[@]}" -gt 0 ] || continue
  START_AGENT=true
  [ "$setup" = product ] || START_AGENT=false
  api_port=$(free_port)
  base_url="http://127.0.0.1:$api_port"
  echo "==> starting the $([ "$setup" = product ] && echo "whole product" || echo "backend alone") on $base_url"
  DATABASE_URL=$database_url LOG_FORMAT=json RUST_LOG=warn \
    start_product "$api_port" "$(free_port)" "$(free_port)" "$tmp/logs"
  watched=(--backend-pid "${PRODUCT_PIDS[backend]}" --emulator-pid "${PRODUCT_PIDS[dapr-emulator]}")
  [ "$setup" = backend ] || watched+=(--agent-pid "${PRODUCT_PIDS[ai-agent]}")
  for workload in "${wanted[@]}"; do
    echo "==> load test: $setup, $workload" | tee -a "$report"
    mix=${MIXES[$workload]:-}
    pacing=()
    if [ "$workload" = tails ]; then
      capacity=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["overall"]["throughput_rps"]))' \
        "$tmp/results/$setup-mixed.json") || { echo "the tails row needs $setup:mixed before it" >&2; exit 1; }
      mix=${MIXES[mixed]}
      pacing=(--rate $((capacity / 2)))
    fi
    target/release/loadtest --base-url "$base_url" --database-url "$database_url" \
      "${watched[@]}" --postgres-pid "$pg_pid" --mix "$mix" "${pacing[@]}" "$@" |
      tee -a "$report" | tee "$tmp/results/$setup-$workload.out"
    grep '^{' "$tmp/results/$setup-$workload.out" >"$tmp/results/$setup-$workload.json"
  done
  stop_product
  # Anything the services complained about during the run belongs in the report.
  {
    echo
    echo "# backend log: $(grep -c '"level":"WARN"' "$tmp/logs/backend.log" || true) warnings, $(grep -c '"level":"ERROR"' "$tmp/logs/backend.log" || true) errors"
    grep -m 5 -E '"level":"(WARN|ERROR)"' "$tmp/logs/backend.log" | sed 's/^/#   /' || true
    echo "# emulator log: $(grep -c -E 'WARN|ERROR' "$tmp/logs/dapr-emulator.log" || true) warnings or errors"
  } | tee -a "$report"
  for log in "$tmp"/logs/*.log; do mv "$log" "$log.$setup"; done
done

python3 scripts/bench-table.py "$floor_tps" "$tmp/results" | tee -a "$report"
echo "==> report written to $report"
