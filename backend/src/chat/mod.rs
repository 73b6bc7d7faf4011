//! The chat assistant: manage tasks in natural language. Two engines sit behind [`Engine`]: the
//! built-in rule-based one ([`offline`], the default) and an OpenAI-compatible model with tool
//! calling ([`openai`]). Either way the backend itself carries out every change through the
//! task service ([`tools`]), so each one emits its event, and deletions and bulk changes wait
//! for the user's "yes" ([`conversation`]).

pub mod budget;
pub mod conversation;
pub mod offline;
pub mod openai;
pub mod tools;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::{AuthUser, RateLimiter},
    config::ChatConfig,
    db,
    domain::quick_add::{self, QuickAdd},
    error::{AppError, Problem, Result},
    http::{AppJson, AppPath, AppState, RequestContext},
    preferences::Preferences,
    tasks::dto::TaskResponse,
};
use tools::{ChatAction, PendingAction, Toolbox};

/// One turn as an engine sees it: the user's message, the conversation so far, and the tools.
pub struct Turn<'a> {
    pub tools: Toolbox<'a>,
    pub message: &'a str,
    /// Earlier messages of the conversation, oldest first (this turn's message not included).
    pub history: &'a [db::chat::MessageRow],
    /// The tasks the conversation last referred to ("it", "that one").
    pub last_task_ids: &'a [Uuid],
    /// When the turn must be over, so its reply is stored and sent before the request times
    /// out; a model round that cannot start well before it is not started.
    pub deadline: tokio::time::Instant,
    /// The turn's record, where an engine saves what it has done after each change, so a
    /// retry of an interrupted turn can report it instead of doing it again.
    pub turn_id: Uuid,
}

/// What an engine answers.
#[derive(Debug, Default)]
pub struct Outcome {
    pub reply: String,
    pub actions: Vec<ChatAction>,
    /// A deletion or bulk change to carry out if the user confirms.
    pub pending: Option<PendingAction>,
    /// The tasks this reply is about, for follow-ups; `None` keeps the previous ones.
    pub referenced: Option<Vec<Uuid>>,
}

impl Outcome {
    pub fn reply(text: impl Into<String>) -> Self {
        Self { reply: text.into(), ..Self::default() }
    }

    pub fn done(reply: String, kind: tools::ActionKind, tasks: Vec<TaskResponse>) -> Self {
        let referenced = tasks.iter().map(|t| t.id).collect();
        Self {
            reply,
            actions: vec![ChatAction::tasks(kind, tasks)],
            pending: None,
            referenced: Some(referenced),
        }
    }

    /// Adds a `listed` action with these tasks, so a UI can show what the reply talks about.
    #[must_use]
    pub fn with_tasks_shown(mut self, tools: &Toolbox<'_>, tasks: &[crate::tasks::service::Task]) -> Self {
        let shown = tasks.iter().map(|t| tools.response(t)).collect();
        self.actions.push(ChatAction::tasks(tools::ActionKind::Listed, shown));
        self
    }
}

