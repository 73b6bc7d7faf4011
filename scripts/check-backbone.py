#!/usr/bin/env python3
"""Checks what the product did on the real event backbone (daprd + Kafka), from the outside:
the database, the Kafka topic itself, the ai-agent's log and its /metrics. Run by `./dev test`
after the browser tests drove the product on real sidecars (`browser_tests dapr` in ./dev).

    check-backbone.py delivered --api URL --database-url URL --kafka-dir DIR --agent-log FILE
                               --agent-metrics URL --snapshot FILE
        three more users write interleaved (create, complete), then:
        every committed event was published, reached the agent and was processed; on the topic,
        each user's events sit on one partition (key = userId), each task's changes in commit
        order, each event once, with the event id as the CloudEvent id; the agent received
        exactly those ids
    check-backbone.py replayed --database-url URL --agent-metrics URL --before FILE
        after the agent's consumer group was rewound to the start of the topic: every event was
        delivered again, each processed one was recognised by its id, and none had a second
        effect (FILE: the snapshot `delivered` wrote)

Standard library only; talks to PostgreSQL through psql and to Kafka through scripts/kafka.sh.
"""

from __future__ import annotations

import argparse
import http.cookiejar
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
# Events the ai-agent writes (announcements), as against the backend's task changes.
AGENT_EVENT_TYPES = {"tasks.overdue", "tasks.reminder"}


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


def received_by_agent(agent_log: str) -> list[tuple[str, str]]:
    """(CloudEvent id, event id) of every delivery the agent handled, from its log: one line per
    delivery, handled or not (an event type without a handler is acknowledged, not recorded)."""
    received = []
    for line in Path(agent_log).read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        fields = entry.get("fields", entry)
        if "cloudEventId" in fields and "eventId" in fields:
            received.append((fields["cloudEventId"], fields["eventId"]))
    return received


def wait_until_received(url: str, agent_log: str, timeout: float) -> tuple[int, list[tuple[str, str]]]:
    """Waits until every outbox row is published and has reached the agent."""
    deadline = time.monotonic() + timeout
    while True:
        ids = {row[0] for row in psql(url, "select event_id from outbox")}
        published = scalar(url, "select count(*) from outbox where published_at is not null")
        received = received_by_agent(agent_log)
        missing = ids - {event_id for _, event_id in received}
        if ids and published == len(ids) and not missing:
            return len(ids), received
        if time.monotonic() > deadline:
            fail(
                f"after {timeout:.0f} s: committed {len(ids)}, published {published}, not received by the agent: "
                f"{sorted(missing)[:5]}; dead letters {scalar(url, 'select count(*) from dead_letter')}"
            )
        time.sleep(0.5)


def agent_deliveries(metrics_url: str) -> dict[str, int]:
    """The agent's delivery counters, summed over event types: all, and those it recognised as
    already processed."""
    text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    total = duplicate = 0
    for line in text.splitlines():
        if line.startswith("agent_events_processed_total{"):
            n = int(float(line.rsplit(" ", 1)[1]))
            total += n
            duplicate += n if 'outcome="duplicate"' in line else 0
    return {"deliveries": total, "duplicates": duplicate}


def write_interleaved(api: str, users: int, tasks: int) -> None:
    """A few more users whose writes interleave, so the topic holds several keys at once."""
    clients = []
    for n in range(users):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        body = {"email": f"backbone-{n}-{time.time_ns()}@example.com", "password": "correct horse battery"}
        post(opener, f"{api}/api/v1/auth/signup", body)
        clients.append(opener)
    for i in range(tasks):
        for opener in clients:
            task = post(opener, f"{api}/api/v1/tasks", {"title": f"interleaved {i}", "dueAt": "2020-01-01T09:00:00Z"})
            post(opener, f"{api}/api/v1/tasks/{task['id']}/complete", None)


