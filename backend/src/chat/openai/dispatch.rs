//! Carrying out one tool call the model asked for, and what a turn has done so far. A call's
//! arguments are read as leniently as the API reads its input (the list tool's by the list
//! endpoint's own rules); a refusal the model can act on goes back to it as the call's result.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    chat::{
        Outcome, Turn,
        tools::{ActionKind, ChatAction, PendingAction, user_facing},
    },
    db,
    domain::{
        FieldError,
        list_query::{ListFilters, ListQuery, SortField, SortOrder},
        quick_add::KnownProject,
    },
    error::{AppError, Result},
    tasks::dto::{CreateTaskRequest, TaskResponse, UpdateTaskRequest},
};

/// Task changes one message may make without a confirmation; more is a bulk change, which
/// the model has to propose (`complete_task` with several ids) for the user to confirm.
const DIRECT_CHANGES: usize = 3;

/// What one turn has done so far.
#[derive(Default)]
pub(super) struct Run {
    actions: Vec<ChatAction>,
    pub(super) pending: Option<PendingAction>,
    referenced: Option<Vec<Uuid>>,
    changes: usize,
}

impl Run {
    pub(super) fn finish(self, reply: String) -> Outcome {
        Outcome { reply, actions: self.actions, pending: self.pending, referenced: self.referenced }
    }

    /// A provider failure: a problem response when nothing happened yet; otherwise the changes
    /// already made are reported rather than hidden behind an error.
    pub(super) fn failed(self, timed_out: bool) -> Result<Outcome> {
        let what = if timed_out { "did not answer in time" } else { "failed" };
        if self.actions.is_empty() && self.pending.is_none() {
            return Err(AppError::Provider {
                timed_out,
                detail: format!("the assistant's model provider {what}; try again in a moment"),
            });
        }
        Ok(self.finish(format!(
            "The assistant's model provider {what} part-way; what was done is listed below."
        )))
    }

    /// Ends the turn early for `reason` (a spent budget): a problem response when nothing
    /// happened yet; otherwise the changes already made are reported with why it stopped.
    pub(super) fn stopped(self, reason: AppError, reply: &str) -> Result<Outcome> {
        if self.actions.is_empty() && self.pending.is_none() {
            return Err(reason);
        }
        Ok(self.finish(reply.to_owned()))
    }

    /// How many actions the turn has recorded, to tell when there is progress to save.
    pub(super) fn recorded(&self) -> usize {
        self.actions.len()
    }

    /// Saves what the turn has done so far on its record, so an interrupted turn's retry can
    /// report it rather than do it again.
    pub(super) async fn save(&self, turn: &Turn<'_>) -> Result<()> {
        let actions = serde_json::to_value(&self.actions).map_err(anyhow::Error::from)?;
        db::chat::save_turn_progress(turn.tools.db, turn.turn_id, &actions).await?;
        Ok(())
    }

    fn record(&mut self, kind: ActionKind, tasks: Vec<TaskResponse>) {
        self.referenced = Some(tasks.iter().map(|t| t.id).collect());
        self.actions.push(ChatAction::tasks(kind, tasks));
    }

