//! What a scenario's users' events did, judged from the outside: the database (the outbox,
//! what the agent recorded, the suggestions) and the ai-agent's own per-delivery log lines.
//! Nothing here is a count the schema keeps at zero by itself.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
};

use sqlx::PgPool;

/// Over every event of the scenario's users (creates, updates, completions, deletions, and
/// what the agent announced about them).
#[derive(Debug, PartialEq, Eq)]
pub struct Counts {
    /// Events in the outbox: one per change the API (or the agent) committed.
    pub committed: i64,
    /// Those of them the ai-agent received, by its own log (one line per delivery).
    pub delivered: i64,
    /// Committed events of the types the agent handles, and those it recorded as processed.
    pub handled_types: i64,
    pub processed: i64,
    /// Deliveries beyond the first of an event: allowed (at-least-once), reported.
    pub redeliveries: i64,
    /// Events whose handlers ran and committed more than once, by the agent's log: a
    /// duplicate effect.
    pub handled_twice: i64,
    /// Suggestions of one kind for one task created by two different events: a duplicate
    /// effect the unique dedupe key does not catch.
    pub by_two_events: i64,
    /// Open tasks without exactly one open reschedule proposal (`schedule_adjustment`: every
    /// task is created overdue, and the event path proposes for one task at a time),
    /// and completed tasks still with an open suggestion: missing or extra effects.
    pub wrong_effects: i64,
    pub tasks: i64,
}

impl Counts {
    /// Every committed change has reached the agent and has its effect, once.
    pub fn settled(&self) -> bool {
        self.delivered == self.committed
            && self.processed == self.handled_types
            && self.handled_twice == 0
            && self.by_two_events == 0
            && self.wrong_effects == 0
    }
}

/// What the ai-agent logs say, per event id: deliveries received, and deliveries whose
/// handlers ran and committed (reason `processed`). Reads every `ai-agent*.log` in `dir`.
fn agent_log(dir: &Path) -> anyhow::Result<HashMap<String, (i64, i64)>> {
    let mut seen: HashMap<String, (i64, i64)> = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if !(name.starts_with("ai-agent") && path.extension().is_some_and(|e| e == "log")) {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            let fields = entry.get("fields").unwrap_or(&entry);
            let (Some(id), Some(reason)) = (
                fields.get("eventId").and_then(|v| v.as_str()),
                fields.get("reason").and_then(|v| v.as_str()),
            ) else {
                continue;
            };
            let counts = seen.entry(id.to_owned()).or_default();
            counts.0 += 1;
            counts.1 += i64::from(reason == "processed");
        }
    }
    Ok(seen)
}

pub async fn counts(db: &PgPool, users: &[String], log_dir: &Path) -> anyhow::Result<Counts> {
    let events: Vec<(String, bool)> = sqlx::query_as(
        "select event_id::text,
                event_type in ('tasks.created', 'tasks.updated', 'tasks.completed', 'tasks.incomplete', 'tasks.deleted')
           from outbox where user_id = any($1::uuid[])",
    )
    .bind(users)
    .fetch_all(db)
    .await?;
    let log = agent_log(log_dir)?;
    let ids: HashSet<&str> = events.iter().map(|(id, _)| id.as_str()).collect();
    let mut delivered = 0;
    let mut redeliveries = 0;
    let mut handled_twice = 0;
    for (id, (received, handled)) in &log {
        if ids.contains(id.as_str()) {
            delivered += 1;
            redeliveries += received - 1;
            handled_twice += i64::from(*handled > 1);
        }
    }
    let (processed, by_two_events, wrong_effects, tasks): (i64, i64, i64, i64) = sqlx::query_as(
        "select
           (select count(*) from processed_event p join outbox o on p.event_id = o.event_id::text
             where o.user_id = any($1::uuid[]) and p.consumer = 'ai-agent'),
           (select count(*) from (select 1 from suggestion where user_id = any($1::uuid[]) and task_id is not null
                                   group by task_id, kind having count(distinct source_event) > 1) d),
           (select count(*) from task t where t.user_id = any($1::uuid[]) and (
                (t.completed_at is null and (select count(*) from suggestion s where s.task_id = t.task_id
                                               and s.kind = 'schedule_adjustment' and s.status = 'open') <> 1)
             or (t.completed_at is not null and exists (select 1 from suggestion s where s.task_id = t.task_id
                                                          and s.status = 'open')))),
           (select count(*) from task where user_id = any($1::uuid[]))",
    )
    .bind(users)
    .fetch_one(db)
    .await?;
    Ok(Counts {
        committed: i64::try_from(events.len())?,
        delivered,
        handled_types: i64::try_from(events.iter().filter(|(_, handled)| *handled).count())?,
        processed,
        redeliveries,
        handled_twice,
        by_two_events,
        wrong_effects,
        tasks,
    })
}

/// Commit → suggestion, in milliseconds (p50, p95): from the outbox row's time (the writing
/// transaction's) to the suggestion's (the agent's transaction).
pub async fn latency_ms(db: &PgPool, users: &[String]) -> sqlx::Result<(f64, f64)> {
    sqlx::query_as(
        "select coalesce(percentile_cont(0.5) within group (order by ms), 0),
                coalesce(percentile_cont(0.95) within group (order by ms), 0)
           from (select extract(epoch from s.created_at - o.created_at) * 1000 as ms
                   from suggestion s join outbox o on s.source_event = o.event_id::text
                  where o.user_id = any($1::uuid[]) and s.kind = 'schedule_adjustment') l",
    )
    .bind(users)
    .fetch_one(db)
    .await
}

/// The relay's rate on a backlog: events of `users` published at or after `since` (the moment
/// the sidecar came back), over the span between the first and the last of them.
pub async fn relay_rate(
    db: &PgPool,
    users: &[String],
    since: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<(i64, f64)> {
    sqlx::query_as(
        "select count(*), coalesce(extract(epoch from max(published_at) - min(published_at))::float8, 0)
           from outbox where user_id = any($1::uuid[]) and published_at >= $2",
    )
    .bind(users)
    .bind(since)
    .fetch_one(db)
    .await
}

/// Dead letters recorded for the users' events, and how many of them were replayed.
pub async fn dead_letters(db: &PgPool, users: &[String]) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "select count(*), count(d.replayed_at)
           from dead_letter d join outbox o on d.event_id = o.event_id::text
          where o.user_id = any($1::uuid[])",
    )
    .bind(users)
    .fetch_one(db)
    .await
}
