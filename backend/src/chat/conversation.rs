//! One chat turn: claim the message's idempotency key, load or start the conversation, settle
//! a pending confirmation or ask the engine, and store both messages with what the
//! conversation now refers to and the reply for retries.

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::{
    ChatResponse, ChatState, Outcome, Turn,
    offline::intent::confirmation,
    tools::{ActionKind, PendingAction, Toolbox},
};
use crate::{
    db,
    error::{AppError, Result},
};

/// Messages of history an engine gets.
const HISTORY: u32 = 20;

/// One message to answer.
pub struct Request<'a> {
    pub conversation_id: Option<Uuid>,
    pub message: &'a str,
    /// The client's `Idempotency-Key`; without one the message is answered afresh every time.
    pub key: Option<String>,
    /// When the reply must be ready (see [`Turn::deadline`]).
    pub deadline: tokio::time::Instant,
    /// The request timeout: how long a first attempt may still be running.
    pub timeout: std::time::Duration,
}

pub enum Answer {
    Fresh(ChatResponse),
    /// A retry's answer: the reply stored for its key (JSON shaped as [`ChatResponse`]).
    Replayed(serde_json::Value),
}

/// Said when a retry finds its first attempt cut off (the process stopped, the request timed
/// out) after it made changes: those are reported, never made again.
const INTERRUPTED: &str = "Answering this message was interrupted. What was done before that is listed below; \
    ask again for anything still missing.";

pub async fn take_turn(chat: &ChatState, tools: Toolbox<'_>, request: Request<'_>) -> Result<Answer> {
    let pool = tools.db;
    let turn_id = Uuid::now_v7();
    let key = request.key.clone().unwrap_or_else(|| turn_id.to_string());
    let claimed = db::chat::claim_turn(
        pool,
        turn_id,
        tools.user_id,
        &key,
        request.message,
        request.conversation_id,
        request.timeout.as_secs_f64(),
    )
    .await?;
    if let Some(earlier) = claimed {
        return replay(pool, earlier, &request).await.map(Answer::Replayed);
    }
    let answered = answer(chat, tools, &request, turn_id).await;
    if answered.is_err() {
        // Nothing was done (or nothing recorded), so a retry may run the message afresh.
        db::chat::release_turn(pool, turn_id).await?;
    }
    answered.map(Answer::Fresh)
}

/// The answer to a retry: the stored reply; a conflict while the first attempt may still be
/// running; and once it can no longer be, a reply recovered from what it saved.
async fn replay(
    pool: &sqlx::PgPool,
    earlier: db::chat::TurnRow,
    request: &Request<'_>,
) -> Result<serde_json::Value> {
    if earlier.message != request.message || earlier.requested_conversation_id != request.conversation_id {
        return Err(AppError::Unprocessable {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used with a different message".into(),
        });
    }
    if let Some(stored) = earlier.response {
        return Ok(stored.0);
    }
    if earlier.leased {
        return Err(AppError::Conflict {
            code: "message_in_progress",
            detail: "this message is still being answered; retry in a few seconds".into(),
        });
    }
    let Some(conversation_id) = earlier.conversation_id else {
        // Cut off before it had a conversation, so before it did anything.
        db::chat::release_turn(pool, earlier.turn_id).await?;
        return Err(AppError::Conflict {
            code: "message_in_progress",
            detail: "the first attempt at this message was interrupted; retry now".into(),
        });
    };
    let actions = earlier.progress.0;
    let response = json!({
        "conversationId": conversation_id,
        "reply": INTERRUPTED,
        "actions": actions,
        "awaitingConfirmation": false,
    });
    let mut tx = pool.begin().await?;
    if db::chat::finish_turn(&mut *tx, earlier.turn_id, &response).await? {
        db::chat::insert_message(&mut *tx, conversation_id, "assistant", INTERRUPTED, &actions).await?;
        tx.commit().await?;
        return Ok(response);
    }
    drop(tx);
    // A concurrent retry recovered it first.
    db::chat::turn_response(pool, earlier.turn_id).await?.ok_or(AppError::NotFound)
}