def post(opener: urllib.request.OpenerDirector, url: str, body: dict | None) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(url, data=data, method="POST", headers={"content-type": "application/json"})
    with opener.open(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else {}


def delivered(args: argparse.Namespace) -> None:
    write_interleaved(args.api, users=3, tasks=4)
    started = time.monotonic()
    committed, received = wait_until_received(args.database_url, args.agent_log, 60)
    latency = time.monotonic() - started
    outbox = psql(args.database_url, "select event_id, user_id, event_type, task_id from outbox order by outbox_id")
    by_id = {row[0]: row for row in outbox}
    # The commit order the outbox id gives is each task's (its row lock orders its changes);
    # the ai-agent's announcements overlap the user's next change and may commit either way
    # (see backend/src/relay.rs).
    expected_order: dict[str, list[str]] = defaultdict(list)
    for event_id, _, event_type, task_id in outbox:
        if event_type not in AGENT_EVENT_TYPES:
            expected_order[task_id].append(event_id)

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
        if by_id[ce_id][2] not in AGENT_EVENT_TYPES:
            seen_order[by_id[ce_id][3]].append((offset, ce_id))
    split = {k: sorted(v) for k, v in partitions_of.items() if len(v) > 1}
    if split:
        fail(f"users whose events are on more than one partition: {split}")
    ids_on_topic = [r[3]["id"] for r in records]
    if len(set(ids_on_topic)) != len(ids_on_topic):
        fail("an event was published more than once in normal operation")
    for task, events in seen_order.items():
        if [e for _, e in sorted(events)] != expected_order[task]:
            fail(f"task {task}: the topic's order differs from the commit order")

    mismatched = [r for r in received if r[0] != r[1]]
    if mismatched:
        fail(f"the agent received CloudEvent ids that are not the event ids: {mismatched[:3]}")
    strangers = {e for _, e in received} - set(by_id)
    if strangers:
        fail(f"the agent received events that were never committed: {sorted(strangers)[:3]}")
    unknown = scalar(
        args.database_url,
        f"select count(*) from processed_event p where p.consumer = '{AGENT}' "
        "and not exists (select 1 from outbox o where o.event_id::text = p.event_id)",
    )
    if unknown:
        fail(f"{unknown} processed event id(s) match no committed event")

    snapshot = effects(args.database_url) | {"committed": committed} | agent_deliveries(args.agent_metrics)
    Path(args.snapshot).write_text(json.dumps(snapshot))
    users = len(partitions_of)
    print(
        f"backbone: committed {committed}, on the topic {len(records)} (each once; {users} user(s), each on one "
        f"of {len({p for p, *_ in records})} partition(s), each task's changes in commit order), received by the agent {len(received)} "
        f"deliveries with CloudEvent id = event id, processed by a handler {snapshot['processed']}; "
        f"all received {latency:.1f} s after the last write"
    )


def replayed(args: argparse.Namespace) -> None:
    before = json.loads(Path(args.before).read_text())
    want = before["committed"]
    deadline = time.monotonic() + 90
    started = time.monotonic()
    while (got := agent_deliveries(args.agent_metrics))["deliveries"] - before["deliveries"] < want:
        if time.monotonic() > deadline:
            fail(f"after the rewind the agent saw {got['deliveries'] - before['deliveries']} of {want} events again")
        time.sleep(0.5)
    after = effects(args.database_url)
    changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
    if changed:
        fail(f"a replayed delivery had an effect: {changed}")
    # Every event the agent had processed came back and was recognised by its id.
    recognised = got["duplicates"] - before["duplicates"]
    if recognised < after["processed"]:
        fail(f"{after['processed']} events were processed before, only {recognised} recognised as duplicates")
    print(
        f"backbone: consumer group rewound; {got['deliveries'] - before['deliveries']} deliveries again in "
        f"{time.monotonic() - started:.1f} s, the {after['processed']} processed events each recognised as a "
        f"duplicate, no new effect ({after})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="check", required=True)
    d = sub.add_parser("delivered")
    d.add_argument("--database-url", required=True)
    d.add_argument("--kafka-dir", required=True)
    d.add_argument("--api", required=True)
    d.add_argument("--agent-log", required=True)
    d.add_argument("--agent-metrics", required=True)
    d.add_argument("--snapshot", required=True)
    r = sub.add_parser("replayed")
    r.add_argument("--database-url", required=True)
    r.add_argument("--agent-metrics", required=True)
    r.add_argument("--before", required=True)
    args = parser.parse_args()
    {"delivered": delivered, "replayed": replayed}[args.check](args)


if __name__ == "__main__":
    main()
