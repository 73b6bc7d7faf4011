//! The JSON shapes of the task API.

use chrono::{DateTime, Utc};
use events::{Priority, ReminderSpec};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::TaskFields;
use crate::{
    db::tasks::TaskRow,
    domain::{
        list_query::{SortField, SortOrder, StatusFilter},
        quick_add::ProposedTask,
        recurrence::RecurrenceInput,
        task::{Estimate, is_overdue},
    },
};

/// `Serialize` too: its canonical JSON is what an `Idempotency-Key` is checked against.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTaskRequest {
    /// 1–200 characters, one line. Required.
    #[schema(example = "Submit report")]
    pub title: Option<String>,
    /// Up to 5000 characters.
    pub description: Option<String>,
    /// Defaults to `medium`.
    pub priority: Option<Priority>,
    /// Up to 20 tags of 1–50 characters, unique ignoring case.
    pub tags: Option<Vec<String>>,
    /// RFC 3339 date-time, or a date alone meaning the end of that day in the user's time zone.
    #[schema(example = "2026-12-01T17:00:00+01:00")]
    pub due_at: Option<String>,
    /// Makes the task repeat; needs `dueAt`.
    pub recurrence: Option<RecurrenceInput>,
    /// Up to 5. A task with a due time and no reminder gets the user's default offset.
    pub reminders: Option<Vec<ReminderSpec>>,
    /// One of the user's projects; the Inbox when absent.
    pub project_id: Option<Uuid>,
    /// One of that project's sections; none when absent.
    pub section_id: Option<Uuid>,
    /// Makes the task a subtask of one of the user's tasks that is not a subtask itself. A
    /// subtask is in its parent's project and section (give no other) and does not repeat.
    pub parent_id: Option<Uuid>,
    /// Expected effort in minutes, 1–1440; the daily plan fits estimated tasks into the
    /// working day.
    #[schema(minimum = 1, maximum = 1440)]
    pub estimate_minutes: Option<i64>,
}

impl From<ProposedTask> for CreateTaskRequest {
    fn from(task: ProposedTask) -> Self {
        Self {
            title: task.title,
            description: None,
            priority: task.priority,
            tags: task.tags,
            due_at: task.due_at,
            recurrence: task.recurrence,
            reminders: None,
            project_id: task.project_id,
            section_id: task.section_id,
            parent_id: None,
            estimate_minutes: None,
        }
    }
}

/// Only the fields present change; `null` clears a nullable field (`description`, `dueAt`,
/// `recurrence`) and empties a list (`tags`, `reminders`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTaskRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<Option<Priority>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, nullable)]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub due_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<RecurrenceInput>, nullable)]
    pub recurrence: Option<Option<RecurrenceInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<ReminderSpec>>, nullable)]
    pub reminders: Option<Option<Vec<ReminderSpec>>>,
    /// Moves the task to another of the user's projects, out of its section unless `sectionId`
    /// names one of the new project's.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub project_id: Option<Option<Uuid>>,
    /// A section of the task's project; `null` takes the task out of its section.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub section_id: Option<Option<Uuid>>,
    /// Makes the task a subtask of another (which moves it to that task's project and
    /// section); `null` makes it a task of its own again, where it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub parent_id: Option<Option<Uuid>>,
    /// Expected effort in minutes, 1–1440; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 1440)]
    pub estimate_minutes: Option<Option<i64>>,
}

/// A move in the manual order of the list the task is in: its project's tasks in one section
/// (or in none), or one parent's subtasks.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MoveTaskRequest {
    /// The task it goes right after, one of the same list; absent or `null`: first.
    #[serde(default)]
    pub after_id: Option<Uuid>,
    /// Another section of the task's project to move it into (`null`: out of any section),
    /// for a task that is not a subtask; `afterId` is then a task of that section.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub section_id: Option<Option<Uuid>>,
}

