# shellcheck shell=bash
# Everything `./dev run` and `./dev test` need beyond the toolchains (Rust, Node + npm, Python,
# Go, JDK + Maven), installed in one place from the package registries, so a fresh machine and
# a used one run the same steps. Sourced by ./dev.
#
#   setup_packages WHAT   the Debian packages listed for WHAT (run|test) in
#                         scripts/debian-packages.txt, installed with apt when missing (as root)
#   setup_crates          every crate of Cargo.lock, for every platform: steps that resolve the
#                         lock file offline (the image checks) need the ones no local build uses

# The packages a purpose needs, one per line, from the manifest.
debian_packages() {
  local what=$1
  awk -v what="$what" '!/^#/ && NF >= 2 { n = split($2, uses, ","); for (i = 1; i <= n; i++) if (uses[i] == what) print $1 }' \
    scripts/debian-packages.txt
}

setup_packages() {
  local missing=() pkg
  for pkg in $(debian_packages "$1"); do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then missing+=("$pkg"); fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
}

setup_crates() {
  echo "==> cargo fetch --locked (every crate of the lock file, every platform)" >&2
  cargo fetch --locked --quiet
}
