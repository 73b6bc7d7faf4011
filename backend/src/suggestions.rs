//! What the assistants suggest to a user, and the user's answer: accept (apply the proposed
//! change) or dismiss. The assistants create suggestions; this API only reads and resolves them.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    db::{self, suggestions::SuggestionRow},
    domain::FieldError,
    error::{AppError, Problem, Result},
    http::{AppPath, AppState, RequestContext, parse_json},
    preferences::Preferences,
    tasks::{dto::UpdateTaskRequest, service},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_suggestions))
        .routes(routes!(accept_suggestion))
        .routes(routes!(dismiss_suggestion))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionResponse {
    id: Uuid,
    /// `overdue`, `priority`, `overload`, `stale` or `reminder`.
    kind: String,
    /// `open`, `accepted`, `dismissed` or `expired`.
    status: String,
    title: String,
    message: String,
    task_id: Option<Uuid>,
    /// The task change that accepting applies (a PATCH body), when there is one.
    #[schema(value_type = Option<Object>)]
    proposed_change: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
}

impl From<SuggestionRow> for SuggestionResponse {
    fn from(row: SuggestionRow) -> Self {
        Self {
            id: row.suggestion_id,
            kind: row.kind,
            status: row.status,
            title: row.title,
            message: row.message,
            task_id: row.task_id,
            proposed_change: row.proposed_change,
            created_at: row.created_at,
            expires_at: row.expires_at,
            resolved_at: row.resolved_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionList {
    items: Vec<SuggestionResponse>,
    /// Open suggestions per kind.
    open_counts: BTreeMap<String, i64>,
}

const STATUSES: [&str; 5] = ["open", "accepted", "dismissed", "expired", "all"];

/// The user's suggestions, newest first (at most 200).
#[utoipa::path(get, path = "/suggestions", tag = "suggestions",
    params(("status" = Option<String>, Query, description = "open (default), accepted, dismissed, expired or all",
        pattern = "^(open|accepted|dismissed|expired|all)$")),
    responses(
        (status = 200, body = SuggestionList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_suggestions(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<SuggestionList>> {
    let mut status = "open".to_owned();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "status" if STATUSES.contains(&value.as_ref()) => status = value.into_owned(),
            "status" => {
                return Err(
                    FieldError::new("status", "must be open, accepted, dismissed, expired or all").into()
                );
            }
            other => return Err(FieldError::new(other, "is not a known parameter (status)").into()),
        }
    }
    let filter = (status != "all").then_some(status.as_str());
    let rows = db::suggestions::list(&state.db, auth.user_id, filter, 200).await?;
    let counts = db::suggestions::open_counts(&state.db, auth.user_id).await?;
    Ok(axum::Json(SuggestionList {
        items: rows.into_iter().map(Into::into).collect(),
        open_counts: counts.into_iter().collect(),
    }))
}

/// Accept a suggestion: its proposed change (if any) is applied to the task, as an ordinary
/// task update with its event, in the same transaction.
#[utoipa::path(post, path = "/suggestions/{id}/accept", tag = "suggestions",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SuggestionResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted, dismissed or expired", body = Problem, content_type = "application/problem+json"),
    ))]
async fn accept_suggestion(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath(id): AppPath<Uuid>,
) -> Result<axum::Json<SuggestionResponse>> {
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let mut tx = state.db.begin().await?;
    let suggestion = open_suggestion(&mut tx, auth.user_id, id).await?;
    if let (Some(change), Some(task_id)) = (&suggestion.proposed_change, suggestion.task_id) {
        let patch: UpdateTaskRequest = parse_json(change.to_string().as_bytes())
            .map_err(|e| anyhow::anyhow!("suggestion {id} proposes an invalid change: {e}"))?;
        service::update(&mut tx, &ctx.origin, auth.user_id, task_id, patch, &prefs).await?;
    }
    let row = db::suggestions::resolve(&mut tx, id, "accepted").await?;
    tx.commit().await?;
    Ok(axum::Json(row.into()))
}

/// Dismiss a suggestion.
#[utoipa::path(post, path = "/suggestions/{id}/dismiss", tag = "suggestions",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SuggestionResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted, dismissed or expired", body = Problem, content_type = "application/problem+json"),
    ))]
async fn dismiss_suggestion(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<axum::Json<SuggestionResponse>> {
    let mut tx = state.db.begin().await?;
    open_suggestion(&mut tx, auth.user_id, id).await?;
    let row = db::suggestions::resolve(&mut tx, id, "dismissed").await?;
    tx.commit().await?;
    Ok(axum::Json(row.into()))
}

async fn open_suggestion(conn: &mut sqlx::PgConnection, user_id: Uuid, id: Uuid) -> Result<SuggestionRow> {
    let row = db::suggestions::find_for_update(conn, user_id, id).await?.ok_or(AppError::NotFound)?;
    if row.status != "open" || row.expires_at <= Utc::now() {
        let status = if row.status == "open" { "expired" } else { row.status.as_str() };
        return Err(AppError::Conflict {
            code: "suggestion_resolved",
            detail: format!("this suggestion is already {status}"),
        });
    }
    Ok(row)
}
