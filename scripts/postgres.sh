# shellcheck shell=bash
# A private PostgreSQL cluster started from the installed server binaries, so neither the run
# nor the test command needs a database set up beforehand. Sourced by ./dev.
#
# initdb and postgres refuse to run as root, so as root the cluster belongs to the `postgres`
# system user (created by Debian's postgresql package); as anyone else it belongs to that user.

pg_bin_dir() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] && command -v pg_ctl >/dev/null 2>&1; then dir=$(dirname "$(command -v pg_ctl)"); fi
  echo "$dir"
}

pg_ensure_installed() {
  if [ -x "$(pg_bin_dir)/pg_ctl" ]; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing the PostgreSQL server (apt-get install postgresql)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  [ -x "$(pg_bin_dir)/pg_ctl" ] || { echo "PostgreSQL server binaries not found: install postgresql (15 or later) or set DATABASE_URL" >&2; exit 1; }
}

# Runs a PostgreSQL binary as the cluster owner.
pg_as_owner() {
  local bin; bin="$(pg_bin_dir)/$1"; shift
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin" "$@"; else "$bin" "$@"; fi
}

# shellcheck source=scripts/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

port_is_free() {
  python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.close()' "$1" 2>/dev/null
}

# pg_start DATADIR PORT [extra server options]
# Creates the cluster on first use and starts it on 127.0.0.1:PORT; its socket lives in DATADIR.
pg_start() {
  local data=$1 port=$2; shift 2
  pg_ensure_installed
  mkdir -p "$data"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$data"; chmod 700 "$data"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    pg_as_owner initdb -D "$data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 \
      || { cat "$data.initdb.log" >&2; exit 1; }
  fi
  if pg_as_owner pg_ctl -D "$data" status >/dev/null 2>&1; then
    pg_as_owner pg_ctl -D "$data" stop -m fast >/dev/null
  fi
  pg_as_owner pg_ctl -D "$data" -w -t 60 -l "$data/server.log" \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 $*" start >/dev/null \
    || { tail -n 30 "$data/server.log" >&2; exit 1; }
}

pg_stop() {
  local data=$1
  pg_as_owner pg_ctl -D "$data" stop -m fast >/dev/null 2>&1 || true
}

# pg_create_db PORT NAME: creates the database if it does not exist yet.
pg_create_db() {
  local port=$1 name=$2
  if ! psql -h 127.0.0.1 -p "$port" -U postgres -tAc "select 1 from pg_database where datname = '$name'" postgres | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U postgres -qc "create database \"$name\"" postgres
  fi
}
