#!/usr/bin/env python3
"""The summary table of `./dev bench` (scripts/bench.sh).

Reads the floor (pgbench inserts per second, measured in the same run on the same PostgreSQL)
and the JSON summary each loadtest run printed (RESULTS/<setup>-<workload>.json), and prints
throughput and tails per workload and setup with each throughput's ratio to the floor, then
the CPU and peak resident memory of every process in every run. Ratios, not absolute figures,
are what compares across runs: the machine is shared, and the floor moves with it.

    scripts/bench-table.py FLOOR_TPS RESULTS_DIR
"""

import json
import sys
from pathlib import Path

SETUPS = [("backend", "backend alone (relay on)"), ("product", "whole product")]
WORKLOADS = [
    ("mixed", "mixed"),
    ("create", "create only"),
    ("list", "list only"),
    ("tails", "mixed, open loop at half the mixed capacity"),
]
# The targets for the open-loop row, per operation.
TAIL_TARGETS_MS = {"p95_ms": 10.0, "p99_ms": 25.0}
PROCESSES = ["backend", "ai-agent", "emulator", "postgres"]


def load(results: Path, setup: str, workload: str):
    path = results / f"{setup}-{workload}.json"
    return json.loads(path.read_text()) if path.exists() else None


def cell(report, floor: float) -> str:
    if report is None:
        return "not run"
    overall = report["overall"]
    errors = f", {overall['errors']} errors" if overall["errors"] else ""
    return (
        f"{overall['throughput_rps']:,.0f} req/s ({overall['throughput_rps'] / floor:.2f}× floor), "
        f"p95 {overall['p95_ms']:.1f} ms, p99 {overall['p99_ms']:.1f} ms{errors}"
    )


def usage(report, name: str) -> str:
    process = next((p for p in report["processes"] if p["process"] == name), None)
    if process is None:
        return "—"
    cpu = process.get("cpu_cores")
    peak = process.get("load_peak_mib")
    parts = [f"{cpu:.2f} cores" if cpu is not None else "cpu n/a"]
    if peak is not None:
        parts.append(f"{peak:.0f} MiB")
    return ", ".join(parts)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    floor = float(sys.argv[1])
    results = Path(sys.argv[2])
    runs = {(s, w): load(results, s, w) for s, _ in SETUPS for w, _ in WORKLOADS}
    if not any(runs.values()):
        print("no loadtest results in " + str(results), file=sys.stderr)
        return 1

    print()
    print(f"# Summary: floor = {floor:,.0f} one-row inserts/s (pgbench, 16 clients, same PostgreSQL)")
    print()
    header = ["workload"] + [label for _, label in SETUPS]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for workload, label in WORKLOADS:
        print("| " + " | ".join([label] + [cell(runs[(s, workload)], floor) for s, _ in SETUPS]) + " |")

    print()
    print("# CPU (cores busy in the measured window; postgres with its connections) and peak RSS")
    print()
    header = ["run"] + PROCESSES
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for (setup, workload), report in runs.items():
        if report is not None:
            print("| " + " | ".join([f"{setup}, {workload}"] + [usage(report, p) for p in PROCESSES]) + " |")

    for setup, label in SETUPS:
        tails = runs.get((setup, "tails"))
        if tails is None:
            continue
        print()
        print(f"# Tails, {label}: open loop at {tails['settings']['rate']} req/s "
              f"(targets: p95 < {TAIL_TARGETS_MS['p95_ms']:.0f} ms, p99 < {TAIL_TARGETS_MS['p99_ms']:.0f} ms)")
        print()
        print("| operation | requests | p50 ms | p95 ms | p99 ms | max ms | within targets |")
        print("|---|---|---|---|---|---|---|")
        for op in tails["operations"]:
            met = all(op[k] < limit for k, limit in TAIL_TARGETS_MS.items())
            print(f"| {op['op']} | {op['requests']} | {op['p50_ms']:.1f} | {op['p95_ms']:.1f} | "
                  f"{op['p99_ms']:.1f} | {op['max_ms']:.1f} | {'yes' if met else 'no'} |")

    suggestion = [
        (w, r["events"]["to_suggestion"])
        for (s, w), r in runs.items()
        if s == "product" and r is not None and r.get("events")
    ]
    if suggestion:
        print()
        print("# Commit → suggestion (whole product)")
        for workload, latency in suggestion:
            if latency.get("p95_ms") is not None:
                print(f"  {workload}: p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms over {latency['events']} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
