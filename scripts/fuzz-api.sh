#!/usr/bin/env bash
# API fuzzing: schemathesis over every operation of the backend's own OpenAPI document, signed
# in, against the backend binary, a fresh database and the Dapr stand-in. Fails on any 5xx, any
# response that breaks the documented schema, status code or content type, and the other
# checks listed below. Bounded to a few minutes so it can run in the test command.
#
#   BIN_DIR              where the binaries are (default target/release); needs backend and
#                        dapr-emulator (`cargo build --release --locked -p backend -p dapr-emulator`)
#   DATABASE_URL         a server where a throwaway database may be created; without it a
#                        private PostgreSQL is started
#   FUZZ_MAX_EXAMPLES    cases per operation and phase (default 25)
#   FUZZ_MAX_TIME        time budget in seconds for the signed-in run (default 120; the
#                        sign-up/sign-in run gets a fifth of it)
#   FUZZ_SEED            hypothesis seed (default 1, so a failure reproduces; `random` for none)
#
# The report (JUnit XML and a cassette of every request) is kept in target/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/postgres.sh

bin_dir=${BIN_DIR:-target/release}
for bin in backend dapr-emulator; do
  [ -x "$bin_dir/$bin" ] || { echo "fuzz-api: $bin_dir/$bin is missing; build it first" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "fuzz-api: curl is needed" >&2; exit 1; }

# The pinned schemathesis, installed once per requirements file.
venv=target/fuzz-venv
requirements=scripts/fuzz-requirements.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$venv/bin/schemathesis" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing schemathesis into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
fi

tmp=$(mktemp -d /tmp/todo-fuzz.XXXXXX)
chmod 755 "$tmp"
pids=()
private_pg=""
db_name="fuzz_$(date +%s)_$$"
admin_url=""
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$private_pg" ]; then
    pg_stop "$tmp/pg"
  elif [ -n "$admin_url" ]; then
    psql "$admin_url" -qc "drop database if exists \"$db_name\" with (force)" >/dev/null 2>&1 || true
  fi
  if [ "$status" != 0 ]; then
    echo "--- backend log (last 40 lines) ---" >&2
    tail -n 40 "$tmp/backend.log" >&2 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup INT TERM EXIT

if [ -n "${DATABASE_URL:-}" ]; then
  admin_url=$DATABASE_URL
  psql "$admin_url" -qc "create database \"$db_name\"" >/dev/null
  # Same server and credentials, the new database's name instead of the old one.
  database_url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$DATABASE_URL" "$db_name")
else
  private_pg=1
  pg_port=$(free_port)
  pg_start "$tmp/pg" "$pg_port" -c fsync=off
  pg_create_db "$pg_port" todo
  database_url="postgres://postgres@127.0.0.1:$pg_port/todo"
fi

dapr_port=$(free_port)
RUST_LOG=warn "$bin_dir/dapr-emulator" --port "$dapr_port" >"$tmp/emulator.log" 2>&1 &
pids+=("$!")

api_port=$(free_port)
base_url="http://127.0.0.1:$api_port"
# No sign-in throttling or write rate: schemathesis signs up and in many times from one
# address and writes as fast as it can.
env DATABASE_URL="$database_url" LISTEN_ADDR="127.0.0.1:$api_port" DAPR_HTTP_PORT="$dapr_port" \
  AUTH_RATE_LIMIT_PER_MINUTE=0 WRITE_RATE_LIMIT_PER_MINUTE=0 LOG_FORMAT=json RUST_LOG=info,sqlx=warn \
  "$bin_dir/backend" serve >"$tmp/backend.log" 2>&1 &
