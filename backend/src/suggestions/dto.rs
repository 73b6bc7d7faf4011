//! The suggestions API's request and response bodies.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::suggestions::{ItemRow, SuggestionRow};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionResponse {
    pub id: Uuid,
    /// `overdue`, `priority`, `overload`, `stale`, `reminder`, `schedule_adjustment` or
    /// `daily_plan`.
    pub kind: String,
    /// `open`, `accepted`, `dismissed` or `expired`.
    pub status: String,
    pub title: String,
    pub message: String,
    /// Why the assistant says it, in one line built from the facts it used (null on
    /// suggestions older than reasons).
    pub reason: Option<String>,
    /// The same reason as one sentence in the words of the assistant's language model, when
    /// one is configured and its answer held up; null otherwise (show `reason` then).
    pub explanation: Option<String>,
    pub task_id: Option<Uuid>,
    /// The task change that accepting applies (a PATCH body), when there is one.
    #[schema(value_type = Option<Object>)]
    pub proposed_change: Option<serde_json::Value>,
    /// The tasks of a suggestion that covers several (a grouped reschedule, a daily plan), in
    /// display order; empty otherwise.
    pub items: Vec<SuggestionItemResponse>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl SuggestionResponse {
    pub fn new(row: SuggestionRow, items: Vec<ItemRow>) -> Self {
        Self {
            id: row.suggestion_id,
            kind: row.kind,
            status: row.status,
            title: row.title,
            message: row.message,
            reason: row.reason,
            explanation: row.explanation,
            task_id: row.task_id,
            proposed_change: row.proposed_change,
            items: items.into_iter().map(Into::into).collect(),
            created_at: row.created_at,
            expires_at: row.expires_at,
            resolved_at: row.resolved_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionItemResponse {
    pub task_id: Uuid,
    /// The task's title as it is now.
    pub task_title: String,
    /// The task's effort estimate in minutes, as it is now.
    pub estimate_minutes: Option<i32>,
    /// The task change accepting this item applies (a PATCH body; `{}` keeps the task as it is).
    #[schema(value_type = Object)]
    pub proposed_change: serde_json::Value,
    pub reason: String,
    /// `open`, `accepted` or `skipped`.
    pub status: String,
}

impl From<ItemRow> for SuggestionItemResponse {
    fn from(row: ItemRow) -> Self {
        Self {
            task_id: row.task_id,
            task_title: row.task_title,
            estimate_minutes: row.estimate_minutes,
            proposed_change: row.proposed_change,
            reason: row.reason,
            status: row.status,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionList {
    pub items: Vec<SuggestionResponse>,
    /// Open suggestions per kind.
    pub open_counts: BTreeMap<String, i64>,
}

/// "Pick another day": accept a proposed due-time change, but with this due time instead.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptRequest {
    /// An RFC 3339 instant, or a date alone (the end of that day in the user's time zone).
    pub due_at: String,
}
