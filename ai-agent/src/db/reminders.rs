//! Claiming reminder firings. The backend keeps the `reminder` rows in step with each task's
//! due time and settings; the reminder agent only claims rows whose time has come.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A due reminder with what its suggestion and event need from the task.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueReminder {
    pub reminder_id: Uuid,
    pub task_id: Uuid,
    pub user_id: Uuid,
    pub fire_at: DateTime<Utc>,
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub project_id: Uuid,
    pub time_zone: String,
}

/// Locks up to `limit` unfired reminders due by `now`, earliest first, for the caller's
/// transaction. `skip locked`: rows another pass (another replica) holds are left to it, so
/// concurrent passes share the work and none fires a row twice. Served by
/// `reminder_pending_idx`.
pub async fn claim_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<DueReminder>> {
    sqlx::query_as(
        "select r.reminder_id, r.task_id, r.user_id, r.fire_at, t.title, t.due_at, t.completed_at, t.project_id,
                coalesce(p.time_zone, 'UTC') as time_zone
         from reminder r
         join task t on t.task_id = r.task_id
         left join user_preference p on p.user_id = r.user_id
         where r.fired_at is null and r.fire_at <= $1
         order by r.fire_at
         limit $2
         for update of r skip locked",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// How many reminders each of `users` had fired since `since`. Served by
/// `reminder_fired_by_user_idx`.
pub async fn fired_since(
    conn: &mut PgConnection,
    users: &[Uuid],
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<(Uuid, i64)>> {
    sqlx::query_as(
        "select user_id, count(*) from reminder
         where user_id = any($1) and fired_at is not null and fired_at > $2
         group by user_id",
    )
    .bind(users)
    .bind(since)
    .fetch_all(conn)
    .await
}

/// Marks claimed reminders fired, in the same transaction as their effects.
pub async fn mark_fired(
    conn: &mut PgConnection,
    reminder_ids: &[Uuid],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("update reminder set fired_at = $2 where reminder_id = any($1)")
        .bind(reminder_ids)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
