//! One call to the model: a suggestion's reason, the facts the assistant used, rephrased as
//! one sentence. The model sees the kind of advice and the facts line only, never the task's
//! title or any other text a user wrote, so the call carries no user content and nothing in it
//! can instruct the model. The answer must match a strict JSON schema; whether the sentence
//! holds up is the caller's check.

use std::time::Duration;

use async_openai::{
    Client,
    config::OpenAIConfig,
    types::chat::{
        ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
        ChatCompletionRequestSystemMessageContent, CreateChatCompletionRequest, ResponseFormat,
        ResponseFormatJsonSchema,
    },
};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{client, user, wanted};
use crate::{chat::budget::Budget, config::ChatConfig, error::AppError};

/// Phrases reasons with the configured model, from the suggestion owner's daily budget.
pub struct Phraser {
    client: Client<OpenAIConfig>,
    model: String,
    timeout: Duration,
    budget: Budget,
}

/// Why there is no sentence; the label counts it in `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The owner's or the service's daily budget is spent: no call was made.
    Budget,
    /// No answer within `ASSISTANT_WORDING_TIMEOUT_SECS`.
    Timeout,
    /// The provider refused or failed.
    Provider,
    /// An answer that is not the schema's object.
    Malformed,
    /// The budget could not be read or written.
    Database,
}

impl Failure {
    pub fn label(self) -> &'static str {
        match self {
            Self::Budget => "budget",
            Self::Timeout => "timeout",
            Self::Provider => "provider",
            Self::Malformed => "malformed",
            Self::Database => "database",
        }
    }
}

const PROMPT: &str = "You write the one-line explanation under a suggestion in a to-do \
application. The user message is JSON: the kind of suggestion and the facts the assistant \
used, as a terse line. Rewrite the facts as one short, friendly sentence addressed to the user \
(\"you\"), at most 160 characters. Use only the facts given: add no number, date, time or \
claim that is not in them, and leave none of the important ones out. Plain text, no markup, no \
links. Answer with the JSON object the schema asks for.";

/// The longest answer asked for, in tokens: a sentence of 160 characters is about 40.
const MAX_TOKENS: u32 = 120;

#[derive(Deserialize)]
struct Answer {
    explanation: String,
}

impl Phraser {
    /// The phraser when the OpenAI engine is on and `ASSISTANT_MODEL_WORDING` is true.
    pub fn from_config(config: &ChatConfig) -> anyhow::Result<Option<Self>> {
        if !config.assistant_model_wording || !wanted(config) {
            return Ok(None);
        }
        let timeout = Duration::from_secs(config.assistant_wording_timeout_secs.max(1));
        Ok(Some(Self {
            client: client(config, timeout)?,
            model: config.openai_model.clone(),
            timeout,
            budget: Budget::from_config(config),
        }))
    }

    /// The model's sentence for `facts`, the reason of a suggestion of `kind` owned by
    /// `user_id`; unchecked.
    pub async fn phrase(
        &self,
        db: &PgPool,
        user_id: Uuid,
        kind: &str,
        facts: &str,
    ) -> Result<String, Failure> {
        self.budget.reserve(db, user_id).await.map_err(|e| match e {
            AppError::LimitReached { .. } => Failure::Budget,
            _ => Failure::Database,
        })?;
        let request = CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: vec![
                ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
                    content: ChatCompletionRequestSystemMessageContent::Text(PROMPT.to_owned()),
                    name: None,
                }),
                user(json!({ "kind": kind, "facts": facts }).to_string()),
            ],
            response_format: Some(ResponseFormat::JsonSchema { json_schema: schema() }),
            max_completion_tokens: Some(MAX_TOKENS),
            ..CreateChatCompletionRequest::default()
        };
        let response = match tokio::time::timeout(self.timeout, self.client.chat().create(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(async_openai::error::OpenAIError::Reqwest(e))) if e.is_timeout() => {
                return Err(Failure::Timeout);
            }
            Ok(Err(e)) => {
                tracing::warn!(error.message = %e, "the model provider failed to word a suggestion");
                return Err(Failure::Provider);
            }
            Err(_) => return Err(Failure::Timeout),
        };
        if let Some(usage) = &response.usage
            && let Err(e) = self.budget.record(db, user_id, usage.total_tokens).await
        {
            tracing::warn!(error.message = %e, "the wording call's tokens could not be counted");
        }
        let content =
            response.choices.into_iter().next().and_then(|c| c.message.content).ok_or(Failure::Malformed)?;
        serde_json::from_str::<Answer>(&content).map(|a| a.explanation).map_err(|_| Failure::Malformed)
    }
}

/// The answer's shape, in the subset of JSON Schema that strict structured output takes.
fn schema() -> ResponseFormatJsonSchema {
    ResponseFormatJsonSchema {
        name: "suggestion_explanation".to_owned(),
        description: Some("Why the assistant makes this suggestion, in one sentence".to_owned()),
        schema: json!({
            "type": "object",
            "properties": {
                "explanation": {
                    "type": "string",
                    "description": "One sentence of at most 160 characters, from the given facts only"
                }
            },
            "required": ["explanation"],
            "additionalProperties": false
        }),
        strict: Some(true),
    }
}