    /// Runs one tool call and returns its result for the model. Refusals the model can act on
    /// (bad arguments, unknown task) are results too; database failures end the turn.
    pub(super) async fn tool(&mut self, turn: &Turn<'_>, name: &str, arguments: &str) -> Result<Value> {
        let tools = &turn.tools;
        let Ok(args) = serde_json::from_str::<Value>(arguments) else {
            return Ok(json!({ "error": "the arguments are not valid JSON" }));
        };
        let task_id = || {
            args.get("taskId")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Uuid>().ok())
                .ok_or_else(|| AppError::Validation(vec![FieldError::new("taskId", "must be a task id")]))
        };
        if matches!(name, "update_task" | "complete_task" | "reopen_task") {
            self.changes += 1;
            if self.changes > DIRECT_CHANGES {
                return Ok(json!({ "error": format!(
                    "at most {DIRECT_CHANGES} tasks may be changed one by one in a message; for more, \
                     call complete_task once with all their ids (the user confirms it) or ask the user"
                ) }));
            }
        }
        let outcome: Result<Value> = async {
            match name {
                "create_task" => {
                    let request: CreateTaskRequest = serde_json::from_value(args.clone()).map_err(invalid)?;
                    let task = tools.create(request).await?;
                    let response = tools.response(&task);
                    let data = task_data(&response);
                    self.record(ActionKind::Created, vec![response]);
                    Ok(json!({ "created": data }))
                }
                "list_tasks" => {
                    let query = list_query(&args, tools.prefs.time_zone)?;
                    let tasks = tools.list(&query).await?;
                    let responses: Vec<_> = tasks.iter().map(|t| tools.response(t)).collect();
                    let data: Vec<_> = responses.iter().map(task_data).collect();
                    self.record(ActionKind::Listed, responses);
                    Ok(json!({ "tasks": data }))
                }
                "update_task" => {
                    let id = task_id()?;
                    let mut patch = args.clone();
                    if let Some(object) = patch.as_object_mut() {
                        object.remove("taskId");
                    }
                    let patch: UpdateTaskRequest = serde_json::from_value(patch).map_err(invalid)?;
                    let task = tools.update(id, patch).await?;
                    let response = tools.response(&task);
                    let data = task_data(&response);
                    self.record(ActionKind::Updated, vec![response]);
                    Ok(json!({ "updated": data }))
                }
                "complete_task" => {
                    let ids = task_ids(&args)?;
                    if let [id] = ids.as_slice() {
                        let (task, next) = tools.complete(*id).await?;
                        let mut tasks = vec![tools.response(&task)];
                        tasks.extend(next.map(|n| tools.response(&n)));
                        let data: Vec<_> = tasks.iter().map(task_data).collect();
                        self.record(ActionKind::Completed, tasks);
                        return Ok(json!({ "completed": data }));
                    }
                    self.propose(turn, PendingAction::Complete { task_ids: ids }).await
                }
                "reopen_task" => {
                    let task = tools.reopen(task_id()?).await?;
                    let response = tools.response(&task);
                    let data = task_data(&response);
                    self.record(ActionKind::Reopened, vec![response]);
                    Ok(json!({ "reopened": data }))
                }
                "delete_task" => {
                    let ids = task_ids(&args)?;
                    self.propose(turn, PendingAction::Delete { task_ids: ids }).await
                }
                "list_projects" => Ok(json!({ "projects": projects_data(&tools.projects().await?) })),
                "list_suggestions" => {
                    let suggestions = tools.suggestions().await?;
                    let data = serde_json::to_value(&suggestions).map_err(anyhow::Error::from)?;
                    self.actions.push(ChatAction {
                        kind: ActionKind::Suggestions,
                        tasks: Vec::new(),
                        suggestions,
                    });
                    Ok(json!({ "suggestions": data }))
                }
                other => Ok(json!({ "error": format!("there is no tool called {other}") })),
            }
        }
        .await;
        match outcome {
            Ok(value) => Ok(value),
            Err(e) => match user_facing(&e) {
                Some(why) => Ok(json!({ "error": why })),
                None => Err(e),
            },
        }
    }

    /// Records a deletion or bulk change for the user to confirm; nothing changes now.
    async fn propose(&mut self, turn: &Turn<'_>, pending: PendingAction) -> Result<Value> {
        let ids = pending.task_ids().to_vec();
        let mut tasks = Vec::new();
        for id in &ids {
            tasks.push(turn.tools.response(&turn.tools.get(*id).await?));
        }
        let data: Vec<_> = tasks.iter().map(task_data).collect();
        self.record(ActionKind::Listed, tasks);
        self.pending = Some(pending);
        Ok(json!({
            "status": "awaiting_user_confirmation",
            "tasks": data,
            "note": "Nothing was changed. Ask the user to confirm with yes or no in their next message."
        }))
    }
}

