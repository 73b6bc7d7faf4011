//! The JSON shapes of the project API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::project::{ProjectColor, TasksOnDelete};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectResponse {
    pub id: Uuid,
    pub name: String,
    pub color: ProjectColor,
    /// The account's default project: cannot be renamed, archived or deleted.
    pub is_inbox: bool,
    /// Hidden from the web app's project list; its tasks stay and can still be listed.
    pub archived: bool,
    /// In order.
    pub sections: Vec<SectionResponse>,
    /// Open tasks in the project.
    pub open_task_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SectionResponse {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectList {
    /// The Inbox first, then by name.
    pub items: Vec<ProjectResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProjectRequest {
    /// 1–100 characters, one line, unique among the user's projects ignoring case. Required.
    #[schema(example = "Work")]
    pub name: Option<String>,
    /// Defaults to `grey`.
    pub color: Option<ProjectColor>,
    /// Up to 50, in order.
    pub sections: Option<Vec<SectionInput>>,
}

/// Only the fields present change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProjectRequest {
    pub name: Option<String>,
    pub color: Option<ProjectColor>,
    pub archived: Option<bool>,
    /// The project's sections, all of them, in their new order: an entry with an `id` keeps
    /// (and may rename) that section, one without adds a section, and a section left out is
    /// removed, its tasks staying in the project outside any section.
    pub sections: Option<Vec<SectionInput>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SectionInput {
    /// An existing section of this project; absent for a new one.
    pub id: Option<Uuid>,
    /// 1–100 characters, one line. Required.
    pub name: Option<String>,
}

/// For the OpenAPI entry only: the handler reads its query string itself, to name the
/// parameter when it is missing.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteProjectParams {
    /// Required: `moveToInbox` keeps the tasks (in the Inbox), `delete` deletes them.
    #[param(inline)]
    pub tasks: TasksOnDelete,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteProjectResponse {
    /// Tasks moved to the Inbox.
    pub tasks_moved: usize,
    /// Tasks deleted.
    pub tasks_deleted: usize,
}
