//! Resolving suggestions: accepting applies each proposed task change through the task
//! service (an ordinary update with its event) in the caller's transaction; items of a
//! suggestion that covers several tasks are answered one by one or all at once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::dto::{AcceptRequest, SuggestionResponse};
use crate::{
    db::{
        self,
        suggestions::{ItemRow, SuggestionRow},
    },
    domain::{FieldError, origin::Origin, task::parse_due},
    error::{AppError, Result},
    preferences::Preferences,
    tasks::{dto::UpdateTaskRequest, service as tasks},
};

/// The suggestions of a page with their items, loaded in one query for the whole page.
pub async fn with_items(
    db: impl PgExecutor<'_>,
    rows: Vec<SuggestionRow>,
) -> Result<Vec<SuggestionResponse>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.suggestion_id).collect();
    let mut items: HashMap<Uuid, Vec<ItemRow>> = HashMap::new();
    for item in db::suggestions::items_of(db, &ids).await? {
        items.entry(item.suggestion_id).or_default().push(item);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let own = items.remove(&row.suggestion_id).unwrap_or_default();
            SuggestionResponse::new(row, own)
        })
        .collect())
}

/// A new due time the user picked instead of the proposed one ("Pick another day").
#[derive(Debug, Clone, Copy)]
pub struct DueOverride(DateTime<Utc>);

impl DueOverride {
    pub fn parse(req: &AcceptRequest, prefs: &Preferences) -> Result<Self, FieldError> {
        parse_due("dueAt", &req.due_at, prefs.time_zone).map(Self)
    }

    fn change(self) -> serde_json::Value {
        serde_json::json!({ "dueAt": self.0.to_rfc3339() })
    }
}

/// Whether a proposed change moves the due time and nothing else: only such a change may be
/// accepted with another day instead.
fn is_due_change(change: &serde_json::Value) -> bool {
    change
        .as_object()
        .is_some_and(|o| o.len() == 1 && o.get("dueAt").is_some_and(serde_json::Value::is_string))
}

fn override_refused() -> AppError {
    FieldError::new("dueAt", "can only replace a proposed new due time, and this proposes another change")
        .into()
}

/// What became of one proposed task change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    Yes,
    /// The task was completed or deleted since the proposal: nothing to change.
    TaskGone,
}

/// Applies a proposed change (a PATCH body) to the user's task as an ordinary update.
async fn apply(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    task_id: Uuid,
    change: &serde_json::Value,
    prefs: &Preferences,
) -> Result<Applied> {
    let Some(task) = db::tasks::find_for_update(conn, user_id, task_id).await? else {
        return Ok(Applied::TaskGone);
    };
    if task.completed_at.is_some() {
        return Ok(Applied::TaskGone);
    }
    // A proposal is written by the assistant, so a change the task service cannot read is
    // our fault (500), not the user's.
    let patch: UpdateTaskRequest = serde_json::from_value(change.clone())
        .map_err(|e| anyhow::anyhow!("a suggestion proposes an invalid change for task {task_id}: {e}"))?;
    tasks::update(conn, origin, user_id, task_id, patch, prefs).await?;
    Ok(Applied::Yes)
}

/// Locks one of the user's suggestions that is still open.
async fn open_suggestion(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> Result<SuggestionRow> {
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

async fn response(conn: &mut PgConnection, row: SuggestionRow) -> Result<SuggestionResponse> {
    let items = db::suggestions::items_of(&mut *conn, &[row.suggestion_id]).await?;
    Ok(SuggestionResponse::new(row, items))
}

/// Accepts a suggestion: its proposed change, or each open item's (an item whose task was
/// completed or deleted meanwhile is skipped), with `due` in place of a proposed due time.
pub async fn accept(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    id: Uuid,
    due: Option<DueOverride>,
    prefs: &Preferences,
) -> Result<SuggestionResponse> {
    let suggestion = open_suggestion(conn, user_id, id).await?;
    let items = db::suggestions::open_items_for_update(conn, id).await?;
    if due.is_some() {
        let single = suggestion.proposed_change.as_ref().is_some_and(is_due_change);
        let grouped = !items.is_empty() && items.iter().all(|i| is_due_change(&i.proposed_change));
        if !(single || grouped) {
            return Err(override_refused());
        }
    }
    if let (Some(change), Some(task_id)) = (&suggestion.proposed_change, suggestion.task_id) {
        let change = due.map_or_else(|| change.clone(), DueOverride::change);
        apply(conn, origin, user_id, task_id, &change, prefs).await?;
    }
    for item in items {
        let change = due.map_or(item.proposed_change, DueOverride::change);
        let status = match apply(conn, origin, user_id, item.task_id, &change, prefs).await? {
            Applied::Yes => "accepted",
            Applied::TaskGone => "skipped",
        };
        db::suggestions::resolve_item(conn, id, item.task_id, status).await?;
    }
    let row = db::suggestions::resolve(conn, id, "accepted").await?;
    response(conn, row).await
}

/// Dismisses a suggestion, skipping its open items.
pub async fn dismiss(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> Result<SuggestionResponse> {
    open_suggestion(conn, user_id, id).await?;
    db::suggestions::skip_open_items(conn, id).await?;
    let row = db::suggestions::resolve(conn, id, "dismissed").await?;
    response(conn, row).await
}

/// The answer to one item of a suggestion.
#[derive(Debug, Clone, Copy)]
pub enum ItemAnswer {
    Accept(Option<DueOverride>),
    Skip,
}

/// Answers one item; when it was the last open one the suggestion resolves too: accepted if
/// any of its items was, dismissed otherwise.
pub async fn answer_item(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    id: Uuid,
    task_id: Uuid,
    answer: ItemAnswer,
    prefs: &Preferences,
) -> Result<SuggestionResponse> {
    let suggestion = open_suggestion(conn, user_id, id).await?;
    let item = db::suggestions::find_item_for_update(conn, id, task_id).await?.ok_or(AppError::NotFound)?;
    if item.status != "open" {
        return Err(AppError::Conflict {
            code: "suggestion_item_resolved",
            detail: format!("this item is already {}", item.status),
        });
    }
    let status = match answer {
        ItemAnswer::Skip => "skipped",
        ItemAnswer::Accept(Some(_)) if !is_due_change(&item.proposed_change) => {
            return Err(override_refused());
        }
        ItemAnswer::Accept(due) => {
            let change = due.map_or(item.proposed_change, DueOverride::change);
            match apply(conn, origin, user_id, task_id, &change, prefs).await? {
                Applied::Yes => "accepted",
                Applied::TaskGone => "skipped",
            }
        }
    };
    db::suggestions::resolve_item(conn, id, task_id, status).await?;
    let row = match db::suggestions::item_tally(conn, id).await? {
        (0, accepted) => {
            db::suggestions::resolve(conn, id, if accepted > 0 { "accepted" } else { "dismissed" }).await?
        }
        _ => suggestion,
    };
    response(conn, row).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_a_change_of_the_due_time_alone_can_take_another_day() {
        assert!(is_due_change(&json!({"dueAt": "2026-12-09T17:00:00Z"})));
        assert!(!is_due_change(&json!({})), "keeping the task as it is");
        assert!(!is_due_change(&json!({"dueAt": null})), "clearing the due time");
        assert!(!is_due_change(&json!({"dueAt": "2026-12-09T17:00:00Z", "priority": "high"})));
        assert!(!is_due_change(&json!({"priority": "high"})));
    }
}
