#!/bin/sh
# The Dockerfiles' dependency layer: with only the manifests and Cargo.lock copied in, give
# every workspace member empty crate roots so `cargo build` compiles just the dependencies;
# the layer is then reused until a manifest or the lock file changes.
#
#   scripts/stub-workspace.sh create   # before the dependency build
#   scripts/stub-workspace.sh remove   # after it, before the real sources are copied in
set -eu
list=.stub-files
case "${1:-}" in
  create)
    : >"$list"
    for manifest in */Cargo.toml crates/*/Cargo.toml; do
      [ -f "$manifest" ] || continue
      src=$(dirname "$manifest")/src
      mkdir -p "$src"
      if [ ! -e "$src/lib.rs" ]; then : >"$src/lib.rs"; echo "$src/lib.rs" >>"$list"; fi
      if [ ! -e "$src/main.rs" ]; then echo 'fn main() {}' >"$src/main.rs"; echo "$src/main.rs" >>"$list"; fi
    done
    ;;
  remove)
    xargs rm -f <"$list"
    rm -f "$list"
    ;;
  *) echo "usage: $0 create|remove" >&2; exit 2 ;;
esac
