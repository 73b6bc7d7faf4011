//! The assistants' suggestions, as their owner reads and resolves them.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

macro_rules! suggestion_columns {
    () => {
        "suggestion_id, user_id, task_id, kind, status, title, message, proposed_change,
         created_at, expires_at, resolved_at"
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SuggestionRow {
    pub suggestion_id: Uuid,
    pub user_id: Uuid,
    pub task_id: Option<Uuid>,
    pub kind: String,
    pub status: String,
    pub title: String,
    pub message: String,
    pub proposed_change: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A user's suggestions in one status (all when `None`), newest first. An open suggestion past
/// its expiry counts as expired even before the sweep marks it.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn list(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    status: Option<&str>,
    limit: u32,
) -> sqlx::Result<Vec<SuggestionRow>> {
    sqlx::query_as(concat!(
        "select ",
        suggestion_columns!(),
        " from (select suggestion_id, user_id, task_id, kind,
                  case when status = 'open' and expires_at <= now() then 'expired' else status end as status,
                  title, message, proposed_change, created_at, expires_at, resolved_at
                from suggestion where user_id = $1) s
         where $2::text is null or status = $2
         order by created_at desc, suggestion_id desc limit $3"
    ))
    .bind(user_id)
    .bind(status)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await
}

/// Open suggestions per kind, for the panel's counts.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn open_counts(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "select kind, count(*) from suggestion
         where user_id = $1 and status = 'open' and expires_at > now() group by kind order by kind",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Locks one of the user's suggestions for resolving it.
#[tracing::instrument(skip_all, fields(suggestion.id = %suggestion_id))]
pub async fn find_for_update(
    conn: &mut PgConnection,
    user_id: Uuid,
    suggestion_id: Uuid,
) -> sqlx::Result<Option<SuggestionRow>> {
    sqlx::query_as(concat!(
        "select ",
        suggestion_columns!(),
        " from suggestion where suggestion_id = $1 and user_id = $2 for update"
    ))
    .bind(suggestion_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(skip_all, fields(suggestion.id = %suggestion_id))]
pub async fn resolve(
    conn: &mut PgConnection,
    suggestion_id: Uuid,
    status: &str,
) -> sqlx::Result<SuggestionRow> {
    sqlx::query_as(concat!(
        "update suggestion set status = $2, resolved_at = now() where suggestion_id = $1 returning ",
        suggestion_columns!()
    ))
    .bind(suggestion_id)
    .bind(status)
    .fetch_one(conn)
    .await
}
