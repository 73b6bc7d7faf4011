#!/usr/bin/env bash
# The soak run (`./dev bench soak [MINUTES]`, default 30; not part of `./dev test`): the whole
# product as `./dev run` starts it, cron passes on their production schedules, offered half the
# capacity a short closed-loop mixed run measures first, in an open loop, for MINUTES. Every
# SOAK_SAMPLE_SECS (30) it records each service's RSS, PostgreSQL's connections and the outbox
# backlog; at the end it prints the curve and fails if any of them grew: the median of the last
# fifth of the run above the median of the second fifth (the first is warm-up) by more than a
# fifth plus a small allowance (4 MiB, 2 connections, 200 events). The samples are kept in
# target/bench/soak-<timestamp>.csv.
#
#   SOAK_RATE          requests per second instead of half the measured capacity
#   SOAK_SAMPLE_SECS   seconds between samples (default 30)
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source scripts/product.sh

minutes=${1:-30}
[[ "$minutes" =~ ^[0-9]+$ ]] && [ "$minutes" -ge 5 ] && [ "$minutes" -le 60 ] ||
  { echo "usage: ./dev bench soak [MINUTES, 5 to 60]" >&2; exit 2; }
sample_secs=${SOAK_SAMPLE_SECS:-30}

echo "==> building release binaries"
cargo build --release --locked -p backend -p ai-agent -p dapr-emulator -p loadtest

tmp=$(mktemp -d /tmp/todo-soak.XXXXXX)
mkdir "$tmp/logs"
sampler=""
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
  end_run "$tmp" "$status"
  exit "$status"
}
trap cleanup INT TERM EXIT

echo "==> starting PostgreSQL (durability defaults)"
database_url=$(throwaway_postgres "$tmp" todo -c max_connections=200)
api_port=$(free_port)
base_url="http://127.0.0.1:$api_port"
# As in the benchmark: every virtual user signs in from 127.0.0.1 and writes far more than a
# person, so the per-address sign-in limit is off and the write rate and task quota out of
# reach (still checked). The ai-agent keeps its defaults: cron on, production schedules.
BACKEND_ENV=(AUTH_RATE_LIMIT_PER_MINUTE=0 WRITE_RATE_LIMIT_PER_MINUTE=1000000000 MAX_TASKS_PER_USER=2000000000)
echo "==> starting the whole product on $base_url"
DATABASE_URL=$database_url LOG_FORMAT=json RUST_LOG=warn \
  start_product "$api_port" "$(free_port)" "$(free_port)" "$tmp/logs"

mix="sign_in=0,list=400,get=50,create=250,update=150,complete=100,reopen=50,delete=0"
rate=${SOAK_RATE:-}
if [ -z "$rate" ]; then
  echo "==> capacity: 20 s closed loop, mixed"
  target/release/loadtest --base-url "$base_url" --mix "$mix" --duration 20 >"$tmp/capacity.out"
  capacity=$(grep '^{' "$tmp/capacity.out" |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["overall"]["throughput_rps"]))')
  rate=$((capacity / 2))
  echo "    $capacity req/s; the soak offers $rate"
fi

mkdir -p target/bench
csv=target/bench/soak-$(date -u +%Y%m%dT%H%M%SZ).csv
rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
(
  echo "seconds,backend_rss_mib,agent_rss_mib,emulator_rss_mib,pg_connections,outbox_backlog"
  started=$(date +%s)
  while true; do
    counts=$(psql "$database_url" -tAF, -c "select (select count(*) from pg_stat_activity where backend_type = 'client backend'),
      (select count(*) from outbox where published_at is null)")
    echo "$(($(date +%s) - started)),$(rss_mib "${PRODUCT_PIDS[backend]}"),$(rss_mib "${PRODUCT_PIDS[ai-agent]}"),$(rss_mib "${PRODUCT_PIDS[dapr-emulator]}"),$counts"
    sleep "$sample_secs"
  done
) >"$csv" &
sampler=$!

echo "==> soak: $rate req/s for $minutes min (samples every $sample_secs s in $csv)"
target/release/loadtest --base-url "$base_url" --mix "$mix" --rate "$rate" --duration $((minutes * 60)) \
  --backend-pid "${PRODUCT_PIDS[backend]}" --agent-pid "${PRODUCT_PIDS[ai-agent]}" \
  --emulator-pid "${PRODUCT_PIDS[dapr-emulator]}" | tee "$tmp/soak.out" | grep -v '^{'
kill "$sampler"; sampler=""
echo "# backend log: $(grep -c '"level":"ERROR"' "$tmp/logs/backend.log" || true) errors; ai-agent log: $(grep -c '"level":"ERROR"' "$tmp/logs/ai-agent.log" || true) errors"
python3 - "$csv" <<'PY'
import csv, statistics, sys

rows = [r for r in csv.DictReader(open(sys.argv[1]))]
if len(rows) < 10:
    sys.exit(f"only {len(rows)} samples: too short a run to judge")
fifth = len(rows) // 5
allowance = {"backend_rss_mib": 4, "agent_rss_mib": 4, "emulator_rss_mib": 4, "pg_connections": 2, "outbox_backlog": 200}
print(f"{'':>18} {'min':>9} {'after warm-up':>14} {'at the end':>11} {'max':>9}")
grown = []
for column, extra in allowance.items():
    values = [float(r[column]) for r in rows]
    early = statistics.median(values[fifth:2 * fifth])
    late = statistics.median(values[-fifth:])
    print(f"{column:>18} {min(values):>9.1f} {early:>14.1f} {late:>11.1f} {max(values):>9.1f}")
    if late > early * 1.2 + extra:
        grown.append(column)
print("curve (every sample): " + "; ".join(
    f"{r['seconds']} s: {r['backend_rss_mib']}/{r['agent_rss_mib']} MiB, {r['pg_connections']} conns, backlog {r['outbox_backlog']}"
    for r in rows))
if grown:
    sys.exit("grew during the soak: " + ", ".join(grown))
print("flat: memory, connections and backlog")
PY
