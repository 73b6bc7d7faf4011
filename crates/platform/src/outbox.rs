//! Writing an event to the transactional outbox. Every service writes its events here, in the
//! transaction of the change that caused them; the backend's relay publishes every row. So an
//! event commits if and only if its change does.

use events::TaskEvent;
use sqlx::PgConnection;

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
