#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, combined broker + controller) for tests and local
# runs, set up like DigitalOcean Managed Kafka: the client listener speaks SASL_SSL with
# SCRAM-SHA-256, its certificate is signed by a private CA (DIR/ca.crt), and topics are
# pre-created (auto-create off) from specs/deploy/deployment.json (`kafka.topics`).
# The jars come from Maven Central (tools/kafka/pom.xml); needs java (17+), mvn, openssl, python3.
#
#   scripts/kafka.sh fetch                        jars into target/kafka/jars (cached by the pom's sha256)
#   scripts/kafka.sh start DIR PORT               set up DIR once, start on 127.0.0.1:PORT, create topics
#   scripts/kafka.sh stop DIR                     SIGTERM, wait (KAFKA_STOP_TIMEOUT s, default 30), then SIGKILL
#   scripts/kafka.sh kill DIR                     SIGKILL
#   scripts/kafka.sh status DIR                   exit 0 if the broker of DIR runs
#   scripts/kafka.sh topics DIR                   describe all topics (partitions, configs)
#   scripts/kafka.sh produce DIR TOPIC            stdin lines `KEY<TAB>VALUE` become keyed records
#   scripts/kafka.sh consume DIR TOPIC [MAX_MESSAGES] [TIMEOUT_MS]
#                                                 print a topic from the beginning, one line a record:
#                                                 `Partition:<p><TAB>Offset:<o><TAB><key><TAB><value>`
#                                                 (a missing key prints as `null`)
#   scripts/kafka.sh offsets DIR GROUP            a consumer group's committed offsets and lag
#   scripts/kafka.sh reset-group DIR GROUP TOPIC  move an inactive group's offsets on TOPIC to earliest
#
# After `start`, DIR/env holds KAFKA_BROKERS, KAFKA_USERNAME, KAFKA_PASSWORD, KAFKA_CA_FILE and
# KAFKA_CLIENT_PROPERTIES as shell-sourceable KEY=value lines. `start` on a DIR that was set up
# before (stopped or killed) keeps its CA, passwords and data. See tools/kafka/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
POM=$ROOT/tools/kafka/pom.xml
CACHE=$ROOT/target/kafka
JARS=$CACHE/jars
DEPLOYMENT_JSON=${KAFKA_DEPLOYMENT_JSON:-$ROOT/specs/deploy/deployment.json}
# Bumped when what `fetch` derives from the jars (the main classes below) changes.
FETCH_FORMAT=1

BROKER_JAVA_OPTS=${KAFKA_JAVA_OPTS:--Xmx512m -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError}
TOOL_JAVA_OPTS=${KAFKA_TOOL_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto}
USERNAME=todo
ADMIN_USERNAME=admin

die() { echo "kafka.sh: $*" >&2; exit 1; }

