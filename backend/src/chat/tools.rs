//! What the assistant can do, for both engines: every change goes through the task service in
//! its own transaction, so each one writes its outbox event like any API call would.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    db,
    domain::{list_query::ListQuery, origin::Origin, quick_add::KnownProject, task::Tags},
    error::{AppError, Result},
    preferences::Preferences,
    suggestions::{self, dto::SuggestionResponse},
    tasks::{
        dto::{CreateTaskRequest, TaskResponse, UpdateTaskRequest},
        model::TaskFields,
        service::{self, Task},
    },
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Created,
    Updated,
    Completed,
    Reopened,
    Deleted,
    Listed,
    Suggestions,
}

/// Something the assistant did (or, for `listed` and `suggestions`, showed), with the tasks it
/// concerned as they are afterwards (a deleted task as it was).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatAction {
    pub kind: ActionKind,
    pub tasks: Vec<TaskResponse>,
    /// For `suggestions`: the open suggestions listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<SuggestionResponse>,
}

impl ChatAction {
    pub fn tasks(kind: ActionKind, tasks: Vec<TaskResponse>) -> Self {
        Self { kind, tasks, suggestions: Vec::new() }
    }
}

/// A deletion or bulk change that waits for the user's "yes".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum PendingAction {
    Delete { task_ids: Vec<Uuid> },
    Complete { task_ids: Vec<Uuid> },
    Update { task_ids: Vec<Uuid>, change: TaskChange },
}

impl PendingAction {
    pub fn task_ids(&self) -> &[Uuid] {
        match self {
            Self::Delete { task_ids } | Self::Complete { task_ids } | Self::Update { task_ids, .. } => {
                task_ids
            }
        }
    }
}

/// A change the user asked for in words: fields to set and tags to add.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskChange {
    pub title: Option<String>,
    pub priority: Option<crate::domain::Priority>,
    pub due_at: Option<String>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    /// Moves the task to this project (out of its section unless `section_id` names one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_id: Option<Uuid>,
}

impl TaskChange {
    /// The PATCH that makes this change to `task` (tags are added to the ones it has).
    pub fn patch_for(&self, task: &Task) -> UpdateTaskRequest {
        let mut patch = UpdateTaskRequest {
            title: self.title.clone().map(Some),
            priority: self.priority.map(Some),
            due_at: self.due_at.clone().map(Some),
            project_id: self.project_id.map(Some),
            section_id: self.section_id.map(Some),
            ..UpdateTaskRequest::default()
        };
        if !self.add_tags.is_empty() {
            let mut tags = task.fields.tags.as_slice().to_vec();
            for tag in &self.add_tags {
                if !tags.iter().any(|t| Tags::same(t, tag)) {
                    tags.push(tag.clone());
                }
            }
            patch.tags = Some(Some(tags));
        }
        patch
    }
}

/// The user's task operations for one chat turn.
pub struct Toolbox<'a> {
    pub db: &'a PgPool,
    /// What every change of this turn writes into its event.
    pub origin: &'a Origin,
    pub user_id: Uuid,
    pub prefs: &'a Preferences,
    pub now: DateTime<Utc>,
}

