//! What the assistants suggest to a user, and the user's answer: accept (apply the proposed
//! change, or another due time the user picked) or dismiss, whole or, for a suggestion that
//! covers several tasks, item by item. The assistants create suggestions; this API only reads
//! and resolves them. See specs/spec.md, "Accepting proposals".

pub mod dto;
pub mod service;
pub mod wording;

use axum::extract::{RawQuery, State};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use self::{
    dto::{AcceptRequest, SuggestionList, SuggestionResponse},
    service::{DueOverride, ItemAnswer},
};
use crate::{
    auth::AuthUser,
    db,
    domain::FieldError,
    error::{Problem, Result},
    http::{AppJson, AppPath, AppState, RequestContext},
    preferences::Preferences,
};

/// Suggestions resolved by their owner, by `kind` and `outcome` (`accepted` or `dismissed`).
pub const RESOLVED: &str = "suggestions_resolved_total";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_suggestions))
        .routes(routes!(accept_suggestion))
        .routes(routes!(dismiss_suggestion))
        .routes(routes!(accept_suggestion_item))
        .routes(routes!(skip_suggestion_item))
}

const STATUSES: [&str; 5] = ["open", "accepted", "dismissed", "expired", "all"];

/// The user's suggestions, newest first (at most 200), each with its items.
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
    let items = service::with_items(&state.db, rows).await?;
    let counts = db::suggestions::open_counts(&state.db, auth.user_id).await?;
    Ok(axum::Json(SuggestionList { items, open_counts: counts.into_iter().collect() }))
}

/// Counted once the transaction has committed, so a rolled-back answer is not counted.
fn count_resolution(suggestion: &SuggestionResponse) {
    if suggestion.status != "open" {
        metrics::counter!(RESOLVED, "kind" => suggestion.kind.clone(), "outcome" => suggestion.status.clone())
            .increment(1);
    }
}

async fn due_override(
    state: &AppState,
    auth: &AuthUser,
    body: Option<AppJson<AcceptRequest>>,
) -> Result<(Preferences, Option<DueOverride>)> {
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let due = body.map(|AppJson(req)| DueOverride::parse(&req, &prefs)).transpose()?;
    Ok((prefs, due))
}

/// Accept a suggestion: its proposed change, or every open item's, is applied to the task as
/// an ordinary task update with its event, all in one transaction. With a body, the given due
/// time replaces a proposed one ("Pick another day"). An item whose task was completed or
/// deleted meanwhile is skipped.
#[utoipa::path(post, path = "/suggestions/{id}/accept", tag = "suggestions",
    params(("id" = Uuid, Path)),
    request_body(content = Option<AcceptRequest>, description = "Another due time instead of the proposed one"),
    responses(
        (status = 200, body = SuggestionResponse),
        (status = 400, description = "`dueAt` is invalid, or the suggestion proposes no due time", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted, dismissed or expired", body = Problem, content_type = "application/problem+json"),
    ))]
async fn accept_suggestion(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath(id): AppPath<Uuid>,
    body: Option<AppJson<AcceptRequest>>,
) -> Result<axum::Json<SuggestionResponse>> {
    let (prefs, due) = due_override(&state, &auth, body).await?;
    let mut tx = state.db.begin().await?;
    let suggestion = service::accept(&mut tx, &ctx.origin, auth.user_id, id, due, &prefs).await?;
    tx.commit().await?;
    count_resolution(&suggestion);
    Ok(axum::Json(suggestion))
}

/// Dismiss a suggestion, skipping its open items.
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
    let suggestion = service::dismiss(&mut tx, auth.user_id, id).await?;
    tx.commit().await?;
    count_resolution(&suggestion);
    Ok(axum::Json(suggestion))
}

/// Accept one item of a suggestion (its change, or the given due time instead of a proposed
/// one). The suggestion resolves when no open item is left: accepted if any item was.
#[utoipa::path(post, path = "/suggestions/{id}/items/{taskId}/accept", tag = "suggestions",
    params(("id" = Uuid, Path), ("taskId" = Uuid, Path)),
    request_body(content = Option<AcceptRequest>, description = "Another due time instead of the proposed one"),
    responses(
        (status = 200, body = SuggestionResponse),
        (status = 400, description = "`dueAt` is invalid, or the item proposes no due time", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The item or the suggestion is already resolved", body = Problem, content_type = "application/problem+json"),
    ))]
async fn accept_suggestion_item(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath((id, task_id)): AppPath<(Uuid, Uuid)>,
    body: Option<AppJson<AcceptRequest>>,
) -> Result<axum::Json<SuggestionResponse>> {
    let (prefs, due) = due_override(&state, &auth, body).await?;
    let mut tx = state.db.begin().await?;
    let suggestion = service::answer_item(
        &mut tx,
        &ctx.origin,
        auth.user_id,
        id,
        task_id,
        ItemAnswer::Accept(due),
        &prefs,
    )
    .await?;
    tx.commit().await?;
    count_resolution(&suggestion);
    Ok(axum::Json(suggestion))
}

/// Skip one item of a suggestion. The suggestion resolves when no open item is left:
/// accepted if any item was, dismissed otherwise.
#[utoipa::path(post, path = "/suggestions/{id}/items/{taskId}/skip", tag = "suggestions",
    params(("id" = Uuid, Path), ("taskId" = Uuid, Path)),
    responses(
        (status = 200, body = SuggestionResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The item or the suggestion is already resolved", body = Problem, content_type = "application/problem+json"),
    ))]
async fn skip_suggestion_item(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath((id, task_id)): AppPath<(Uuid, Uuid)>,
) -> Result<axum::Json<SuggestionResponse>> {
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let mut tx = state.db.begin().await?;
    let suggestion =
        service::answer_item(&mut tx, &ctx.origin, auth.user_id, id, task_id, ItemAnswer::Skip, &prefs)
            .await?;
    tx.commit().await?;
    count_resolution(&suggestion);
    Ok(axum::Json(suggestion))
}
