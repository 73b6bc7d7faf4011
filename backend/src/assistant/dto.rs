//! The assistant-feedback API's bodies.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// What the user's answers taught the assistants about one kind of advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KindFeedback {
    /// `overdue`, `priority`, `overload`, `stale`, `schedule_adjustment` or `daily_plan`.
    pub kind: String,
    /// Dismissals since the last accept (or reset); three pause the kind.
    pub dismissed_in_a_row: i32,
    /// No advice of this kind before this instant; null when the kind is not paused.
    pub paused_until: Option<DateTime<Utc>>,
    /// All-time answers to this kind.
    pub accepted: i64,
    pub dismissed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackList {
    /// Every kind of advice, in a fixed order, answered or not.
    pub items: Vec<KindFeedback>,
}
