//! What the user's answers taught the assistants: per kind of advice, the dismissals in a row,
//! the pause they caused, and the totals (`suggestion_feedback`, kept by a trigger on the
//! user's answers to suggestions).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedbackRow {
    pub kind: String,
    pub dismissed_in_a_row: i32,
    pub paused_until: Option<DateTime<Utc>>,
    pub accepted: i64,
    pub dismissed: i64,
}

/// The user's rows, one per kind they ever answered. Served by the primary key.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn feedback(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<FeedbackRow>> {
    sqlx::query_as(
        "select kind, dismissed_in_a_row, paused_until, accepted, dismissed
         from suggestion_feedback where user_id = $1",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Ends the user's run of dismissals of `kind` and lifts its pause; the totals stay. `None`
/// when the user never answered that kind (nothing to reset). Served by the primary key.
#[tracing::instrument(skip_all, fields(user.id = %user_id, kind))]
pub async fn reset(db: impl PgExecutor<'_>, user_id: Uuid, kind: &str) -> sqlx::Result<Option<FeedbackRow>> {
    sqlx::query_as(
        "update suggestion_feedback set dismissed_in_a_row = 0, paused_until = null
         where user_id = $1 and kind = $2
         returning kind, dismissed_in_a_row, paused_until, accepted, dismissed",
    )
    .bind(user_id)
    .bind(kind)
    .fetch_optional(db)
    .await
}
