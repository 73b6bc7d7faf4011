# shellcheck shell=bash
# Sourced by the scripts that start servers on free ports (postgres.sh, kafka.sh, daprd.sh).

# A port free now, below the kernel's ephemeral range. A port from `bind(0)` lies inside that
# range, where an outgoing connection's local port can take it before the server binds it
# (seen: daprd's "could not listen on any endpoint" while Kafka clients were busy).
free_port() {
  python3 - <<'PY'
import random, socket
low = max(int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0]), 10001)
for _ in range(1000):
    port = random.randrange(10000, low)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    raise SystemExit(f"no free port between 10000 and {low}")
PY
}
