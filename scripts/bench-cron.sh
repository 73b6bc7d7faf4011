#!/usr/bin/env bash
# The cron sweep benchmark: 1,000,000 tasks of 10,000 users seeded with generate_series, then
# the ai-agent's real overdue and prioritisation passes (`ai-agent run-pass`), timed, with the
# rows and buffers their candidate scans touched (pg_stat_statements). Three shapes show what
# the time follows:
#
#   A  1,000,000 tasks, 10,000 of them overdue
#   B  1,000,000 tasks,  1,000 overdue          (A → B: a tenth of the work, same table)
#   C    100,000 tasks,  1,000 overdue          (B → C: same work, a tenth of the table)
#
# Reachable as `./dev bench cron` (scripts/bench.sh hands over to this script). Needs the
# release backend (for the migrations) and ai-agent: `cargo build --release --locked -p backend -p ai-agent`.
#   BIN_DIR   default target/release
#   CRON_TASKS / CRON_USERS / CRON_OVERDUE   change shape A (defaults 1000000 / 10000 / 10000)
set -euo pipefail
# A failing command inside $(...) fails the assignment, and so the run.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source scripts/product.sh

bin_dir=${BIN_DIR:-target/release}
for bin in backend ai-agent; do
  [ -x "$bin_dir/$bin" ] || { echo "bench-cron: $bin_dir/$bin is missing; build it first" >&2; exit 1; }
done
tasks=${CRON_TASKS:-1000000}
users=${CRON_USERS:-10000}
overdue=${CRON_OVERDUE:-10000}

tmp=$(mktemp -d /tmp/todo-bench-cron.XXXXXX)
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup INT TERM EXIT

echo "==> PostgreSQL (durability defaults, pg_stat_statements)"
database_url=$(throwaway_postgres "$tmp" todo -c shared_preload_libraries=pg_stat_statements -c max_connections=50)
sql() { psql -X -q -v ON_ERROR_STOP=1 "$database_url" "$@"; }
sql -c "create extension if not exists pg_stat_statements"
DATABASE_URL=$database_url "$bin_dir/backend" migrate >/dev/null

echo "==> seeding $tasks tasks of $users users ($overdue overdue)"
started=$(date +%s.%N)
sql <<SQL
insert into app_user (user_id, email, password_hash)
select gen_random_uuid(), 'u' || i || '@example.com', 'x' from generate_series(1, $users) i;
create temporary table u as select row_number() over () as n, user_id from app_user;
-- Task i belongs to user i mod users. The first $overdue are open and overdue; of the rest,
-- half are completed (some long past due), half are due in 10 to 40 days (not yet anyone's
-- business: outside the prioritisation window of 2 days too).
insert into task (task_id, user_id, title, priority, due_at, completed_at, series_id, created_at, updated_at, project_id)
select id, u.user_id, 'Task ' || i, 'high',
       case when i <= $overdue then now() - interval '1 hour' - (i % 1000) * interval '1 minute'
            when i % 2 = 0 then now() - interval '30 days'
            else now() + interval '10 days' + (i % 30) * interval '1 day' end,
       case when i > $overdue and i % 2 = 0 then now() - interval '29 days' end,
       id, now(), now(), inbox.project_id
from (select gen_random_uuid() as id, i from generate_series(1, $tasks) i) t
join u on u.n = (t.i % $users) + 1
join project inbox on inbox.user_id = u.user_id and inbox.is_inbox;
vacuum analyze;
SQL
echo "    seeded in $(printf '%.0f' "$(echo "$(date +%s.%N) - $started" | bc)") s"

# One drain of a job, with what its candidate scan cost in the database.
run() {
  local label=$1 job=$2 pattern=$3
  sql -c "select pg_stat_statements_reset()" >/dev/null
  local report
  report=$(DATABASE_URL=$database_url SUGGESTIONS_PER_HOUR=1000000 LOG_FORMAT=json "$bin_dir/ai-agent" run-pass "$job")
  local scan
  scan=$(sql -At -F ' ' -c "select calls, rows, shared_blks_hit + shared_blks_read, round(total_exec_time::numeric, 1)
                             from pg_stat_statements where query like '%$pattern%' and query like '%order by t.due_at limit%'
                             order by total_exec_time desc limit 1")
  read -r calls rows blocks scan_ms <<<"${scan:-0 0 0 0}"
  echo "$label $job: $report; candidate scans: $calls calls, $rows rows returned, $blocks buffers, $scan_ms ms"
}

shape() {
  echo "==> shape $1: $(sql -At -c "select count(*) from task") tasks, $(sql -At -c "select count(*) from task where completed_at is null and due_at < now()") overdue"
}

shape A
run A overdue 't.due_at < \$1'
run A prioritization 't.due_at > \$1'
# A user's overdue tasks found together are one grouped proposal, one item per task.
sql -c "select count(*) as proposals,
               count(distinct s.task_id) + (select count(distinct i.task_id) from suggestion_item i
                                            join suggestion g using (suggestion_id)
                                            where g.kind = 'schedule_adjustment') as tasks_proposed
          from suggestion s where s.kind = 'schedule_adjustment'"

echo "==> to shape B: 9 in 10 overdue tasks completed, suggestions cleared"
sql -c "delete from suggestion; delete from outbox;
        update task set completed_at = now() where task_id in
          (select task_id from task where completed_at is null and due_at < now() order by task_id
           limit (select count(*) * 9 / 10 from task where completed_at is null and due_at < now()))"
sql -c "vacuum analyze"
shape B
run B overdue 't.due_at < \$1'

echo "==> to shape C: nine in ten of the other tasks deleted"
sql -c "delete from suggestion; delete from outbox;
        delete from task where task_id in
          (select task_id from task where not (completed_at is null and due_at < now()) order by task_id
           limit (select count(*) * 9 / 10 from task where not (completed_at is null and due_at < now())))"
sql -c "vacuum analyze"
shape C
run C overdue 't.due_at < \$1'