#[async_trait]
pub trait Engine: Send + Sync {
    async fn respond(&self, turn: &Turn<'_>) -> Result<Outcome>;
}

/// Where "now" comes from for relative dates ("tomorrow", "this week"); fixed in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The assistant's share of the application state.
pub struct ChatState {
    pub engine: Arc<dyn Engine>,
    pub clock: Clock,
    pub limiter: RateLimiter,
    pub max_message_chars: usize,
    pub confirmation_ttl: Duration,
    /// Kept free at the end of the request timeout (`CHAT_TURN_MARGIN_SECS`).
    pub turn_margin: Duration,
}

impl ChatState {
    pub fn from_config(config: &ChatConfig) -> anyhow::Result<Self> {
        let engine: Arc<dyn Engine> =
            match openai::OpenAiEngine::from_config(config, budget::Budget::from_config(config))? {
                Some(engine) => Arc::new(engine),
                None => Arc::new(offline::OfflineEngine),
            };
        Ok(Self {
            engine,
            clock: Arc::new(Utc::now),
            limiter: RateLimiter::per_minute(config.chat_rate_limit_per_minute),
            max_message_chars: config.chat_max_message_chars,
            confirmation_ttl: Duration::from_secs(config.chat_confirmation_ttl_secs),
            turn_margin: Duration::from_secs(config.chat_turn_margin_secs),
        })
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(chat))
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation, delete_conversation))
        .routes(routes!(parse_task))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatRequest {
    /// What the user says; up to `CHAT_MAX_MESSAGE_CHARS` characters (default 2000).
    #[schema(example = "add task Submit report due friday 5pm")]
    pub message: String,
    /// Continue this conversation; without it a new one starts.
    pub conversation_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatResponse {
    pub conversation_id: Uuid,
    pub reply: String,
    pub actions: Vec<ChatAction>,
    /// A deletion or bulk change waits for "yes" or "no" in the next message.
    pub awaiting_confirmation: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub id: Uuid,
    /// The conversation's first message, shortened.
    pub title: String,
    pub awaiting_confirmation: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationList {
    pub items: Vec<ConversationSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageResponse {
    pub id: Uuid,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// For assistant messages: what was done.
    #[schema(value_type = Vec<Object>)]
    pub actions: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub conversation: ConversationSummary,
    pub messages: Vec<MessageResponse>,
}

fn summary(row: &db::chat::ConversationRow) -> ConversationSummary {
    ConversationSummary {
        id: row.conversation_id,
        title: row.title.clone(),
        awaiting_confirmation: row.pending_action.is_some()
            && row.pending_expires_at.is_some_and(|at| at > Utc::now()),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// Talk to the assistant.
///
/// The assistant carries out what it understood and says what it did; deleting and bulk
/// changes wait for a "yes" in the next message (and lapse after a few minutes). Task titles
/// and other stored data are never taken as instructions.
///
/// Send an `Idempotency-Key` (a fresh one per message, the same one when retrying it): a retry
/// then returns the first attempt's reply and carries out nothing again, even when the first
/// response was lost after its changes were made. While the first attempt is still running a
/// retry gets 409; an attempt that was cut off is answered with what it had done.
///
/// The assistant answers within the request timeout: when its model is slow it stops early
/// and says what it did. The model has a daily budget per account (429 when spent) and for
/// the whole service (503), both until midnight UTC (`Retry-After`).
#[utoipa::path(post, path = "/ai/chat", tag = "assistant", request_body = ChatRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retrying a message safe: up to 255 characters, kept for 24 hours")),
    responses(
        (status = 200, body = ChatResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request, or the account's conversation or message quota is reached (code `conversation_quota_exceeded` or `message_quota_exceeded`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A message with this `Idempotency-Key` is still being answered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`message` is too long, or the `Idempotency-Key` was used for another message", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many messages, or the account's daily assistant budget is spent", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The model provider failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The assistant's daily budget for the whole service is spent", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The model provider did not answer in time", body = Problem, content_type = "application/problem+json"),
    ))]
async fn chat(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    headers: HeaderMap,
    AppJson(body): AppJson<ChatRequest>,
) -> Result<Response> {
    // The turn must end before the request timeout does, margin included (see `Turn::deadline`).
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let deadline = tokio::time::Instant::now() + timeout.saturating_sub(state.chat.turn_margin);
    let key = crate::tasks::idempotency_key(&headers)?;
    let chat = &state.chat;
    let message = body.message.trim();
    if message.is_empty() {
        return Err(crate::domain::FieldError::new("message", "must not be empty").into());
    }
    let chars = message.chars().count();
    if chars > chat.max_message_chars {
        return Err(AppError::UnprocessableFields {
            code: "message_too_long",
            errors: vec![crate::domain::FieldError::new(
                "message",
                format!("must be at most {} characters (got {chars})", chat.max_message_chars),
            )],
        });
    }
    chat.limiter.check(&state.db, &format!("chat:{}", auth.user_id)).await?;
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let tools = Toolbox {
        db: &state.db,
        origin: &ctx.origin,
        user_id: auth.user_id,
        prefs: &prefs,
        now: (chat.clock)(),
    };
    let request =
        conversation::Request { conversation_id: body.conversation_id, message, key, deadline, timeout };
    Ok(match conversation::take_turn(chat, tools, request).await? {
        conversation::Answer::Fresh(response) => axum::Json(response).into_response(),
        conversation::Answer::Replayed(stored) => {
            let mut response = axum::Json(stored).into_response();
            response
                .headers_mut()
                .insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
            response
        }
    })
}

/// The user's conversations, most recently active first (at most 100).
#[utoipa::path(get, path = "/ai/conversations", tag = "assistant",
    responses(
        (status = 200, body = ConversationList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_conversations(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<axum::Json<ConversationList>> {
    let rows = db::chat::list_conversations(&state.db, auth.user_id, 100).await?;
    Ok(axum::Json(ConversationList { items: rows.iter().map(summary).collect() }))
}

/// One conversation with its messages (the latest 500).
#[utoipa::path(get, path = "/ai/conversations/{id}", tag = "assistant",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ConversationDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_conversation(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<axum::Json<ConversationDetail>> {
    let row = db::chat::find_conversation(&state.db, auth.user_id, id).await?.ok_or(AppError::NotFound)?;
    Ok(axum::Json(detail(&state.db, &row, 500).await?))
}

/// A conversation with its last `limit` messages.
pub(crate) async fn detail(
    db: &sqlx::PgPool,
    row: &db::chat::ConversationRow,
    limit: u32,
) -> Result<ConversationDetail> {
    let messages = db::chat::recent_messages(db, row.conversation_id, limit).await?;
    Ok(ConversationDetail {
        conversation: summary(row),
        messages: messages
            .into_iter()
            .map(|m| MessageResponse {
                id: m.message_id,
                role: m.role,
                content: m.content,
                actions: m.actions.0,
                created_at: m.created_at,
            })
            .collect(),
    })
}

/// Delete a conversation and its messages (the tasks stay).
#[utoipa::path(delete, path = "/ai/conversations/{id}", tag = "assistant",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_conversation(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<StatusCode> {
    if db::chat::delete_conversation(&state.db, auth.user_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParseRequest {
    /// One line, e.g. `Submit report fri 5pm !high #work every week`; up to 500 characters.
    #[schema(example = "Submit report fri 5pm !high #work every week")]
    pub text: String,
    /// The project on screen, one of the user's: a `/Section` without a `#Project` names one
    /// of its sections (without it, one of the Inbox's).
    pub project_id: Option<Uuid>,
}

/// Read a quick-add line: the task it proposes (a body for `POST /tasks`) and the parts it
/// recognised, as UTF-16 offsets for highlighting. Creates nothing.
///
/// `#Name` or `#"Two words"` picks the user's project of that name (ignoring case) and is a
/// tag when no project has that name, as it was before projects; `@label` is always a tag;
/// `/Section` (or `/"Two words"`) names a section of the picked project, else of `projectId`,
/// else of the Inbox, and stays in the title when it names none (specs/spec.md, Quick add).
#[utoipa::path(post, path = "/tasks/parse", tag = "tasks", request_body = ParseRequest,
    responses(
        (status = 200, body = QuickAdd),
        (status = 400, description = "`text` empty, too long or not one line, or `projectId` not one of the user's projects", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn parse_task(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(body): AppJson<ParseRequest>,
) -> Result<axum::Json<QuickAdd>> {
    if body.text.trim().is_empty() {
        return Err(crate::domain::FieldError::new("text", "must not be empty").into());
    }
    if body.text.chars().count() > 500 {
        return Err(crate::domain::FieldError::new("text", "must be at most 500 characters").into());
    }
    if body.text.chars().any(char::is_control) {
        return Err(crate::domain::FieldError::new("text", "must be a single line").into());
    }
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let projects = crate::projects::service::known(&state.db, auth.user_id).await?;
    if let Some(id) = body.project_id
        && !projects.iter().any(|p| p.id == id)
    {
        return Err(crate::domain::FieldError::new("projectId", "is not one of your projects").into());
    }
    let places = quick_add::Places { projects: &projects, on_screen: body.project_id };
    Ok(axum::Json(quick_add::parse_in(&body.text, (state.chat.clock)(), prefs.time_zone, places)))
}