/// Tells "absent" (`None`, via `default`) from "null" (`Some(None)`).
#[expect(clippy::option_option, reason = "a PATCH body tells an absent field from an explicit null")]
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(de: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskResponse {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub recurrence: Option<RecurrenceInput>,
    pub reminders: Vec<ReminderSpec>,
    pub project_id: Uuid,
    pub section_id: Option<Uuid>,
    /// The task this one is a subtask of.
    pub parent_id: Option<Uuid>,
    /// Its key in the manual order (`sort=position`): compare keys as strings, bytewise.
    pub position: String,
    /// Expected effort in minutes.
    pub estimate_minutes: Option<u16>,
    /// Its subtasks, and how many are done (both 0 for a task without subtasks).
    pub subtasks: SubtaskCounts,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    /// Open and past its due time.
    pub is_overdue: bool,
    /// The recurring series this task belongs to (its own id when it is the first or the only
    /// one).
    pub series_id: Uuid,
    /// Position in the series, from 1.
    pub occurrence_number: i32,
    pub previous_task_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct SubtaskCounts {
    pub total: i64,
    pub done: i64,
}

impl TaskResponse {
    pub fn new(row: &TaskRow, fields: &TaskFields, now: DateTime<Utc>) -> Self {
        Self {
            id: row.task_id,
            title: fields.title.as_str().to_owned(),
            description: row.description.clone(),
            priority: fields.priority,
            tags: fields.tags.as_slice().to_vec(),
            due_at: row.due_at,
            recurrence: fields.recurrence.as_ref().map(RecurrenceInput::from),
            reminders: fields.reminders.as_slice().to_vec(),
            project_id: fields.project_id,
            section_id: fields.section_id,
            parent_id: fields.parent_id,
            position: row.position.clone(),
            estimate_minutes: fields.estimate.map(Estimate::minutes),
            subtasks: SubtaskCounts { total: row.subtasks_total, done: row.subtasks_done },
            completed: row.completed_at.is_some(),
            completed_at: row.completed_at,
            is_overdue: is_overdue(row.due_at, row.completed_at, now),
            series_id: row.series_id,
            occurrence_number: row.occurrence_number,
            previous_task_id: row.previous_task_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The list endpoint's query parameters, for its OpenAPI entry and the assistant's list tool.
///
/// Never deserialized: the endpoint reads its raw query string with `ListQuery::parse`, which
/// takes repeated and comma-separated lists, refuses unknown names and reports every problem
/// in order, none of which serde's query format does. As parameters the enums are the trimmed
/// strings that parser accepts; as a schema (the tool's) they are their types.
#[derive(IntoParams, ToSchema)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[schema(rename_all = "camelCase")]
pub struct ListParams {
    /// `open`, `completed` or `all` (default)
    #[param(value_type = Option<String>, pattern = r"^\s*(open|completed|all)\s*$")]
    pub status: Option<StatusFilter>,
    /// One or more of low, medium, high, urgent (repeat or comma-separate)
    #[param(value_type = Option<Vec<String>>)]
    pub priority: Option<Vec<Priority>>,
    /// Tasks with any of these tags (case-insensitive)
    pub tag: Option<Vec<String>>,
    /// Only the tasks of this project
    pub project_id: Option<Uuid>,
    /// Case-insensitive text in title or description
    pub search: Option<String>,
    /// RFC 3339, or a date (includes that whole day)
    pub due_before: Option<String>,
    /// RFC 3339, or a date (from the start of that day)
    pub due_after: Option<String>,
    /// Only open tasks past their due time (`true`) or none of them (`false`)
    pub overdue: Option<bool>,
    /// createdAt (default), updatedAt, dueAt, priority, title or position (the manual order)
    #[param(value_type = Option<String>, pattern = r"^\s*(createdAt|updatedAt|dueAt|priority|title|position)\s*$")]
    pub sort: Option<SortField>,
    /// asc or desc (default)
    #[param(value_type = Option<String>, pattern = r"^\s*(asc|desc)\s*$")]
    pub order: Option<SortOrder>,
    /// 1–200, default 50
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskPage {
    pub items: Vec<TaskResponse>,
    /// Pass as `cursor` (with the same filters, sort and order) for the next page; absent on
    /// the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompletionResponse {
    pub task: TaskResponse,
    /// For a recurring task: the next occurrence (created by this completion or an earlier
    /// one); absent when the series has ended or the task does not recur.
    pub next_task: Option<TaskResponse>,
}
