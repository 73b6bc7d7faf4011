# shellcheck shell=bash
# Starting the product and waiting for it, for ./dev and the benchmarks (scripts/bench.sh,
# scripts/bench-cron.sh, scripts/soak.sh). Sourced after scripts/postgres.sh (free_port,
# port_is_free, pg_*).
#
#   local_database              the persistent cluster of `./dev run`; prints its URL
#   throwaway_postgres DIR DB   a cluster deleted after the run; prints its URL
#   start_product ...           the backend, ai-agent and sidecars in the background
#   stop_product                stops everything start_product started
#   wait_for_url URL [PID]      until URL answers 2xx
#   end_run TMP STATUS          a benchmark run's end: product and database stopped, TMP gone
#   print_logs DIR              the last lines of every log in DIR

# Where `./dev run` keeps its database between runs. Outside the checkout because the
# `postgres` user must be able to reach it, and a checkout may sit in a private home.
DATA_DIR=${TODO_DATA_DIR:-/var/tmp/todo-app-$(id -un)}

# Starts (or restarts) the persistent local cluster and prints its URL. Keeps its port
# between runs unless something else took it meanwhile.
local_database() {
  mkdir -p "$DATA_DIR"
  chmod 755 "$DATA_DIR"
  local port
  port=$(cat "$DATA_DIR/pg-port" 2>/dev/null || free_port)
  if ! port_is_free "$port" && ! pg_as_owner pg_ctl -D "$DATA_DIR/pg" status >/dev/null 2>&1; then
    port=$(free_port)
  fi
  echo "$port" >"$DATA_DIR/pg-port"
  pg_start "$DATA_DIR/pg" "$port" >&2
  pg_create_db "$port" todo >&2
  echo "postgres://postgres@127.0.0.1:$port/todo"
}

# throwaway_postgres DIR DB [server options]: a new cluster in DIR/pg on a free port with the
# database DB, for a run that deletes it afterwards (pg_stop DIR/pg, then remove DIR); prints
# the database's URL.
throwaway_postgres() {
  local dir=$1 db=$2 port
  shift 2
  # The postgres user must reach the cluster directory inside DIR.
  chmod 755 "$dir"
  port=$(free_port)
  pg_start "$dir/pg" "$port" "$@" >&2
  pg_create_db "$port" "$db" >&2
  echo "postgres://postgres@127.0.0.1:$port/$db"
}

# wait_for_url URL [PID]: waits up to 30 s for URL to answer 2xx, and no longer once process
# PID (the server expected to answer) has exited.
wait_for_url() {
  for _ in $(seq 1 150); do
    if curl -fsS "$1" >/dev/null 2>&1; then return 0; fi
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "no answer from $1" >&2
  return 1
}

# Starts the backend and the ai-agent in the background with their sidecars, and appends their
# pids to `pids` (and names them in PRODUCT_PIDS: backend, ai-agent, dapr-emulator).
# Arguments: API port, ai-agent port, the backend's sidecar port, a directory for logs (or ""
# for the terminal), and the sidecars: `stand-in` (one crates/dapr-emulator process, the
# default) or `dapr` (a real daprd per service on the local Kafka; call start_kafka first).
# Reads DATABASE_URL; serves the web app when WEB_DIR is set. BACKEND_ENV and AGENT_ENV hold
# extra `NAME=value` words for one service's environment alone. START_AGENT=false starts the
# backend alone, on a stand-in that takes events and delivers them nowhere (the benchmark's
# "backend alone" rows). BIN_DIR: where the binaries are (default target/release; `./dev test`
# runs the debug build its tests already compiled).
BIN_DIR=${BIN_DIR:-target/release}
pids=()
declare -A PRODUCT_PIDS=()
BACKEND_ENV=()
AGENT_ENV=()
START_AGENT=true
start_product() {
  local api_port=$1 agent_port=$2 dapr_port=$3 logs=$4 sidecars=${5:-stand-in}
  local agent_dapr_port=$dapr_port out=/dev/stdout
  # The ai-agent takes deliveries only with its sidecar's token (and refuses to start without
  # one): a fresh one per run unless the caller chose it. The stand-in and daprd read it too.
  if [ -z "${APP_API_TOKEN:-}" ]; then
    APP_API_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
    export APP_API_TOKEN
  fi
  if [ "$sidecars" = stand-in ]; then
    [ -n "$logs" ] && out=$logs/dapr-emulator.log
    local deliver=(--app-url "http://127.0.0.1:$agent_port")
    [ "$START_AGENT" = true ] || deliver=()
    "$BIN_DIR/dapr-emulator" --port "$dapr_port" "${deliver[@]}" >>"$out" 2>&1 &
    pids+=($!)
    PRODUCT_PIDS[dapr-emulator]=$!
  else
    agent_dapr_port=$(free_port)
  fi
  # The backend applies the migrations; the ai-agent starts once they are in.
  [ -n "$logs" ] && out=$logs/backend.log
  env LISTEN_ADDR="127.0.0.1:$api_port" DAPR_HTTP_PORT="$dapr_port" "${BACKEND_ENV[@]}" \
    "$BIN_DIR/backend" serve >>"$out" 2>&1 &
  pids+=($!)
  PRODUCT_PIDS[backend]=$!
  wait_for_url "http://127.0.0.1:$api_port/ready" "$!"
  [ "$START_AGENT" = true ] || return 0
  [ -n "$logs" ] && out=$logs/ai-agent.log
  env LISTEN_ADDR="127.0.0.1:$agent_port" DAPR_HTTP_PORT="$agent_dapr_port" "${AGENT_ENV[@]}" \
    "$BIN_DIR/ai-agent" serve >>"$out" 2>&1 &
  pids+=($!)
  PRODUCT_PIDS[ai-agent]=$!
  wait_for_url "http://127.0.0.1:$agent_port/ready" "$!"
  if [ "$sidecars" = dapr ]; then
    start_daprd todo-backend "$api_port" "$dapr_port" /health "${logs:+$logs/daprd-backend.log}"
    start_daprd todo-ai-agent "$agent_port" "$agent_dapr_port" /ready "${logs:+$logs/daprd-ai-agent.log}"
    AGENT_DAPR_PORT=$agent_dapr_port
  fi
}

# start_daprd APP_ID APP_PORT HTTP_PORT HEALTH_PATH [LOG]: one sidecar (scripts/daprd.sh run:
# the chart's annotations, the resources of dapr/); records its pid in SIDECAR_PIDS.
start_daprd() {
  local out=${5:-/dev/stdout}
  scripts/daprd.sh run "$1" "$2" "$3" "$4" >>"$out" 2>&1 &
  pids+=($!)
  SIDECAR_PIDS[$1]=$!
  wait_for_url "http://127.0.0.1:$3/v1.0/healthz" "$!"
}
declare -A SIDECAR_PIDS=()

# TERM first, so the backend drains and the relay stops cleanly; then wait for every process.
stop_product() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
  PRODUCT_PIDS=()
}

# end_run TMP STATUS: the end of a benchmark run whose throwaway PostgreSQL and logs are in TMP:
# stops the product and the database, prints the logs if the run failed, and removes TMP.
end_run() {
  stop_product
  if [ "$2" != 0 ]; then print_logs "$1/logs" >&2; fi
  pg_stop "$1/pg"
  rm -rf "$1"
}

print_logs() {
  for log in "$1"/*.log; do
    echo "--- last lines of $(basename "$log")"; tail -n 40 "$log"
  done
}
