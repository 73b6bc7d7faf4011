#!/usr/bin/env bash
# Layer guard: imports between the modules of the backend and the ai-agent point one way.
#
#   backend:  domain, db  <-  tasks, projects, chat, suggestions, preferences, auth, ... (services)  <-  http, web
#   ai-agent: db, config, suggestion, registry  <-  agents, consumer, cron, replay  <-  http
#
# A lower module may not name a higher one, and service code may not name the HTTP layer. A
# file that serves routes or extracts from requests (`#[utoipa::path`, `fn router(`,
# `FromRequestParts`) is HTTP code wherever it sits, so it may. Only `crate::` paths count,
# grouped `use crate::{a, b::{c, d}}` included; comments do not.
#
#   scripts/check-layers.sh          exit 1 and name every import that points the wrong way
#   scripts/check-layers.sh --count  print how many there are per rule (exit 0)
#
# Cheap on purpose: grep and sed over the sources, no build.
set -euo pipefail

cd "$(dirname "$0")/.."

# The top-level modules of its own crate that a Rust file names through `crate::`.
crate_modules() {
  sed 's|//.*$||' "$1" | tr '\n' ' ' \
    | { grep -oE 'crate::(\{[^;]*\}|[A-Za-z_][A-Za-z0-9_]*)' || true; } \
    | while IFS= read -r path; do
        case $path in
          'crate::{'*)
            local inner=${path#crate::\{}
            inner=${inner%\}}
            while [[ $inner == *'{'* ]]; do inner=$(sed -E 's/\{[^{}]*\}//g' <<<"$inner"); done
            tr ',' '\n' <<<"$inner" | sed -E 's/^[[:space:]]+//; s/(::|[[:space:]]).*//'
            ;;
          *) echo "${path#crate::}" ;;
        esac
      done | { grep -vxE 'self|' || true; } | sort -u
}

is_http_code() {
  grep -qE '#\[utoipa::path|fn router\(|FromRequestParts' "$1"
}

violations=()
declare -A counts=()

# check RULE FORBIDDEN_MODULES_REGEX [--skip-http-code] FILE...
check() {
  local rule=$1 forbidden=$2; shift 2
  local skip_http=false
  if [ "${1:-}" = --skip-http-code ]; then skip_http=true; shift; fi
  counts[$rule]=${counts[$rule]:-0}
  local file module
  for file in "$@"; do
    [ -f "$file" ] || continue
    if $skip_http && is_http_code "$file"; then continue; fi
    while IFS= read -r module; do
      if [[ $module =~ ^($forbidden)$ ]]; then
        violations+=("$file imports crate::$module ($rule)")
        counts[$rule]=$((counts[$rule] + 1))
      fi
    done < <(crate_modules "$file")
  done
}

rust_files() { git ls-files --cached --others --exclude-standard -- "$@" | grep '\.rs$' || true; }

backend_services='tasks|projects|chat|suggestions|preferences|auth|stream|relay|maintenance|health'
# shellcheck disable=SC2046
check "backend: domain and db stay below the services and the HTTP layer" "$backend_services|http|web" \
  $(rust_files backend/src/domain backend/src/db)
# shellcheck disable=SC2046
check "backend: services take no HTTP types" 'http|web' --skip-http-code \
  $(rust_files backend/src/tasks backend/src/projects backend/src/chat backend/src/auth backend/src/suggestions backend/src/assistant \
    backend/src/preferences.rs backend/src/stream.rs backend/src/relay.rs backend/src/maintenance.rs \
    backend/src/health.rs)
# shellcheck disable=SC2046
check "ai-agent: db, config, suggestion and registry stay below the agents" 'agents|consumer|cron|replay|http' \
  $(rust_files ai-agent/src/db ai-agent/src/config.rs ai-agent/src/suggestion.rs ai-agent/src/registry.rs)
# shellcheck disable=SC2046
check "ai-agent: agents, consumer, cron and replay take no HTTP types" 'http' --skip-http-code \
  $(rust_files ai-agent/src/agents ai-agent/src/consumer.rs ai-agent/src/cron.rs ai-agent/src/replay.rs)

if [ "${1:-}" = --count ]; then
  for rule in "${!counts[@]}"; do printf '%3d  %s\n' "${counts[$rule]}" "$rule"; done | sort -k2
  exit 0
fi
if [ ${#violations[@]} -gt 0 ]; then
  echo "Imports that point the wrong way between layers (see scripts/check-layers.sh):" >&2
  printf '  %s\n' "${violations[@]}" >&2
  exit 1
fi
echo "layers: every import points down"