impl Toolbox<'_> {
    pub fn response(&self, task: &Task) -> TaskResponse {
        task.response(self.now)
    }

    /// The user's projects and their sections, by name.
    pub async fn projects(&self) -> Result<Vec<KnownProject>> {
        crate::projects::service::known(self.db, self.user_id).await
    }

    pub async fn create(&self, request: CreateTaskRequest) -> Result<Task> {
        let fields = TaskFields::parse_new(request, self.prefs)?;
        let mut tx = self.db.begin().await?;
        let task = service::create(&mut tx, self.origin, self.user_id, fields, self.prefs).await?;
        tx.commit().await?;
        Ok(task)
    }

    /// The user's tasks matching `query` (its own limit applies).
    pub async fn list(&self, query: &ListQuery) -> Result<Vec<Task>> {
        let mut rows = db::tasks::list(self.db, self.user_id, query).await?;
        rows.truncate(query.limit as usize);
        rows.into_iter().map(Task::from_row).collect()
    }

    pub async fn get(&self, task_id: Uuid) -> Result<Task> {
        service::get(self.db, self.user_id, task_id).await
    }

    pub async fn update(&self, task_id: Uuid, patch: UpdateTaskRequest) -> Result<Task> {
        let mut tx = self.db.begin().await?;
        let task = service::update(&mut tx, self.origin, self.user_id, task_id, patch, self.prefs).await?;
        tx.commit().await?;
        Ok(task)
    }

    /// Completes a task; returns it and, for a recurring one, its next occurrence.
    pub async fn complete(&self, task_id: Uuid) -> Result<(Task, Option<Task>)> {
        let mut tx = self.db.begin().await?;
        let done = service::complete(&mut tx, self.origin, self.user_id, task_id, self.prefs).await?;
        tx.commit().await?;
        Ok(done)
    }

    pub async fn reopen(&self, task_id: Uuid) -> Result<Task> {
        let mut tx = self.db.begin().await?;
        let task = service::reopen(&mut tx, self.origin, self.user_id, task_id).await?;
        tx.commit().await?;
        Ok(task)
    }

    /// Deletes a task and returns it as it was.
    pub async fn delete(&self, task_id: Uuid) -> Result<TaskResponse> {
        let mut tx = self.db.begin().await?;
        let task = service::get(&mut *tx, self.user_id, task_id).await?;
        service::delete(&mut tx, self.origin, self.user_id, task_id).await?;
        tx.commit().await?;
        Ok(self.response(&task))
    }

    /// The user's open suggestions, newest first.
    pub async fn suggestions(&self) -> Result<Vec<SuggestionResponse>> {
        let rows = db::suggestions::list(self.db, self.user_id, Some("open"), 50).await?;
        suggestions::service::with_items(self.db, rows).await
    }

    /// Carries out a confirmed pending action. Tasks that are gone by now are skipped.
    pub async fn execute(&self, pending: &PendingAction) -> Result<Vec<ChatAction>> {
        match pending {
            PendingAction::Delete { task_ids } => {
                let mut deleted = Vec::new();
                for id in task_ids {
                    match self.delete(*id).await {
                        Ok(task) => deleted.push(task),
                        Err(AppError::NotFound) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(vec![ChatAction::tasks(ActionKind::Deleted, deleted)])
            }
            PendingAction::Complete { task_ids } => {
                let mut completed = Vec::new();
                for id in task_ids {
                    match self.complete(*id).await {
                        Ok((task, _)) => completed.push(self.response(&task)),
                        Err(AppError::NotFound) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(vec![ChatAction::tasks(ActionKind::Completed, completed)])
            }
            PendingAction::Update { task_ids, change } => {
                let mut updated = Vec::new();
                for id in task_ids {
                    let result = match self.get(*id).await {
                        Ok(task) => self.update(*id, change.patch_for(&task)).await,
                        Err(e) => Err(e),
                    };
                    match result {
                        Ok(task) => updated.push(self.response(&task)),
                        // Gone meanwhile, or the change does not fit this one task: skip it.
                        Err(AppError::NotFound | AppError::Validation(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(vec![ChatAction::tasks(ActionKind::Updated, updated)])
            }
        }
    }
}

/// What to tell the user when a tool was refused for a reason they can fix; `None` for
/// failures that are ours.
pub fn user_facing(error: &AppError) -> Option<String> {
    match error {
        AppError::Validation(fields) => {
            Some(fields.iter().map(|f| format!("{} {}", f.field, f.message)).collect::<Vec<_>>().join("; "))
        }
        AppError::NotFound => Some("that task does not exist (any more)".to_owned()),
        _ => None,
    }
}
