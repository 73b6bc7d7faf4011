//! Restraint: what a user's answers to suggestions taught the assistants, per kind of advice,
//! shown in Settings and resettable there; and the per-kind count of those answers in
//! `/metrics`.
//!
//! The rule itself (three dismissals in a row pause a kind for a day, doubling, at most 30
//! days; an accept resets; reminders never pause) lives in the database trigger that counts
//! every user answer, so every path that resolves a suggestion counts without calling in here
//! (specs/spec.md, "Restraint").

pub mod dto;
pub mod service;

use axum::extract::State;
use chrono::Utc;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AuthUser,
    domain::advice_kind::AdviceKind,
    error::{Problem, Result},
    http::{AppPath, AppState},
};
use dto::{FeedbackList, KindFeedback};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_feedback)).routes(routes!(reset_feedback))
}

/// Per kind of advice: dismissals in a row, the pause they caused, and the totals
/// (specs/spec.md, "Restraint").
#[utoipa::path(get, path = "/assistant/feedback", tag = "suggestions",
    responses(
        (status = 200, body = FeedbackList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_feedback(State(state): State<AppState>, auth: AuthUser) -> Result<axum::Json<FeedbackList>> {
    let items = service::feedback(&state.db, auth.user_id, Utc::now()).await?;
    Ok(axum::Json(FeedbackList { items }))
}

/// Resume a kind of advice: lifts its pause and starts its count of dismissals in a row again
/// (the totals stay).
#[utoipa::path(delete, path = "/assistant/feedback/{kind}", tag = "suggestions",
    params(("kind" = String, Path, description = "overdue, priority, overload, stale, schedule_adjustment or daily_plan")),
    responses(
        (status = 200, body = KindFeedback),
        (status = 400, description = "Not a kind of advice (`kind`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reset_feedback(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(kind): AppPath<String>,
) -> Result<axum::Json<KindFeedback>> {
    let kind: AdviceKind = kind.parse()?;
    Ok(axum::Json(service::reset(&state.db, auth.user_id, kind, Utc::now()).await?))
}
