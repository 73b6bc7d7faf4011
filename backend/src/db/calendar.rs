//! The calendar feed: each user's feed token, and the tasks the feed shows.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedRow {
    pub token: String,
    /// When the current address was made: turning the feed on or resetting it.
    pub created_at: DateTime<Utc>,
}

/// What the feed shows of a task.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedTaskRow {
    pub task_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub priority: String,
    pub tags: Vec<String>,
    pub due_at: DateTime<Utc>,
    pub recurrence_rule: Option<String>,
    pub recurrence_basis: Option<String>,
    pub series_start_at: Option<DateTime<Utc>>,
    pub occurrence_number: i32,
    pub updated_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn find(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Option<FeedRow>> {
    sqlx::query_as("select token, created_at from calendar_feed where user_id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Gives the user's feed `token`, replacing the one it had: the old address stops working in
/// the same statement.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn replace(db: impl PgExecutor<'_>, user_id: Uuid, token: &str) -> sqlx::Result<FeedRow> {
    sqlx::query_as(
        "insert into calendar_feed (user_id, token) values ($1, $2)
         on conflict (user_id) do update set token = excluded.token, created_at = now()
         returning token, created_at",
    )
    .bind(user_id)
    .bind(token)
    .fetch_one(db)
    .await
}

/// Turns the user's feed off; whether it was on.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn delete(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<bool> {
    let result =
        sqlx::query("delete from calendar_feed where user_id = $1").bind(user_id).execute(db).await?;
    Ok(result.rows_affected() > 0)
}

/// The user whose feed has `token` (`calendar_feed_token_key`).
#[tracing::instrument(skip_all)]
pub async fn owner(db: impl PgExecutor<'_>, token: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select user_id from calendar_feed where token = $1")
        .bind(token)
        .fetch_optional(db)
        .await
}

/// The user's open tasks with a due date, soonest first: a range of `task_user_open_due_idx`
/// (dated tasks sort before the `infinity` of undated ones).
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn open_dated_tasks(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<FeedTaskRow>> {
    sqlx::query_as(
        "select task_id, title, description, priority::text as priority, tags, due_at,
                recurrence_rule, recurrence_basis, series_start_at, occurrence_number, updated_at
         from task
         where user_id = $1 and completed_at is null
           and coalesce(due_at, 'infinity'::timestamptz) < 'infinity'::timestamptz
         order by coalesce(due_at, 'infinity'::timestamptz), task_id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}