usage() {
  sed -n '/^#   scripts/,/^#$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# --- fetch ---------------------------------------------------------------------------------

# Picks, from the jars' class listing, the first of the candidate main classes that exists:
# Kafka moved its tools between packages across versions.
pick_class() {
  local listing=$1 c; shift
  for c in "$@"; do
    if grep -qxF "${c//.//}.class" "$listing"; then echo "$c"; return 0; fi
  done
  die "none of $* found in the Kafka jars"
}

fetch() {
  need java "install a JDK 17 or later (Debian: apt-get install openjdk-17-jdk-headless)"
  need mvn "install Maven 3.8 or later (Debian: apt-get install maven)"
  need unzip "install unzip"
  [ -f "$POM" ] || die "$POM is missing"
  mkdir -p "$CACHE"
  local want
  want="$(sha256sum "$POM" | cut -d' ' -f1) format=$FETCH_FORMAT"
  if [ "$(cat "$CACHE/jars.stamp" 2>/dev/null)" = "$want" ] && [ -f "$CACHE/classes.sh" ]; then return 0; fi
  (
    flock 9
    # Another fetch may have finished while this one waited for the lock.
    if [ "$(cat "$CACHE/jars.stamp" 2>/dev/null)" = "$want" ] && [ -f "$CACHE/classes.sh" ]; then exit 0; fi
    rm -rf "$JARS.tmp" "$CACHE/jars.stamp"
    if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$JARS.tmp" >"$CACHE/fetch.log" 2>&1; then
      cat "$CACHE/fetch.log" >&2
      die "could not fetch the Kafka jars with Maven (log above, also in $CACHE/fetch.log)"
    fi
    local listing=$CACHE/classes.txt j version broker storage topics consumer producer groups
    : >"$listing"
    for j in "$JARS.tmp"/kafka*.jar; do unzip -Z1 "$j" >>"$listing"; done
    version=$(cd "$JARS.tmp" && ls kafka-clients-*.jar | sed 's/^kafka-clients-//; s/\.jar$//')
    broker=$(pick_class "$listing" kafka.Kafka)
    storage=$(pick_class "$listing" kafka.tools.StorageTool org.apache.kafka.tools.StorageTool)
    topics=$(pick_class "$listing" org.apache.kafka.tools.TopicCommand kafka.admin.TopicCommand)
    consumer=$(pick_class "$listing" org.apache.kafka.tools.consumer.ConsoleConsumer kafka.tools.ConsoleConsumer)
    producer=$(pick_class "$listing" org.apache.kafka.tools.ConsoleProducer kafka.tools.ConsoleProducer)
    groups=$(pick_class "$listing" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand kafka.admin.ConsumerGroupCommand)
    rm -f "$listing"
    cat >"$CACHE/classes.sh.tmp" <<EOF
# The Kafka version and main classes found in $JARS (written by scripts/kafka.sh fetch).
KAFKA_VERSION=$version
CLASS_BROKER=$broker
CLASS_STORAGE=$storage
CLASS_TOPICS=$topics
CLASS_CONSUMER=$consumer
CLASS_PRODUCER=$producer
CLASS_GROUPS=$groups
EOF
    rm -rf "$JARS"
    mv "$JARS.tmp" "$JARS"
    mv "$CACHE/classes.sh.tmp" "$CACHE/classes.sh"
    echo "$want" >"$CACHE/jars.stamp"
  ) 9>"$CACHE/fetch.lock"
}

load_classes() {
  fetch
  # shellcheck disable=SC1091
  . "$CACHE/classes.sh"
}

# --- helpers -------------------------------------------------------------------------------

# shellcheck source=scripts/ports.sh
source "$ROOT/scripts/ports.sh"

# With SO_REUSEADDR, as the broker binds: connections of a killed broker left in TIME_WAIT do
# not count as taking the port.
port_is_free() {
  python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
s.close()' "$1" 2>/dev/null
}

# A password shaped like DigitalOcean's (AVNS_ + 20 letters and digits): safe inside JAAS
# quotes, the storage tool's --add-scram syntax, URLs and YAML.
new_password() {
  python3 -c 'import secrets,string; a=string.ascii_letters+string.digits; print("AVNS_"+"".join(secrets.choice(a) for _ in range(20)))'
}

# A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-'.
new_cluster_id() {
  python3 -c '
import base64, os
while True:
    s = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"):
        print(s); break'
}

# Whether process PID runs (a zombie, e.g. a broker that died while this script started it,
# does not count).
alive() {
  local state
  state=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
  [ -n "$state" ] && [ "$state" != Z ]
}

# Writes FILE from stdin, readable by its owner only.
write_secret() {
  (umask 077 && cat >"$1")
}

abs_dir() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

# The pid of DIR's broker if it runs, else nothing (a stale pid file is removed).
broker_pid() {
  local dir=$1 pid
  [ -f "$dir/kafka.pid" ] || return 0
  pid=$(cat "$dir/kafka.pid")
  if [ -n "$pid" ] && grep -qaF -- "$dir/server.properties" "/proc/$pid/cmdline" 2>/dev/null; then
    echo "$pid"
  else
    rm -f "$dir/kafka.pid"
  fi
}

# run_tool DIR MAIN_CLASS ARGS...: a Kafka tool as a client of DIR's broker; TOOL_TIMEOUT=S
# bounds its run time.
run_tool() {
  local dir=$1 limit=()
  shift
  [ -z "${TOOL_TIMEOUT:-}" ] || limit=(timeout "$TOOL_TIMEOUT")
  # shellcheck disable=SC2086
  "${limit[@]}" java $TOOL_JAVA_OPTS -Dlog4j.configuration="file:$dir/tools-log4j.properties" \
    -cp "$JARS/*" "$@"
}

require_setup() {
  [ -f "$1/client.properties" ] || die "$1 is not a Kafka directory made by 'scripts/kafka.sh start'"
}

bootstrap() {
  sed -n 's/^KAFKA_BROKERS=//p' "$1/env"
}

# --- start ---------------------------------------------------------------------------------

# The CA, the broker's certificate for localhost/127.0.0.1, the keystore and the truststore.
make_tls() {
  local dir=$1 pass serial
  need openssl "install openssl"
  need keytool "install a JDK 17 or later"
  rm -f "$dir"/{ca.key,ca.crt,broker.key,broker.crt,keystore.p12,truststore.p12}
  [ -f "$dir/store.password" ] || openssl rand -hex 16 | write_secret "$dir/store.password"
  pass=$(cat "$dir/store.password")
  (
    set -e
    umask 077
    cd "$dir"
    cat >tls-ca.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = ca
[dn]
CN = Todo test Kafka CA
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    cat >tls-broker.ext <<'EOF'
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
EOF
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -config tls-ca.cnf \
      -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout broker.key -out broker.csr 2>/dev/null
    serial=0x$(openssl rand -hex 15)
    openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -set_serial "$serial" -days 3650 \
      -sha256 -extfile tls-broker.ext -out broker.crt 2>/dev/null
    openssl pkcs12 -export -name broker -in broker.crt -inkey broker.key -certfile ca.crt \
      -out keystore.p12 -passout "pass:$pass"
    keytool -importcert -noprompt -alias ca -file ca.crt -keystore truststore.p12 \
      -storetype PKCS12 -storepass "$pass" >/dev/null 2>&1
    rm -f tls-ca.cnf tls-broker.ext broker.csr
    chmod 644 ca.crt broker.crt
  ) || die "could not make the TLS files in $dir"
}

write_configs() {
  local dir=$1 port=$2 cport=$3 pass admin_pw todo_pw
  pass=$(cat "$dir/store.password")
  admin_pw=$(cat "$dir/admin.password")
  todo_pw=$(cat "$dir/todo.password")
  write_secret "$dir/server.properties" <<EOF
# Written by scripts/kafka.sh on every start; edits are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=CLIENT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=CLIENT://127.0.0.1:$port
listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=CLIENT
log.dirs=$dir/data

# Clients and the broker itself authenticate with SCRAM-SHA-256 over TLS, like DigitalOcean.
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.client.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$ADMIN_USERNAME" password="$admin_pw";
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/keystore.p12
ssl.keystore.password=$pass
ssl.truststore.type=PKCS12
ssl.truststore.location=$dir/truststore.p12
ssl.truststore.password=$pass
ssl.client.auth=none

# Topics are pre-created (scripts/kafka.sh start), as on DigitalOcean.
auto.create.topics.enable=false
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
group.initial.rebalance.delay.ms=0

# After a kill, the controller refuses the restarted broker (DUPLICATE_BROKER_REGISTRATION)
# until the old registration's session expires: 9 s by default, 4 s here.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000

# Small and light: a test broker on a 2-core machine.
log.segment.bytes=16777216
log.index.size.max.bytes=1048576
log.cleaner.dedupe.buffer.size=16777216
log.cleaner.threads=1
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=4
EOF
  write_secret "$dir/client.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$USERNAME" password="$todo_pw";
ssl.truststore.type=PKCS12
ssl.truststore.location=$dir/truststore.p12
ssl.truststore.password=$pass
EOF
  cat >"$dir/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.state.change.logger=WARN
EOF
  cat >"$dir/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  write_secret "$dir/env" <<EOF
KAFKA_BROKERS=127.0.0.1:$port
KAFKA_USERNAME=$USERNAME
KAFKA_PASSWORD=$todo_pw
KAFKA_CA_FILE=$(printf '%q' "$dir/ca.crt")
KAFKA_CLIENT_PROPERTIES=$(printf '%q' "$dir/client.properties")
EOF
}

# Lines `NAME PARTITIONS RETENTION_MS` (RETENTION_MS empty when not given) from deployment.json.
wanted_topics() {
  python3 - "$DEPLOYMENT_JSON" <<'EOF'
import json, sys
for t in json.load(open(sys.argv[1]))["kafka"]["topics"]:
    days = t.get("retentionDays")
    print(t["name"], int(t["partitions"]), "" if days is None else int(days) * 86400000)
EOF
}

create_topics() {
  local dir=$1 bs wanted existing name parts retention args
  bs=$(bootstrap "$dir")
  wanted=$(wanted_topics) || die "could not read kafka.topics from $DEPLOYMENT_JSON"
  # Also the proof that the broker accepts SASL_SSL logins: one retry for a slow first start.
  if ! existing=$(TOOL_TIMEOUT=120 run_tool "$dir" "$CLASS_TOPICS" --bootstrap-server "$bs" \
      --command-config "$dir/client.properties" --list 2>"$dir/tools.err"); then
    sleep 2
    existing=$(TOOL_TIMEOUT=120 run_tool "$dir" "$CLASS_TOPICS" --bootstrap-server "$bs" \
      --command-config "$dir/client.properties" --list 2>"$dir/tools.err") \
      || { cat "$dir/tools.err" >&2; die "the broker does not answer on SASL_SSL $bs (log: $dir/kafka.log)"; }
  fi
  rm -f "$dir/tools.err"
  while read -r name parts retention; do
    [ -n "$name" ] || continue
    if grep -qxF "$name" <<<"$existing"; then continue; fi
    args=(--create --if-not-exists --topic "$name" --partitions "$parts" --replication-factor 1)
    [ -z "$retention" ] || args+=(--config "retention.ms=$retention")
    TOOL_TIMEOUT=120 run_tool "$dir" "$CLASS_TOPICS" --bootstrap-server "$bs" \
      --command-config "$dir/client.properties" "${args[@]}" >/dev/null \
      || die "could not create topic $name"
  done <<<"$wanted"
}

start() {
  [ $# -eq 2 ] || usage
  local dir port
  dir=$(abs_dir "$1")
  port=$2
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, not '$port'"
  [ -f "$DEPLOYMENT_JSON" ] || die "$DEPLOYMENT_JSON is missing"
  need python3 "install python3"
  wanted_topics >/dev/null || die "could not read kafka.topics from $DEPLOYMENT_JSON"
  load_classes
  exec 8>"$dir/.lock"
  flock 8

  local pid
  pid=$(broker_pid "$dir")
  if [ -n "$pid" ]; then
    if grep -qxF "KAFKA_BROKERS=127.0.0.1:$port" "$dir/env" 2>/dev/null; then
      echo "kafka: already running on 127.0.0.1:$port (pid $pid)" >&2
      return 0
    fi
    die "the broker of $dir already runs (pid $pid) on $(bootstrap "$dir"): stop it first"
  fi
  port_is_free "$port" || die "port $port on 127.0.0.1 is taken"

  [ -f "$dir/todo.password" ] || new_password | write_secret "$dir/todo.password"
  [ -f "$dir/admin.password" ] || new_password | write_secret "$dir/admin.password"
  if [ ! -f "$dir/ca.crt" ] || [ ! -f "$dir/keystore.p12" ] || [ ! -f "$dir/truststore.p12" ]; then
    make_tls "$dir"
  fi

  # The controller port stays what it was unless something else took it meanwhile.
  local cport
  cport=$(sed -n 's/^controller\.quorum\.voters=1@127\.0\.0\.1://p' "$dir/server.properties" 2>/dev/null || true)
  if [ -z "$cport" ] || [ "$cport" = "$port" ] || ! port_is_free "$cport"; then
    cport=$(free_port)
    while [ "$cport" = "$port" ]; do cport=$(free_port); done
  fi
  write_configs "$dir" "$port" "$cport"

  if [ ! -f "$dir/data/meta.properties" ]; then
    [ -f "$dir/cluster.id" ] || new_cluster_id >"$dir/cluster.id"
    rm -rf "$dir/data"
    run_tool "$dir" "$CLASS_STORAGE" format -t "$(cat "$dir/cluster.id")" -c "$dir/server.properties" \
      --add-scram "SCRAM-SHA-256=[name=$ADMIN_USERNAME,password=$(cat "$dir/admin.password")]" \
      --add-scram "SCRAM-SHA-256=[name=$USERNAME,password=$(cat "$dir/todo.password")]" \
      >>"$dir/kafka.log" 2>&1 \
      || { tail -n 20 "$dir/kafka.log" >&2; rm -rf "$dir/data"; die "could not format $dir/data"; }
  fi

  local t0 from
  t0=$(date +%s)
  touch "$dir/kafka.log"
  from=$(($(wc -l <"$dir/kafka.log") + 1))
  # shellcheck disable=SC2086
  setsid java $BROKER_JAVA_OPTS -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$dir/log4j.properties" \
    -cp "$JARS/*" "$CLASS_BROKER" "$dir/server.properties" >>"$dir/kafka.log" 2>&1 </dev/null 8>&- &
  pid=$!
  echo "$pid" >"$dir/kafka.pid"

  local limit=${KAFKA_START_TIMEOUT:-120}
  until awk -v from="$from" 'NR >= from && /Kafka Server started/ { found = 1; exit } END { exit !found }' "$dir/kafka.log"; do
    if ! alive "$pid"; then
      rm -f "$dir/kafka.pid"
      tail -n +"$from" "$dir/kafka.log" | tail -n 40 >&2
      die "the broker exited while starting (log: $dir/kafka.log)"
    fi
    if [ $(($(date +%s) - t0)) -ge "$limit" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$dir/kafka.pid"
      tail -n +"$from" "$dir/kafka.log" | tail -n 40 >&2
      die "the broker did not start within ${limit}s (log: $dir/kafka.log)"
    fi
    sleep 0.2
  done
  create_topics "$dir"
  echo "kafka: $KAFKA_VERSION on SASL_SSL 127.0.0.1:$port (pid $pid), settings in $dir/env" >&2
}

# --- stop, kill, status --------------------------------------------------------------------

wait_gone() {
  local pid=$1 tenths=$2 i=0
  while alive "$pid"; do
    [ "$i" -lt "$tenths" ] || return 1
    sleep 0.1
    i=$((i + 1))
  done
}

# stop_broker DIR SIGNAL: TERM (then KILL after KAFKA_STOP_TIMEOUT s) or KILL.
stop_broker() {
  local dir pid signal=$2
  [ -d "$1" ] || return 0
  dir=$(abs_dir "$1")
  pid=$(broker_pid "$dir")
  if [ -n "$pid" ]; then
    kill "-$signal" "$pid" 2>/dev/null || true
    if [ "$signal" = TERM ] && ! wait_gone "$pid" $((${KAFKA_STOP_TIMEOUT:-30} * 10)); then
      echo "kafka: broker $pid did not stop within ${KAFKA_STOP_TIMEOUT:-30}s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait_gone "$pid" 100 || die "broker $pid survives SIGKILL"
  fi
  rm -f "$dir/kafka.pid"
}

status() {
  [ $# -eq 1 ] || usage
  local dir pid
  [ -d "$1" ] || { echo "not running" >&2; return 1; }
  dir=$(abs_dir "$1")
  pid=$(broker_pid "$dir")
  if [ -n "$pid" ]; then echo "running (pid $pid) on $(bootstrap "$dir")"; else echo "not running" >&2; return 1; fi
}

# --- client tools --------------------------------------------------------------------------

# Sets dir to DIR's absolute path and loads the main classes.
client_dir() {
  dir=$(abs_dir "$1")
  require_setup "$dir"
  load_classes
}

topics() {
  [ $# -eq 1 ] || usage
  local dir
  client_dir "$1"
  run_tool "$dir" "$CLASS_TOPICS" --bootstrap-server "$(bootstrap "$dir")" \
    --command-config "$dir/client.properties" --describe --exclude-internal
}

produce() {
  [ $# -eq 2 ] || usage
  local dir
  client_dir "$1"
  run_tool "$dir" "$CLASS_PRODUCER" --bootstrap-server "$(bootstrap "$dir")" \
    --producer.config "$dir/client.properties" --topic "$2" \
    --sync --producer-property acks=all --producer-property linger.ms=0 \
    --producer-property max.block.ms=10000 \
    --property parse.key=true --property $'key.separator=\t'
}

consume() {
  [ $# -ge 2 ] && [ $# -le 4 ] || usage
  local dir topic=$2 max=${3:-} timeout_ms=${4:-10000} args err rc=0
  client_dir "$1"
  args=(--bootstrap-server "$(bootstrap "$dir")" --consumer.config "$dir/client.properties"
    --topic "$topic" --from-beginning --timeout-ms "$timeout_ms"
    --group "kafka-sh-consume-$$-$RANDOM" --consumer-property enable.auto.commit=false
    --property print.partition=true --property print.offset=true
    --property print.key=true --property print.value=true
    --property $'key.separator=\t')
  [ -z "$max" ] || args+=(--max-messages "$max")
  err=$(mktemp)
  run_tool "$dir" "$CLASS_CONSUMER" "${args[@]}" 2>"$err" || rc=$?
  # The console consumer exits 0 even when it could not log in, so its errors are read here.
  # Reaching TIMEOUT_MS (a TimeoutException) is the normal end when MAX_MESSAGES is not reached.
  if grep -q 'UNKNOWN_TOPIC_OR_PARTITION' "$err" && grep -q 'Processed a total of 0 messages' "$err"; then
    rm -f "$err"
    die "topic $topic does not exist"
  fi
  if [ "$rc" -ne 0 ] || grep -E '^[a-z.]+\.[A-Za-z]+(Exception|Error)' "$err" | grep -qvE '\.TimeoutException$'; then
    cat "$err" >&2
    rm -f "$err"
    die "the console consumer failed (exit $rc)"
  fi
  rm -f "$err"
}

# group_tool ARGS...: the consumer-group tool against DIR's broker, its output in $out.
# The tool exits 0 even when it reports `Error: ...` (unknown group, active group), so that
# line is what counts as failure here.
group_tool() {
  local rc=0
  out=$(mktemp)
  run_tool "$dir" "$CLASS_GROUPS" --bootstrap-server "$(bootstrap "$dir")" \
    --command-config "$dir/client.properties" "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ] || grep -q '^Error:' "$out"; then
    grep -v '^[[:space:]]*$' "$out" >&2
    rm -f "$out"
    die "the consumer-group tool failed"
  fi
}

offsets() {
  [ $# -eq 2 ] || usage
  local dir out
  client_dir "$1"
  group_tool --describe --group "$2"
  grep -v '^[[:space:]]*$' "$out"
  rm -f "$out"
}

reset_group() {
  [ $# -eq 3 ] || usage
  local dir out
  client_dir "$1"
  group_tool --reset-offsets --to-earliest --group "$2" --topic "$3" --execute
  # Kafka 3.9 prints this table's rows without line breaks: print it as GROUP TOPIC PARTITION
  # NEW-OFFSET, tab-separated, one row a line.
  awk '/NEW-OFFSET/ { on = 1 } on { for (i = 1; i <= NF; i++) t[n++] = $i }
    END { for (i = 0; i + 3 < n; i += 4) print t[i] "\t" t[i+1] "\t" t[i+2] "\t" t[i+3] }' "$out"
  rm -f "$out"
}

# --- main ----------------------------------------------------------------------------------

[ $# -ge 1 ] || usage
cmd=$1; shift
case "$cmd" in
  fetch) [ $# -eq 0 ] || usage; fetch ;;
  start) start "$@" ;;
  stop) [ $# -eq 1 ] || usage; stop_broker "$1" TERM ;;
  kill) [ $# -eq 1 ] || usage; stop_broker "$1" KILL ;;
  status) status "$@" ;;
  topics) topics "$@" ;;
  produce) produce "$@" ;;
  consume) consume "$@" ;;
  offsets) offsets "$@" ;;
  reset-group) reset_group "$@" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