#[expect(clippy::needless_pass_by_value, reason = "used as `map_err(invalid)`, which hands over the error")]
fn invalid(e: serde_json::Error) -> AppError {
    AppError::Validation(vec![FieldError::new("arguments", e.to_string())])
}

fn task_ids(args: &Value) -> Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = match (args.get("taskIds"), args.get("taskId")) {
        (Some(Value::Array(ids)), _) => ids.iter().filter_map(|v| v.as_str()?.parse().ok()).collect(),
        (_, Some(Value::String(id))) => id.parse().ok().into_iter().collect(),
        _ => Vec::new(),
    };
    if ids.is_empty() || ids.len() > 100 {
        return Err(AppError::Validation(vec![FieldError::new("taskIds", "must list 1–100 task ids")]));
    }
    Ok(ids)
}

/// How many tasks the list tool returns when the model does not say, and at most: fewer than
/// the endpoint's page, since every one of them goes into the model's context.
pub(super) const LIST_LIMIT_DEFAULT: u32 = 25;
pub(super) const LIST_LIMIT_MAX: u32 = 50;

/// The list tool's arguments, read parameter by parameter by the same rules as the list
/// endpoint's query string. Unlike the endpoint, the tool lists the soonest due first unless
/// the model picks a sort, and a limit out of range is brought into it rather than refused.
fn list_query(args: &Value, tz: chrono_tz::Tz) -> Result<ListQuery> {
    let mut filters = ListFilters::default();
    let mut errors = Vec::new();
    let mut read = |filters: &mut ListFilters, key: &str, value: &str| {
        if let Err(e) = filters.read(key, value, tz) {
            errors.push(e);
        }
    };
    for key in ["status", "search", "projectId", "dueBefore", "dueAfter", "sort", "order"] {
        if let Some(v) = args.get(key).and_then(Value::as_str) {
            read(&mut filters, key, v);
        }
    }
    for key in ["priority", "tag"] {
        match args.get(key) {
            Some(Value::Array(values)) => {
                for v in values.iter().filter_map(Value::as_str) {
                    read(&mut filters, key, v);
                }
            }
            Some(Value::String(v)) => read(&mut filters, key, v),
            _ => {}
        }
    }
    if let Some(overdue) = args.get("overdue").and_then(Value::as_bool) {
        filters.overdue = Some(overdue);
    }
    let limit = args.get("limit").and_then(Value::as_u64).unwrap_or_else(|| LIST_LIMIT_DEFAULT.into());
    filters.limit = Some(u32::try_from(limit.clamp(1, LIST_LIMIT_MAX.into())).unwrap_or(LIST_LIMIT_MAX));
    if args.get("sort").is_none() {
        filters.sort = SortField::DueAt;
        filters.order = SortOrder::Asc;
    }
    Ok(ListQuery::from_read(filters, errors)?)
}

/// What the model sees of the user's projects: the ids the task tools take.
fn projects_data(projects: &[KnownProject]) -> Vec<Value> {
    projects
        .iter()
        .map(|p| {
            let sections: Vec<Value> =
                p.sections.iter().map(|s| json!({ "id": s.id, "name": s.name })).collect();
            json!({ "id": p.id, "name": p.name, "isInbox": p.is_inbox, "sections": sections })
        })
        .collect()
}

/// What the model sees of a task, where it is included.
pub(super) fn task_data(task: &TaskResponse) -> Value {
    json!({
        "id": task.id,
        "title": task.title,
        "priority": task.priority,
        "tags": task.tags,
        "dueAt": task.due_at,
        "completed": task.completed,
        "overdue": task.is_overdue,
        "recurring": task.recurrence.is_some(),
        "projectId": task.project_id,
        "sectionId": task.section_id,
    })
}
