//! One chat turn: load or start the conversation, settle a pending confirmation or ask the
//! engine, and store both messages with what the conversation now refers to.

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

pub async fn take_turn(
    chat: &ChatState,
    tools: Toolbox<'_>,
    conversation_id: Option<Uuid>,
    message: &str,
) -> Result<ChatResponse> {
    let pool = tools.db;
    let now = tools.now;
    let conversation = match conversation_id {
        Some(id) => db::chat::find_conversation(pool, tools.user_id, id).await?.ok_or(AppError::NotFound)?,
        None => {
            db::chat::insert_conversation(pool, Uuid::now_v7(), tools.user_id, &title_of(message)).await?
        }
    };
    let id = conversation.conversation_id;
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
            let turn = Turn { tools, message, history: &history, last_task_ids: &conversation.last_task_ids };
            chat.engine.respond(&turn).await?
        }
    };

    let referenced = outcome.referenced.as_deref().unwrap_or(&conversation.last_task_ids);
    let pending_json = outcome.pending.as_ref().map(|p| serde_json::to_value(p).unwrap_or_default());
    let ttl = Duration::from_std(chat.confirmation_ttl).unwrap_or(Duration::minutes(5));
    let pending = pending_json.as_ref().map(|p| (p, now + ttl));
    db::chat::save_state(pool, id, referenced, pending).await?;
    let actions = serde_json::to_value(&outcome.actions).map_err(anyhow::Error::from)?;
    db::chat::insert_message(pool, id, "assistant", &outcome.reply, &actions).await?;
    Ok(ChatResponse {
        conversation_id: id,
        reply: outcome.reply,
        actions: outcome.actions,
        awaiting_confirmation: outcome.pending.is_some(),
    })
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
