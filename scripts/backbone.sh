# The real event backbone for local runs and tests, sourced by ./dev and scripts/faults.sh
# (after scripts/postgres.sh, for free_port and port_is_free).

# start_kafka DIR: builds daprd (tools/daprd) when needed, fetches the Kafka jars, and starts
# the local broker (scripts/kafka.sh: SASL_SSL, SCRAM-SHA-256, a CA of its own, the production
# topics) in DIR, kept there between runs on the same port when it is free. Exports what the
# sidecars' secret store reads (dapr/components).
start_kafka() {
  local dir=$1 port
  scripts/daprd.sh build >/dev/null
  scripts/kafka.sh fetch
  port=$(cat "$dir/port" 2>/dev/null || free_port)
  port_is_free "$port" || port=$(free_port)
  mkdir -p "$dir" && echo "$port" >"$dir/port"
  scripts/kafka.sh start "$dir" "$port" >&2
  set -a; source "$dir/env"; set +a
  KAFKA_CA_CERT=$(cat "$KAFKA_CA_FILE")
  export KAFKA_CA_CERT
}
