//! The assistants' suggestions, as their owner reads and resolves them.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

macro_rules! suggestion_columns {
    () => {
        "suggestion_id, user_id, task_id, kind, status, title, message, reason, explanation,
         proposed_change, created_at, expires_at, resolved_at"
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
    pub reason: Option<String>,
    pub explanation: Option<String>,
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
                  title, message, reason, explanation, proposed_change, created_at, expires_at,
                  resolved_at
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

/// One task of a suggestion that covers several, with the task's current title and estimate.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub suggestion_id: Uuid,
    pub task_id: Uuid,
    pub task_title: String,
    pub estimate_minutes: Option<i32>,
    pub proposed_change: serde_json::Value,
    pub reason: String,
    pub status: String,
}

macro_rules! item_query {
    ($where:literal) => {
        concat!(
            "select i.suggestion_id, i.task_id, t.title as task_title, t.estimate_minutes,
                    i.proposed_change, i.reason, i.status
             from suggestion_item i join task t on t.task_id = i.task_id
             where ",
            $where
        )
    };
}

/// The items of a page of suggestions, in one query (served by the primary key, whose
/// leading column is `suggestion_id`), each suggestion's in display order.
#[tracing::instrument(skip_all, fields(suggestions = suggestion_ids.len()))]
pub async fn items_of(db: impl PgExecutor<'_>, suggestion_ids: &[Uuid]) -> sqlx::Result<Vec<ItemRow>> {
    sqlx::query_as(item_query!("i.suggestion_id = any($1) order by i.suggestion_id, i.ordinal"))
        .bind(suggestion_ids)
        .fetch_all(db)
        .await
}

/// Locks a suggestion's open items for resolving them, in display order.
#[tracing::instrument(skip_all, fields(suggestion.id = %suggestion_id))]
pub async fn open_items_for_update(
    conn: &mut PgConnection,
    suggestion_id: Uuid,
) -> sqlx::Result<Vec<ItemRow>> {
    sqlx::query_as(item_query!(
        "i.suggestion_id = $1 and i.status = 'open' order by i.ordinal for update of i"
    ))
    .bind(suggestion_id)
    .fetch_all(conn)
    .await
}

/// Locks one item of a suggestion.
#[tracing::instrument(skip_all, fields(suggestion.id = %suggestion_id, task.id = %task_id))]
pub async fn find_item_for_update(
    conn: &mut PgConnection,
    suggestion_id: Uuid,
    task_id: Uuid,
) -> sqlx::Result<Option<ItemRow>> {
    sqlx::query_as(item_query!("i.suggestion_id = $1 and i.task_id = $2 for update of i"))
        .bind(suggestion_id)
        .bind(task_id)
        .fetch_optional(conn)
        .await
}

/// Records the answer to one item: `accepted` or `skipped`.
#[tracing::instrument(skip_all, fields(suggestion.id = %suggestion_id, task.id = %task_id))]
pub async fn resolve_item(
    conn: &mut PgConnection,
    suggestion_id: Uuid,
    task_id: Uuid,
    status: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update suggestion_item set status = $3, resolved_at = now()
         where suggestion_id = $1 and task_id = $2",
    )
    .bind(suggestion_id)
    .bind(task_id)
    .bind(status)
    .execute(conn)
    .await?;
    Ok(())
}

/// Skips every item of a suggestion still open (dismissing it answers them all).
#[tracing::instrument(skip_all, fields(suggestion.id = %suggestion_id))]
pub async fn skip_open_items(conn: &mut PgConnection, suggestion_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "update suggestion_item set status = 'skipped', resolved_at = now()
         where suggestion_id = $1 and status = 'open'",
    )
    .bind(suggestion_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many of a suggestion's items are still open, and how many were accepted.
#[tracing::instrument(skip_all, fields(suggestion.id = %suggestion_id))]
pub async fn item_tally(conn: &mut PgConnection, suggestion_id: Uuid) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "select count(*) filter (where status = 'open'), count(*) filter (where status = 'accepted')
         from suggestion_item where suggestion_id = $1",
    )
    .bind(suggestion_id)
    .fetch_one(conn)
    .await
}

/// A suggestion taken for wording: whose it is, what kind, and the facts to phrase.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WordingJob {
    pub suggestion_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub reason: String,
}

/// Takes up to `limit` open suggestions created after `since` that no replica has taken for
/// wording yet, oldest first (served by `suggestion_wording_queue`). Taken is taken for good:
/// each suggestion gets one attempt.
#[tracing::instrument(skip_all)]
pub async fn claim_for_wording(
    db: impl PgExecutor<'_>,
    since: DateTime<Utc>,
    limit: u32,
) -> sqlx::Result<Vec<WordingJob>> {
    sqlx::query_as(
        "update suggestion s set wording_claimed_at = now()
         from (select suggestion_id from suggestion
               where status = 'open' and wording_claimed_at is null and reason is not null
                 and created_at > $1
               order by created_at limit $2 for update skip locked) q
         where s.suggestion_id = q.suggestion_id
         returning s.suggestion_id, s.user_id, s.kind, s.reason",
    )
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await
}

/// Stores the model's sentence, unless the suggestion was answered meanwhile (an answered
/// suggestion keeps the text its owner saw).
#[tracing::instrument(skip_all, fields(suggestion.id = %suggestion_id))]
pub async fn set_explanation(
    db: impl PgExecutor<'_>,
    suggestion_id: Uuid,
    explanation: &str,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("update suggestion set explanation = $2 where suggestion_id = $1 and status = 'open'")
            .bind(suggestion_id)
            .bind(explanation)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}
