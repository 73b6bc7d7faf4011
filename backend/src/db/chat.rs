//! The chat assistant's conversations and messages.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, types::Json};
use uuid::Uuid;

macro_rules! conversation_columns {
    () => {
        "conversation_id, user_id, title, last_task_ids, pending_action, pending_expires_at,
         created_at, updated_at"
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub conversation_id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub last_task_ids: Vec<Uuid>,
    pub pending_action: Option<Json<serde_json::Value>>,
    pub pending_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub message_id: Uuid,
    pub role: String,
    pub content: String,
    pub actions: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn insert_conversation(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
    user_id: Uuid,
    title: &str,
) -> sqlx::Result<ConversationRow> {
    sqlx::query_as(concat!(
        "insert into chat_conversation (conversation_id, user_id, title) values ($1, $2, $3) returning ",
        conversation_columns!()
    ))
    .bind(conversation_id)
    .bind(user_id)
    .bind(title)
    .fetch_one(db)
    .await
}

/// One of the user's conversations; another user's is `None`.
#[tracing::instrument(skip_all, fields(conversation.id = %conversation_id))]
pub async fn find_conversation(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    conversation_id: Uuid,
) -> sqlx::Result<Option<ConversationRow>> {
    sqlx::query_as(concat!(
        "select ",
        conversation_columns!(),
        " from chat_conversation where conversation_id = $1 and user_id = $2"
    ))
    .bind(conversation_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// The user's conversations, most recently active first.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn list_conversations(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    limit: u32,
) -> sqlx::Result<Vec<ConversationRow>> {
    sqlx::query_as(concat!(
        "select ",
        conversation_columns!(),
        " from chat_conversation where user_id = $1
          order by updated_at desc, conversation_id desc limit $2"
    ))
    .bind(user_id)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await
}

/// Deletes one of the user's conversations with its messages; false when there was none.
#[tracing::instrument(skip_all, fields(conversation.id = %conversation_id))]
pub async fn delete_conversation(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    conversation_id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from chat_conversation where conversation_id = $1 and user_id = $2")
        .bind(conversation_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Claims the conversation's pending action, so two concurrent "yes" answers cannot both
/// carry it out: the one that clears it gets it (with its expiry), the other gets `None`.
#[tracing::instrument(skip_all, fields(conversation.id = %conversation_id))]
pub async fn take_pending(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
) -> sqlx::Result<Option<(Json<serde_json::Value>, DateTime<Utc>)>> {
    sqlx::query_as(
        "update chat_conversation c set pending_action = null, pending_expires_at = null
         from (select conversation_id, pending_action, pending_expires_at from chat_conversation
               where conversation_id = $1 and pending_action is not null for update) old
         where c.conversation_id = old.conversation_id
         returning old.pending_action, old.pending_expires_at",
    )
    .bind(conversation_id)
    .fetch_optional(db)
    .await
}

/// Records what the conversation refers to now and what waits for confirmation.
#[tracing::instrument(skip_all, fields(conversation.id = %conversation_id))]
pub async fn save_state(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
    last_task_ids: &[Uuid],
    pending: Option<(&serde_json::Value, DateTime<Utc>)>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update chat_conversation set last_task_ids = $2, pending_action = $3, pending_expires_at = $4
         where conversation_id = $1",
    )
    .bind(conversation_id)
    .bind(last_task_ids)
    .bind(pending.map(|(p, _)| Json(p)))
    .bind(pending.map(|(_, at)| at))
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(conversation.id = %conversation_id))]
pub async fn insert_message(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
    role: &str,
    content: &str,
    actions: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into chat_message (message_id, conversation_id, role, content, actions)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(conversation_id)
    .bind(role)
    .bind(content)
    .bind(Json(actions))
    .execute(db)
    .await?;
    Ok(())
}

/// The last `limit` messages of a conversation, oldest first.
#[tracing::instrument(skip_all, fields(conversation.id = %conversation_id))]
pub async fn recent_messages(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
    limit: u32,
) -> sqlx::Result<Vec<MessageRow>> {
    sqlx::query_as(
        "select * from (
             select message_id, role, content, actions, created_at from chat_message
             where conversation_id = $1 order by message_id desc limit $2
         ) m order by message_id",
    )
    .bind(conversation_id)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TurnRow {
    pub turn_id: Uuid,
    pub message: String,
    pub requested_conversation_id: Option<Uuid>,
    pub conversation_id: Option<Uuid>,
    /// Whether the first attempt may still be running.
    pub leased: bool,
    pub progress: Json<serde_json::Value>,
    pub response: Option<Json<serde_json::Value>>,
}

/// Starts the turn `turn_id` under `key`, held for `lease_secs`; when the user already has a
/// turn under that key, nothing is written and that turn is returned instead.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn claim_turn(
    db: impl PgExecutor<'_>,
    turn_id: Uuid,
    user_id: Uuid,
    key: &str,
    message: &str,
    requested_conversation_id: Option<Uuid>,
    lease_secs: f64,
) -> sqlx::Result<Option<TurnRow>> {
    // A no-op update on conflict locks and returns the existing row (waiting for a concurrent
    // claim to commit); `xmax = 0` tells a row inserted now, ours, from an existing one.
    let (inserted, row): (bool, TurnRow) = sqlx::query_as(
        "insert into chat_turn (turn_id, user_id, idempotency_key, message, requested_conversation_id, lease_until)
         values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
         on conflict (user_id, idempotency_key) do update set idempotency_key = excluded.idempotency_key
         returning xmax = 0 as inserted, turn_id, message, requested_conversation_id, conversation_id,
                   lease_until > now() as leased, progress, response",
    )
    .bind(turn_id)
    .bind(user_id)
    .bind(key)
    .bind(message)
    .bind(requested_conversation_id)
    .bind(lease_secs)
    .fetch_one(db)
    .await
    .map(|row: InsertedTurn| (row.inserted, row.turn))?;
    Ok((!inserted).then_some(row))
}

#[derive(sqlx::FromRow)]
struct InsertedTurn {
    inserted: bool,
    #[sqlx(flatten)]
    turn: TurnRow,
}

/// Records the conversation a turn went to.
#[tracing::instrument(skip_all, fields(turn.id = %turn_id))]
pub async fn set_turn_conversation(
    db: impl PgExecutor<'_>,
    turn_id: Uuid,
    conversation_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("update chat_turn set conversation_id = $2 where turn_id = $1")
        .bind(turn_id)
        .bind(conversation_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Saves what an unfinished turn has done so far (its actions).
#[tracing::instrument(skip_all, fields(turn.id = %turn_id))]
pub async fn save_turn_progress(
    db: impl PgExecutor<'_>,
    turn_id: Uuid,
    actions: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query("update chat_turn set progress = $2 where turn_id = $1 and response is null")
        .bind(turn_id)
        .bind(Json(actions))
        .execute(db)
        .await?;
    Ok(())
}

/// Stores a turn's reply; false when another attempt stored one first.
#[tracing::instrument(skip_all, fields(turn.id = %turn_id))]
pub async fn finish_turn(
    db: impl PgExecutor<'_>,
    turn_id: Uuid,
    response: &serde_json::Value,
) -> sqlx::Result<bool> {
    let done = sqlx::query("update chat_turn set response = $2 where turn_id = $1 and response is null")
        .bind(turn_id)
        .bind(Json(response))
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Forgets a turn that failed before doing anything, so its key may be retried afresh.
#[tracing::instrument(skip_all, fields(turn.id = %turn_id))]
pub async fn release_turn(db: impl PgExecutor<'_>, turn_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from chat_turn where turn_id = $1 and response is null and progress = '[]'")
        .bind(turn_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The stored reply of a turn, once it has one.
#[tracing::instrument(skip_all, fields(turn.id = %turn_id))]
pub async fn turn_response(
    db: impl PgExecutor<'_>,
    turn_id: Uuid,
) -> sqlx::Result<Option<serde_json::Value>> {
    let row: Option<Option<Json<serde_json::Value>>> =
        sqlx::query_scalar("select response from chat_turn where turn_id = $1")
            .bind(turn_id)
            .fetch_optional(db)
            .await?;
    Ok(row.flatten().map(|r| r.0))
}

/// Turns are honoured for a day, like the task API's idempotency keys.
pub async fn purge_expired_turns(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query("delete from chat_turn where created_at < now() - interval '24 hours'")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
