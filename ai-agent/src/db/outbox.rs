//! The transactional outbox, as the backend writes it: the agents' own events (`tasks.overdue`,
//! `tasks.reminder`) go into the same table in the same transaction as the suggestion or
//! reminder that caused them, and the backend's relay publishes every row. So they get the same
//! guarantee as task changes: committed means published eventually, rolled back means never.

use events::TaskEvent;
use sqlx::PgConnection;

/// Writes an event in the caller's transaction: it commits if and only if the change does.
#[tracing::instrument(skip_all, fields(event.id = %event.event_id, event.type = %event.event_type()))]
pub async fn insert(
    conn: &mut PgConnection,
    topic: &str,
    event: &TaskEvent,
    traceparent: Option<&str>,
) -> sqlx::Result<()> {
    let payload = serde_json::to_value(event).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "insert into outbox (event_id, user_id, task_id, event_type, topic, payload, correlation_id, traceparent)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(event.event_id)
    .bind(event.user_id)
    .bind(event.task_id)
    .bind(event.event_type().as_str())
    .bind(topic)
    .bind(payload)
    .bind(&event.correlation_id)
    .bind(traceparent)
    .execute(conn)
    .await?;
    Ok(())
}
