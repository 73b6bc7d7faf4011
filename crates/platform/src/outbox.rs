//! Writing an event to the transactional outbox. Every service writes its events here, in the
//! transaction of the change that caused them; the backend's relay publishes every row. So an
//! event commits if and only if its change does.

use events::TaskEvent;
use sqlx::PgConnection;

/// The one column list every writer fills, in this order: event id, user id, task id, event
/// type, topic, payload ([`payload`]), correlation id, trace context. Exported for a service
/// that writes an event in the very statement of its change (the backend's task create).
#[macro_export]
macro_rules! insert_into_outbox {
    () => {
        "insert into outbox (event_id, user_id, task_id, event_type, topic, payload, correlation_id, traceparent) "
    };
}

#[tracing::instrument(skip_all, fields(event.id = %event.event_id, event.type = %event.event_type()))]
pub async fn insert(
    conn: &mut PgConnection,
    topic: &str,
    event: &TaskEvent,
    traceparent: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(concat!(crate::insert_into_outbox!(), "values ($1, $2, $3, $4, $5, $6, $7, $8)"))
        .bind(event.event_id)
        .bind(event.user_id)
        .bind(event.task_id)
        .bind(event.event_type().as_str())
        .bind(topic)
        .bind(payload(event)?)
        .bind(&event.correlation_id)
        .bind(traceparent)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes `events` in one statement, in their order (the relay publishes by `outbox_id`). For a
/// cron pass announcing a batch: one round trip instead of one per event.
#[tracing::instrument(skip_all, fields(events = events.len()))]
pub async fn insert_many(
    conn: &mut PgConnection,
    topic: &str,
    events: &[TaskEvent],
    traceparent: Option<&str>,
) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let event_ids: Vec<_> = events.iter().map(|e| e.event_id).collect();
    let user_ids: Vec<_> = events.iter().map(|e| e.user_id).collect();
    let task_ids: Vec<_> = events.iter().map(|e| e.task_id).collect();
    let types: Vec<_> = events.iter().map(|e| e.event_type().as_str()).collect();
    let payloads = events.iter().map(payload).collect::<sqlx::Result<Vec<_>>>()?;
    let correlation_ids: Vec<_> = events.iter().map(|e| e.correlation_id.as_str()).collect();
    sqlx::query(concat!(
        crate::insert_into_outbox!(),
        "select e.event_id, e.user_id, e.task_id, e.event_type, $5, e.payload, e.correlation_id, $7
         from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $6::jsonb[], $8::text[])
              with ordinality as e(event_id, user_id, task_id, event_type, payload, correlation_id, n)
         order by e.n"
    ))
    .bind(&event_ids)
    .bind(&user_ids)
    .bind(&task_ids)
    .bind(&types)
    .bind(topic)
    .bind(&payloads)
    .bind(traceparent)
    .bind(&correlation_ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// The `payload` column: the whole event as JSON.
pub fn payload(event: &TaskEvent) -> sqlx::Result<serde_json::Value> {
    serde_json::to_value(event).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}