async fn answer(
    chat: &ChatState,
    tools: Toolbox<'_>,
    request: &Request<'_>,
    turn_id: Uuid,
) -> Result<ChatResponse> {
    let pool = tools.db;
    let now = tools.now;
    let message = request.message;
    let conversation = match request.conversation_id {
        Some(id) => db::chat::find_conversation(pool, tools.user_id, id).await?.ok_or(AppError::NotFound)?,
        None => {
            db::chat::insert_conversation(pool, Uuid::now_v7(), tools.user_id, &title_of(message)).await?
        }
    };
    let id = conversation.conversation_id;
    db::chat::set_turn_conversation(pool, turn_id, id).await?;
    let history = db::chat::recent_messages(pool, id, HISTORY).await?;
    db::chat::insert_message(pool, id, "user", message, &json!([])).await?;

    // A yes/no settles the pending request, if there is one; whoever clears it first owns it.
    let answer = confirmation(message);
    let pending = match (&conversation.pending_action, answer) {
        (Some(_), Some(_)) => db::chat::take_pending(pool, id).await?.and_then(|(action, expires)| {
            Some((serde_json::from_value::<PendingAction>(action.0).ok()?, expires))
        }),
        _ => None,
    };
    let outcome = match (pending, answer) {
        (Some((pending, expires_at)), Some(yes)) => {
            if expires_at <= now {
                Outcome::reply(
                    "That request has expired, so nothing was changed. Ask again if you still want it.",
                )
            } else if yes {
                let actions = tools.execute(&pending).await?;
                let count = actions.iter().map(|a| a.tasks.len()).sum::<usize>();
                let s = if count == 1 { "" } else { "s" };
                let reply = match pending {
                    PendingAction::Delete { .. } => format!("Deleted {count} task{s}."),
                    PendingAction::Complete { .. } => format!("Marked {count} task{s} done."),
                    PendingAction::Update { .. } => format!("Updated {count} task{s}."),
                };
                let referenced = actions
                    .iter()
                    .filter(|a| a.kind != ActionKind::Deleted)
                    .flat_map(|a| a.tasks.iter().map(|t| t.id))
                    .collect();
                Outcome { reply, actions, pending: None, referenced: Some(referenced) }
            } else {
                Outcome::reply("OK, nothing was changed.")
            }
        }
        // Anything but yes/no drops a pending request: it is only ever confirmed right away.
        _ => {
            let turn = Turn {
                tools,
                message,
                history: &history,
                last_task_ids: &conversation.last_task_ids,
                deadline: request.deadline,
                turn_id,
            };
            chat.engine.respond(&turn).await?
        }
    };

    let referenced = outcome.referenced.as_deref().unwrap_or(&conversation.last_task_ids);
    let pending_json = outcome.pending.as_ref().map(|p| serde_json::to_value(p).unwrap_or_default());
    let ttl = Duration::from_std(chat.confirmation_ttl).unwrap_or(Duration::minutes(5));
    let pending = pending_json.as_ref().map(|p| (p, now + ttl));
    let actions = serde_json::to_value(&outcome.actions).map_err(anyhow::Error::from)?;
    let response = ChatResponse {
        conversation_id: id,
        reply: outcome.reply,
        actions: outcome.actions,
        awaiting_confirmation: outcome.pending.is_some(),
    };
    let stored = serde_json::to_value(&response).map_err(anyhow::Error::from)?;
    // The reply, the conversation's state and the stored answer for retries go together.
    let mut tx = pool.begin().await?;
    db::chat::save_state(&mut *tx, id, referenced, pending).await?;
    db::chat::insert_message(&mut *tx, id, "assistant", &response.reply, &actions).await?;
    db::chat::finish_turn(&mut *tx, turn_id, &stored).await?;
    tx.commit().await?;
    Ok(response)
}

/// A conversation is named after its first message, shortened to fit a list.
fn title_of(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    let mut title: String = line.chars().filter(|c| !c.is_control()).take(80).collect();
    if line.chars().count() > 80 {
        title.push('…');
    }
    if title.is_empty() { "Conversation".to_owned() } else { title }
}
