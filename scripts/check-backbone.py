#!/usr/bin/env python3
"""Checks what the product did on the real event backbone (daprd + Kafka), from the outside:
the database, the Kafka topic itself, the ai-agent's log and its /metrics. Run by `./dev test`
after the browser tests drove the product on real sidecars (see `backbone_tests` in ./dev).

    check-backbone.py delivered --database-url URL --kafka-dir DIR --agent-log FILE
        every committed event was published, reached the agent and was processed; on the topic,
        each user's events sit on one partition (key = userId) in commit order, each once, with
        the event id as the CloudEvent id; the agent received exactly those ids
    check-backbone.py replayed --database-url URL --agent-metrics URL --before FILE
        after the agent's consumer group was rewound to the start of the topic: every event was
        delivered again and none had a second effect (FILE holds the `delivered` snapshot)

Standard library only; talks to PostgreSQL through psql and to Kafka through scripts/kafka.sh.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPIC = "tasks-lifecycle"
AGENT = "ai-agent"


def psql(url: str, sql: str) -> list[list[str]]:
    out = subprocess.run(["psql", url, "-AtXq", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def scalar(url: str, sql: str) -> int:
    return int(psql(url, sql)[0][0])


def fail(message: str) -> None:
    print(f"check-backbone: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def effects(url: str) -> dict[str, int]:
    """What the agent has done: rows a second processing of an event would add to."""
    return {
        "processed": scalar(url, f"select count(*) from processed_event where consumer = '{AGENT}'"),
        "suggestions": scalar(url, "select count(*) from suggestion"),
        "dead_letters": scalar(url, "select count(*) from dead_letter"),
    }


def wait_until_processed(url: str, timeout: float) -> int:
    """Waits until every outbox row is published and processed by the agent; returns the count."""
    deadline = time.monotonic() + timeout
    while True:
        committed = scalar(url, "select count(*) from outbox")
        published = scalar(url, "select count(*) from outbox where published_at is not null")
        processed = scalar(
            url,
            f"select count(*) from outbox o join processed_event p on p.event_id = o.event_id::text and p.consumer = '{AGENT}'",
        )
        if committed and published == committed == processed:
            return committed
        if time.monotonic() > deadline:
            fail(f"after {timeout:.0f} s: committed {committed}, published {published}, processed {processed}")
        time.sleep(0.5)


def delivered(args: argparse.Namespace) -> None:
    started = time.monotonic()
    committed = wait_until_processed(args.database_url, 60)
    latency = time.monotonic() - started
    outbox = psql(args.database_url, "select event_id, user_id, event_type from outbox order by outbox_id")
    by_id = {row[0]: row for row in outbox}
    expected_order: dict[str, list[str]] = defaultdict(list)
    for event_id, user_id, _ in outbox:
        expected_order[user_id].append(event_id)

    # The topic itself, read from the start by a consumer of its own.
    lines = subprocess.run(
        [str(ROOT / "scripts/kafka.sh"), "consume", args.kafka_dir, TOPIC, str(committed), "20000"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    records = []
    for line in lines:
        m = re.match(r"Partition:(\d+)\tOffset:(\d+)\t([^\t]*)\t(.*)$", line)
        if m:
            records.append((int(m[1]), int(m[2]), m[3], json.loads(m[4])))
    if len(records) != committed:
        fail(f"{committed} events committed, {len(records)} records on {TOPIC}")
    partitions_of: dict[str, set[int]] = defaultdict(set)
    seen_order: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for partition, offset, key, event in records:
        ce_id = event.get("id")
        if ce_id not in by_id:
            fail(f"record {partition}/{offset}: CloudEvent id {ce_id!r} is no committed event's id")
        if event.get("data", {}).get("eventId") not in (None, ce_id):
            fail(f"record {partition}/{offset}: CloudEvent id {ce_id} differs from the event id in its data")
        if key != by_id[ce_id][1]:
            fail(f"record {partition}/{offset}: key {key!r}, but the event belongs to user {by_id[ce_id][1]}")
        partitions_of[key].add(partition)
        seen_order[key].append((offset, ce_id))
    split = {k: sorted(v) for k, v in partitions_of.items() if len(v) > 1}
    if split:
        fail(f"users whose events are on more than one partition: {split}")
    ids_on_topic = [r[3]["id"] for r in records]
    if len(set(ids_on_topic)) != len(ids_on_topic):
        fail("an event was published more than once in normal operation")
    for user, events in seen_order.items():
        if [e for _, e in sorted(events)] != expected_order[user]:
            fail(f"user {user}: the topic's order differs from the commit order")

    # What the agent received: its log has one line per delivery with both ids.
    received = []
    for line in Path(args.agent_log).read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        fields = entry.get("fields", entry)
        if "cloudEventId" in fields and "eventId" in fields:
            received.append((fields["cloudEventId"], fields["eventId"]))
    mismatched = [r for r in received if r[0] != r[1]]
    if mismatched:
        fail(f"the agent received CloudEvent ids that are not the event ids: {mismatched[:3]}")
    if {e for _, e in received} != set(by_id):
        fail(f"the agent received {len({e for _, e in received})} distinct events, {committed} were committed")

    snapshot = effects(args.database_url) | {"committed": committed}
    Path(args.snapshot).write_text(json.dumps(snapshot))
    users = len(partitions_of)
    print(
        f"backbone: committed {committed}, on the topic {len(records)} (each once; {users} user(s), each on one "
        f"of {len({p for p, *_ in records})} partition(s) in commit order), received by the agent {len(received)} "
        f"deliveries with CloudEvent id = event id, processed {snapshot['processed']}; "
        f"all processed {latency:.1f} s after the browser tests ended"
    )


def duplicate_deliveries(metrics_url: str) -> int:
    text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("agent_events_processed_total{") and 'outcome="duplicate"' in line
    )


def replayed(args: argparse.Namespace) -> None:
    before = json.loads(Path(args.before).read_text())
    want = before["committed"]
    deadline = time.monotonic() + 90
    started = time.monotonic()
    while (got := duplicate_deliveries(args.agent_metrics)) < want:
        if time.monotonic() > deadline:
            fail(f"after the rewind the agent saw {got} of {want} events again")
        time.sleep(0.5)
    after = effects(args.database_url)
    changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
    if changed:
        fail(f"a replayed delivery had an effect: {changed}")
    print(
        f"backbone: consumer group rewound; {got} events delivered again in {time.monotonic() - started:.1f} s, "
        f"each recognised as a duplicate, no new effect ({after})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="check", required=True)
    d = sub.add_parser("delivered")
    d.add_argument("--database-url", required=True)
    d.add_argument("--kafka-dir", required=True)
    d.add_argument("--agent-log", required=True)
    d.add_argument("--snapshot", required=True)
    r = sub.add_parser("replayed")
    r.add_argument("--database-url", required=True)
    r.add_argument("--agent-metrics", required=True)
    r.add_argument("--before", required=True)
    args = parser.parse_args()
    {"delivered": delivered, "replayed": replayed}[args.check](args)


if __name__ == "__main__":
    main()
