//! The transactional outbox as the relay reads it (events are written by `platform::outbox`).
//!
//! The statements that find rows are sent unnamed (`persistent(false)`), so each execution is
//! planned for the table as it is then. A named statement keeps the generic plan PostgreSQL
//! picked after its fifth run, and the relay runs its first passes against an outbox of a few
//! rows, where a sequential scan is cheapest: with 60,000 rows later that plan made marking a
//! batch published take 3–19 ms instead of 0.15 ms, and the retry lookup in [`unpublished`]
//! 10 ms, until an analyze happened to invalidate it. Planning takes some 30–40 µs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, sqlx::FromRow)]
pub struct PendingEvent {
    pub outbox_id: i64,
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub task_id: Uuid,
    pub event_type: String,
    pub topic: String,
    pub payload: serde_json::Value,
    pub correlation_id: String,
    pub traceparent: Option<String>,
}

/// Takes the relay's transaction-scoped lock; `false` means another replica is relaying.
/// Transaction-scoped, so it works through a transaction-mode pooler and is released by
/// commit, rollback or a dropped connection alike.
pub async fn try_lock_relay(conn: &mut PgConnection) -> sqlx::Result<bool> {
    // An arbitrary constant that names "the outbox relay" among advisory locks.
    const RELAY_LOCK: i64 = 0x7464_6f5f_6f75_7462;
    sqlx::query_scalar("select pg_try_advisory_xact_lock($1)").bind(RELAY_LOCK).fetch_one(conn).await
}

/// The oldest waiting events, up to `limit`, of users none of whose events waits for a retry
/// after a refusal (those users' events wait, in order, and no one else's do), leaving out
/// parked rows.
pub async fn unpublished(conn: &mut PgConnection, limit: u32) -> sqlx::Result<Vec<PendingEvent>> {
    sqlx::query_as(
        "select outbox_id, event_id, user_id, task_id, event_type, topic, payload, correlation_id, traceparent
         from outbox
         where published_at is null and parked_at is null
           and user_id <> all(array(
               select user_id from outbox where published_at is null and retry_at > now()))
         order by outbox_id limit $1",
    )
    .bind(i64::from(limit))
    .persistent(false)
    .fetch_all(conn)
    .await
}

pub async fn mark_published(conn: &mut PgConnection, outbox_ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query("update outbox set published_at = now(), attempts = attempts + 1 where outbox_id = any($1)")
        .bind(outbox_ids)
        .persistent(false)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sends each payload on `channel`, in order, at commit.
pub async fn announce(conn: &mut PgConnection, channel: &str, payloads: &[String]) -> sqlx::Result<()> {
    if payloads.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "select pg_notify($1, payload) from unnest($2::text[]) with ordinality as p(payload, n) order by n",
    )
    .bind(channel)
    .bind(payloads)
    .execute(conn)
    .await?;
    Ok(())
}

/// A publish that did not reach the broker (sidecar unreachable or the call refused whole):
/// noted on the row for operators; it counts towards nothing.
pub async fn record_failure(conn: &mut PgConnection, outbox_id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query("update outbox set attempts = attempts + 1, last_error = $2 where outbox_id = $1")
        .bind(outbox_id)
        .bind(error)
        .persistent(false)
        .execute(conn)
        .await?;
    Ok(())
}

/// The broker refused this event: it and its user's later events wait `first_retry` doubled
/// for each earlier refusal (at most `max_retry`), and the row is parked at its
/// `park_after`th refusal. Returns whether it was parked.
pub async fn record_refusal(
    conn: &mut PgConnection,
    outbox_id: i64,
    error: &str,
    first_retry: Duration,
    max_retry: Duration,
    park_after: u32,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "update outbox set attempts = attempts + 1, refusals = refusals + 1, last_error = $2,
             retry_at = now() + least($3 * power(2, least(refusals, 30)), $4) * interval '1 millisecond',
             parked_at = case when refusals + 1 >= $5 then now() end
         where outbox_id = $1
         returning parked_at is not null",
    )
    .bind(outbox_id)
    .bind(error)
    .bind(first_retry.as_secs_f64() * 1000.0)
    .bind(max_retry.as_secs_f64() * 1000.0)
    .bind(i64::from(park_after))
    .persistent(false)
    .fetch_one(conn)
    .await
}

/// Puts parked rows back in line (all, or those of one event id), with their refusals
/// forgotten. Returns how many.
pub async fn unpark(db: impl PgExecutor<'_>, event_id: Option<Uuid>) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "update outbox set parked_at = null, refusals = 0, retry_at = null
         where published_at is null and parked_at is not null and ($1::uuid is null or event_id = $1)",
    )
    .bind(event_id)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

#[derive(Debug, sqlx::FromRow)]
pub struct Backlog {
    /// Waiting to go out, parked rows excluded.
    pub unpublished: i64,
    pub parked: i64,
    pub oldest_created_at: Option<DateTime<Utc>>,
}

/// What `/ready` reports; served by the partial index on unpublished rows.
pub async fn backlog(db: impl PgExecutor<'_>) -> sqlx::Result<Backlog> {
    sqlx::query_as(
        "select count(*) filter (where parked_at is null) as unpublished,
                count(*) filter (where parked_at is not null) as parked,
                min(created_at) filter (where parked_at is null) as oldest_created_at
         from outbox where published_at is null",
    )
    .persistent(false)
    .fetch_one(db)
    .await
}

/// Deletes published rows older than the retention, in bounded batches so the purge never
/// holds long locks. Returns how many rows went.
pub async fn purge_published(db: impl PgExecutor<'_>, older_than: DateTime<Utc>) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "delete from outbox where outbox_id in (
             select outbox_id from outbox where published_at < $1 limit 10000)",
    )
    .bind(older_than)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
