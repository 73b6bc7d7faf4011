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