backend_pid=$!
pids+=("$backend_pid")
for _ in $(seq 1 150); do
  curl -fsS "$base_url/ready" >/dev/null 2>&1 && break
  kill -0 "$backend_pid" 2>/dev/null || { echo "fuzz-api: the backend exited" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "$base_url/ready" >/dev/null

echo "==> signing up the fuzzing user"
cookie=$(curl -fsS -D - -o /dev/null -H 'content-type: application/json' \
  -d '{"email":"fuzz@example.com","password":"correct horse battery"}' "$base_url/api/v1/auth/signup" \
  | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(todo_session=[^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "fuzz-api: no session cookie from sign-up" >&2; exit 1; }
# Some tasks and a suggestion for the fuzzer to find.
for i in 1 2 3; do
  curl -fsS -o /dev/null -H "cookie: $cookie" -H 'content-type: application/json' \
    -d "{\"title\":\"Seed $i\",\"priority\":\"low\",\"dueAt\":\"2020-01-0${i}T10:00:00Z\",\"tags\":[\"seed\"]}" "$base_url/api/v1/tasks"
done

# Suggestions come from the ai-agent, which does not run here; write a few as it would, so
# accept and dismiss reach their logic instead of answering 404 throughout.
psql -X -q "$database_url" -c "insert into suggestion (suggestion_id, user_id, task_id, kind, title, message, proposed_change, dedupe_key, expires_at)
  select gen_random_uuid(), user_id, task_id, 'priority', 'Raise the priority', 'Due soon', '{\"priority\":\"high\"}',
         'fuzz:' || task_id, now() + interval '7 days' from task" >/dev/null

mkdir -p target/fuzz
seed_args=()
if [ "${FUZZ_SEED:-1}" != random ]; then seed_args=(--seed "${FUZZ_SEED:-1}"); fi
max_time=${FUZZ_MAX_TIME:-120}
# Two runs over the document. Sign-up and sign-in run without the session: schemathesis's
# stateful phase signs in with the credentials it just signed up with, and a successful
# sign-in ends the session the request carried (session rotation, as it should), which would
# leave every later case unauthenticated. Sign-out and signing out everywhere are left out for
# the same reason (the security and account tests cover them). Everything else runs with the
# session cookie.
# The checks: no 5xx, and every response's status, content type, headers and body as the
# document says; deleted resources stay gone. Left out: ignored_auth (the document declares no
# security scheme, the session being a cookie; the security tests check every operation without
# a session instead); positive_data_acceptance and negative_data_rejection, because some input
# rules cannot be written in the schema (a cursor must be one the API issued, `dueBefore` is an
# RFC 3339 time or a date, recurrence fields depend on each other, an Idempotency-Key may not be
# reused with another body), so those checks report correct 400/422 answers; and
# ensure_resource_availability, which reports an Idempotency-Key replay of a task deleted since
# as "created resource not found".
# Run from target/fuzz: schemathesis keeps its cache (.schemathesis/) in the working directory.
fuzz() {
  (cd "$root/target/fuzz" && "$root/$venv/bin/schemathesis" run "$base_url/api/v1/openapi.json" \
    --url "$base_url" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,use_after_free,missing_required_header,unsupported_method \
    --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
    --workers 2 \
    --request-timeout 10 \
    --generation-database none \
    --no-color \
    "${seed_args[@]}" \
    "$@")
}
started=$(date +%s)
status=0
echo "==> schemathesis: sign-up and sign-in, without a session"
fuzz --include-path-regex '^/api/v1/auth/sign(up|in)$' --max-time $((max_time / 5)) \
  --report junit --report-junit-path "$root/target/fuzz/junit-auth.xml" || status=1
echo "==> schemathesis: every other operation, signed in"
fuzz -H "Cookie: $cookie" --exclude-path-regex '^/api/v1/(auth/sign(up|in|out)|account/signout-everywhere)$' --max-time "$max_time" \
  --report junit --report-junit-path "$root/target/fuzz/junit-api.xml" || status=1
# The backend's own account, whatever schemathesis concluded: one `request finished` line per
# request (info level), none of them a 5xx. No request lines at all means the log can no longer
# be read this way, which fails too.
read -r requests server_errors < <(python3 - "$tmp/backend.log" <<'PY'
import json, sys
requests = errors = 0
for line in open(sys.argv[1], errors="replace"):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    fields = entry.get("fields", entry)
    if fields.get("message") == "request finished" and isinstance(fields.get("status"), int):
        requests += 1
        errors += fields["status"] >= 500
print(requests, errors)
PY
)
echo "==> fuzzing took $(( $(date +%s) - started )) s; the backend logged $requests requests, $server_errors with a 5xx"
if [ "$requests" -eq 0 ]; then echo "fuzz: no request lines in the backend log" >&2; status=1; fi
if [ "$server_errors" -ne 0 ]; then
  grep '"status":5' "$tmp/backend.log" | head -n 20 >&2
  status=1
fi
exit "$status"
