//! The schedule of reminder firings derived from tasks.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Schedules `fire_times` for a task, skipping times already past and times already
/// scheduled or fired: for a recurring task's next occurrence, which has none to replace.
#[tracing::instrument(skip_all, fields(task.id = %task_id))]
pub async fn add_pending(
    conn: &mut PgConnection,
    task_id: Uuid,
    user_id: Uuid,
    fire_times: &[DateTime<Utc>],
) -> sqlx::Result<()> {
    if fire_times.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = fire_times.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "insert into reminder (reminder_id, task_id, user_id, fire_at)
         select id, $2, $3, fire_at from unnest($1::uuid[], $4::timestamptz[]) as r(id, fire_at)
         where fire_at > now()
         on conflict (task_id, fire_at) do nothing",
    )
    .bind(&ids)
    .bind(task_id)
    .bind(user_id)
    .bind(fire_times)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
