//! Events that could never be processed, kept for inspection and replay.

use serde_json::Value;
use sqlx::PgConnection;

pub struct NewDeadLetter<'a> {
    pub event_id: Option<&'a str>,
    /// The topic the event was first published to (a dead-lettered CloudEvent keeps it).
    pub topic: &'a str,
    pub event_type: Option<&'a str>,
    /// The whole CloudEvent, or the body as a JSON string when it was not JSON at all.
    pub payload: &'a Value,
    pub reason: &'a str,
}

pub async fn insert(conn: &mut PgConnection, letter: &NewDeadLetter<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into dead_letter (event_id, topic, event_type, payload, reason)
         values ($1, $2, $3, $4, $5) returning dead_letter_id",
    )
    .bind(letter.event_id)
    .bind(letter.topic)
    .bind(letter.event_type)
    .bind(letter.payload)
    .bind(letter.reason)
    .fetch_one(conn)
    .await
}

/// Letters not replayed yet, oldest first: (id, the stored CloudEvent).
pub async fn pending(db: &sqlx::PgPool, limit: i64) -> sqlx::Result<Vec<(i64, Value)>> {
    sqlx::query_as(
        "select dead_letter_id, payload from dead_letter where replayed_at is null
         order by dead_letter_id limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn mark_replayed(db: &sqlx::PgPool, dead_letter_id: i64) -> sqlx::Result<()> {
    sqlx::query("update dead_letter set replayed_at = now() where dead_letter_id = $1")
        .bind(dead_letter_id)
        .execute(db)
        .await?;
    Ok(())
}
