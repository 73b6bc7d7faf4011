//! What the database says happened to a scenario's users: the counts every scenario is judged
//! on, and the event latency.

use sqlx::PgPool;

/// Over the scenario's users' `tasks.created` events.
#[derive(Debug, PartialEq, Eq)]
pub struct Counts {
    /// Events in the outbox: one per task the API committed.
    pub committed: i64,
    /// Those the sidecar accepted (`published_at` set by the relay).
    pub delivered: i64,
    /// Those the ai-agent recorded as processed.
    pub processed: i64,
    pub tasks: i64,
    /// Tasks with an `overdue` suggestion (the effect), and suggestions beyond one per task.
    pub suggestions: i64,
    pub duplicate_suggestions: i64,
}

impl Counts {
    /// Every committed change has its effect, once.
    pub fn settled(&self) -> bool {
        self.committed == self.tasks
            && self.delivered == self.committed
            && self.processed == self.committed
            && self.suggestions == self.committed
            && self.duplicate_suggestions == 0
    }
}

pub async fn counts(db: &PgPool, users: &[String]) -> sqlx::Result<Counts> {
    let (committed, delivered, processed, tasks, suggestions, duplicate_suggestions) = sqlx::query_as(
        "select
           (select count(*) from outbox where user_id = any($1::uuid[]) and event_type = 'tasks.created'),
           (select count(*) from outbox where user_id = any($1::uuid[]) and event_type = 'tasks.created'
                                          and published_at is not null),
           (select count(*) from processed_event p join outbox o on p.event_id = o.event_id::text
             where o.user_id = any($1::uuid[]) and o.event_type = 'tasks.created' and p.consumer = 'ai-agent'),
           (select count(*) from task where user_id = any($1::uuid[])),
           (select count(distinct task_id) from suggestion where user_id = any($1::uuid[]) and kind = 'overdue'),
           (select count(*) - count(distinct task_id) from suggestion where user_id = any($1::uuid[]) and kind = 'overdue')",
    )
    .bind(users)
    .fetch_one(db)
    .await?;
    Ok(Counts { committed, delivered, processed, tasks, suggestions, duplicate_suggestions })
}

/// Commit → suggestion, in milliseconds (p50, p95): from the outbox row's time (the writing
/// transaction's) to the suggestion's (the agent's transaction).
pub async fn latency_ms(db: &PgPool, users: &[String]) -> sqlx::Result<(f64, f64)> {
    sqlx::query_as(
        "select coalesce(percentile_cont(0.5) within group (order by ms), 0),
                coalesce(percentile_cont(0.95) within group (order by ms), 0)
           from (select extract(epoch from s.created_at - o.created_at) * 1000 as ms
                   from suggestion s join outbox o on s.source_event = o.event_id::text
                  where o.user_id = any($1::uuid[]) and s.kind = 'overdue') l",
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
