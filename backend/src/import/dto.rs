//! The JSON shapes of the import API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Priority, recurrence::RecurrenceInput};

// JSON rather than multipart: the web app reads the file as text and sends it with the same
// generated client as every other call, and the report comes back in one body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TodoistImportRequest {
    /// The export's text: one Todoist project as CSV, at most 1 MiB and 2,000 rows. Required.
    pub csv: Option<String>,
    /// The uploaded file's name; `Work.csv` names a new project `Work` when `project` names none.
    #[schema(example = "Work.csv")]
    pub file_name: Option<String>,
    /// Where the tasks go: an existing project (`id`) or a new one (`name`). Absent: a new
    /// project named after `fileName`.
    pub project: Option<ImportTarget>,
    /// `true` reports what the import would do and writes nothing. Required.
    pub dry_run: Option<bool>,
}

/// Exactly one of `id` and `name`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportTarget {
    /// One of the user's projects.
    pub id: Option<Uuid>,
    /// A new project's name: 1–100 characters, not another project's.
    pub name: Option<String>,
}

/// What the import created (or, in a dry run, would create). The same shape for both, so a
/// client can show the preview and then the result.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub dry_run: bool,
    pub project: ImportedProject,
    /// Sections added to the project, in file order (sections it already had are reused).
    pub sections: Vec<String>,
    pub tasks: Vec<ImportedTask>,
    /// Rows that created nothing, and why.
    pub skipped: Vec<SkippedRow>,
    /// Rows imported with something left out or changed.
    pub notes: Vec<RowNote>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportedProject {
    /// Absent in a dry run that would create the project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub name: String,
    /// Whether the import creates the project.
    pub created: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportedTask {
    /// The row's line in the file; the header is line 1.
    pub row: u64,
    /// The new task; absent in a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    pub priority: Priority,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<RecurrenceInput>,
    pub tags: Vec<String>,
    /// The line of the task this one is a subtask of (an indented task in the file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_row: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedRow {
    pub row: u64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowNote {
    pub row: u64,
    pub message: String,
}
