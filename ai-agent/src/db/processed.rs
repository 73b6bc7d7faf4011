//! Consumer-side idempotency: which CloudEvent ids this service has already handled.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor, Row};
use uuid::Uuid;

use crate::db::tasks::{TaskRow, task_columns};

/// Records `event_id` as handled by `consumer` in the caller's transaction. `false` means it
/// was already recorded (or is being recorded by a concurrent delivery, which this call waits
/// for): the effects happened, or will, exactly once.
pub async fn record(
    conn: &mut PgConnection,
    consumer: &str,
    event_id: &str,
    event_type: &str,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "insert into processed_event (consumer, event_id, event_type) values ($1, $2, $3)
         on conflict (consumer, event_id) do nothing",
    )
    .bind(consumer)
    .bind(event_id)
    .bind(event_type)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// [`record`], and in the same statement the event's task as it is now (`None` if deleted):
/// the handlers of most deliveries need it, and one round trip fewer per delivery is a good
/// part of the agent's database time. Nothing is read for an id already recorded.
pub async fn record_reading_task(
    conn: &mut PgConnection,
    consumer: &str,
    event_id: &str,
    event_type: &str,
    task_id: Uuid,
) -> sqlx::Result<Option<Option<TaskRow>>> {
    let row = sqlx::query(concat!(
        "with recorded as (
             insert into processed_event (consumer, event_id, event_type) values ($1, $2, $3)
             on conflict (consumer, event_id) do nothing
             returning event_id
         )
         select exists (select 1 from recorded) as fresh, task.*
         from (values (1)) as one
         left join lateral (select ",
        task_columns!(),
        " where t.task_id = $4 and exists (select 1 from recorded)) as task on true"
    ))
    .bind(consumer)
    .bind(event_id)
    .bind(event_type)
    .bind(task_id)
    .fetch_one(conn)
    .await?;
    if !row.try_get::<bool, _>("fresh")? {
        return Ok(None);
    }
    let task = match row.try_get::<Option<Uuid>, _>("task_id")? {
        Some(_) => Some(TaskRow::from_row(&row)?),
        None => None,
    };
    Ok(Some(task))
}

/// Forgets ids recorded before `older_than`, at most `limit` rows per call so the purge never
/// holds long locks. Served by `processed_event_processed_at_idx`.
pub async fn purge(
    db: impl PgExecutor<'_>,
    consumers: &[&str],
    older_than: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "delete from processed_event where (consumer, event_id) in (
             select consumer, event_id from processed_event
             where processed_at < $2 and consumer = any($1)
             limit $3)",
    )
    .bind(consumers)
    .bind(older_than)
    .bind(limit)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
