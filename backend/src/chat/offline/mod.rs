//! The built-in engine: fixed rules ([`intent`]) instead of a model, so the assistant works
//! with no provider configured and answers the same way every time.

pub mod intent;

use std::fmt::Write as _;

use async_trait::async_trait;
use chrono::{Datelike, Days};
use chrono_tz::Tz;
use intent::{Intent, Query, Status, Target, Window};

use super::{
    Engine, Outcome, Turn,
    tools::{ActionKind, ChatAction, PendingAction, Toolbox, user_facing},
};
use crate::{
    domain::{
        list_query::{ListFilters, ListQuery, SortField, SortOrder, StatusFilter},
        quick_add::KnownProject,
        task::start_of_day,
    },
    error::Result,
    tasks::{dto::TaskResponse, service::Task},
};

pub struct OfflineEngine;

pub const EXAMPLES: &str = "You can say things like:\n\
    • add task Submit report due friday 5pm !high #work\n\
    • remind me to call mom tomorrow at 9\n\
    • every monday water plants\n\
    • what's due this week? / show my high priority tasks\n\
    • mark Submit report done / rename Submit report to Send report\n\
    • make it high priority / move it to monday\n\
    • add buy milk to Errands / move it to Work / what's in Work this week\n\
    • delete the report task\n\
    • show my suggestions";

#[async_trait]
impl Engine for OfflineEngine {
    #[expect(clippy::too_many_lines, reason = "one short arm per intent, read side by side")]
    async fn respond(&self, turn: &Turn<'_>) -> Result<Outcome> {
        let tools = &turn.tools;
        let projects = tools.projects().await?;
        let intent = intent::interpret(turn.message, tools.now, tools.prefs.time_zone, &projects);
        match intent {
            Intent::Create(parsed) => {
                let Some(title) = parsed.task.title.clone() else {
                    return Ok(Outcome::reply(
                        "What should the task be called? For example: add task Submit report due friday",
                    ));
                };
                match tools.create(parsed.task.into()).await {
                    Ok(task) => {
                        let response = tools.response(&task);
                        let reply = format!(
                            "Added “{title}”{}{}.",
                            filed_in(&projects, &response, " to"),
                            describe(&response, tools.prefs.time_zone)
                        );
                        Ok(Outcome::done(reply, ActionKind::Created, vec![response]))
                    }
                    Err(e) => refused(e, "add that task"),
                }
            }
            Intent::List(query) => {
                let tasks = tools.list(&list_query(&query, tools)?).await?;
                let responses: Vec<_> = tasks.iter().map(|t| tools.response(t)).collect();
                let within = query
                    .project_id
                    .and_then(|id| projects.iter().find(|p| p.id == id))
                    .map(|p| format!(" in {}", p.name))
                    .unwrap_or_default();
                let reply = if responses.is_empty() {
                    format!("No tasks{within} match that.")
                } else {
                    let mut reply = format!("{} task{}{within}:", responses.len(), plural(responses.len()));
                    for t in &responses {
                        let _ = write!(reply, "\n• {}{}", t.title, describe(t, tools.prefs.time_zone));
                    }
                    reply
                };
                Ok(Outcome::done(reply, ActionKind::Listed, responses))
            }
            Intent::Complete(target) => {
                let tasks = match resolve(turn, &target, Status::Open).await? {
                    Resolved::Tasks(tasks) => tasks,
                    Resolved::Answer(outcome) => return Ok(outcome),
                };
                if let [task] = tasks.as_slice() {
                    return match tools.complete(task.row.task_id).await {
                        Ok((done, next)) => {
                            let mut reply = format!("Marked “{}” done.", done.fields.title.as_str());
                            let mut responses = vec![tools.response(&done)];
                            if let Some(next) = next {
                                let next = tools.response(&next);
                                let _ = write!(
                                    reply,
                                    " The next one is{}.",
                                    describe(&next, tools.prefs.time_zone)
                                );
                                responses.push(next);
                            }
                            Ok(Outcome::done(reply, ActionKind::Completed, responses))
                        }
                        Err(e) => refused(e, "complete that task"),
                    };
                }
                Ok(confirm(
                    tools,
                    "Mark these tasks done",
                    PendingAction::Complete { task_ids: ids(&tasks) },
                    &tasks,
                ))
            }
            Intent::Reopen(target) => {
                let task = match one(resolve(turn, &target, Status::Completed).await?, tools) {
                    Ok(task) => task,
                    Err(outcome) => return Ok(*outcome),
                };
                match tools.reopen(task.row.task_id).await {
                    Ok(task) => {
                        let reply = format!("Reopened “{}”.", task.fields.title.as_str());
                        Ok(Outcome::done(reply, ActionKind::Reopened, vec![tools.response(&task)]))
                    }
                    Err(e) => refused(e, "reopen that task"),
                }
            }
            Intent::Delete(target) => {
                let tasks = match resolve(turn, &target, Status::All).await? {
                    Resolved::Tasks(tasks) => tasks,
                    Resolved::Answer(outcome) => return Ok(outcome),
                };
                let question = if tasks.len() == 1 { "Delete this task" } else { "Delete these tasks" };
                Ok(confirm(tools, question, PendingAction::Delete { task_ids: ids(&tasks) }, &tasks))
            }
            Intent::Update(target, change) => {
                let bulk = matches!(target, Target::All(_) | Target::Last { plural: true });
                let resolved = resolve(turn, &target, Status::All).await?;
                if let Resolved::Tasks(tasks) = &resolved
                    && bulk
                    && tasks.len() > 1
                    && change.title.is_none()
                {
                    let pending = PendingAction::Update { task_ids: ids(tasks), change };
                    return Ok(confirm(tools, "Change these tasks", pending, tasks));
                }
                let task = match one(resolved, tools) {
                    Ok(task) => task,
                    Err(outcome) => return Ok(*outcome),
                };
                let patch = change.patch_for(&task);
                match tools.update(task.row.task_id, patch).await {
                    Ok(updated) => {
                        let response = tools.response(&updated);
                        let reply = if change.project_id.is_some() {
                            format!("Moved “{}”{}.", response.title, filed_in(&projects, &response, " to"))
                        } else {
                            format!(
                                "Updated “{}”{}.",
                                response.title,
                                describe(&response, tools.prefs.time_zone)
                            )
                        };
                        Ok(Outcome::done(reply, ActionKind::Updated, vec![response]))
                    }
                    Err(e) => refused(e, "change that task"),
                }
            }
            Intent::Suggestions => {
                let suggestions = tools.suggestions().await?;
                let mut reply = if suggestions.is_empty() {
                    "You have no open suggestions.".to_owned()
                } else {
                    format!("{} open suggestion{}:", suggestions.len(), plural(suggestions.len()))
                };
                for s in &suggestions {
                    let value = serde_json::to_value(s).unwrap_or_default();
                    let _ = write!(
                        reply,
                        "\n• {} — {}",
                        value["title"].as_str().unwrap_or_default(),
                        value["message"].as_str().unwrap_or_default()
                    );
                }
                let action = ChatAction { kind: ActionKind::Suggestions, tasks: Vec::new(), suggestions };
                Ok(Outcome { reply, actions: vec![action], pending: None, referenced: None })
            }
            Intent::UnknownProject(name) => {
                let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
                Ok(Outcome::reply(format!(
                    "You have no project called “{name}”. Your projects: {}.",
                    names.join(", ")
                )))
            }
            Intent::Confirm(_) => Ok(Outcome::reply("There is nothing waiting for your confirmation.")),
            Intent::Help => Ok(Outcome::reply(format!("I can manage your tasks. {EXAMPLES}"))),
            Intent::Unknown => Ok(Outcome::reply(format!("Sorry, I did not understand that. {EXAMPLES}"))),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn ids(tasks: &[Task]) -> Vec<uuid::Uuid> {
    tasks.iter().map(|t| t.row.task_id).collect()
}

/// A refusal the user can act on becomes the reply; anything else is our failure.
fn refused(error: crate::error::AppError, what: &str) -> Result<Outcome> {
    match user_facing(&error) {
        Some(why) => Ok(Outcome::reply(format!("I could not {what}: {why}."))),
        None => Err(error),
    }
}

/// Asks before a deletion or a bulk change; nothing happens until the user says yes.
fn confirm(tools: &Toolbox<'_>, question: &str, pending: PendingAction, tasks: &[Task]) -> Outcome {
    let mut reply = format!("{question}?");
    for t in tasks {
        let _ = write!(reply, "\n• {}", t.fields.title.as_str());
    }
    reply.push_str("\nReply “yes” to go ahead or “no” to keep things as they are.");
    Outcome {
        reply,
        actions: Vec::new(),
        pending: Some(pending),
        referenced: Some(tasks.iter().map(|t| t.row.task_id).collect::<Vec<_>>()),
    }
    .with_tasks_shown(tools, tasks)
}

/// " to Work / Doing": where a task is, when that is not simply the Inbox; `to` leads it.
fn filed_in(projects: &[KnownProject], task: &TaskResponse, to: &str) -> String {
    let Some(project) = projects.iter().find(|p| p.id == task.project_id) else {
        return String::new();
    };
    let section = task.section_id.and_then(|id| project.sections.iter().find(|s| s.id == id));
    match section {
        Some(section) => format!("{to} {} / {}", project.name, section.name),
        None if project.is_inbox => String::new(),
        None => format!("{to} {}", project.name),
    }
}

/// ", due Fri 27 Nov 17:00, high priority, #work"
fn describe(task: &TaskResponse, tz: Tz) -> String {
    let mut out = String::new();
    if let Some(due) = task.due_at {
        let local = due.with_timezone(&tz);
        let _ = write!(out, ", due {}", local.format("%a %-d %b %H:%M"));
    }
    // Only a priority other than the one every task gets by default is worth a mention.
    if task.priority != crate::domain::Priority::default() {
        let _ = write!(out, ", {} priority", task.priority.as_str());
    }
    for tag in &task.tags {
        let _ = write!(out, ", #{tag}");
    }
    if task.recurrence.is_some() {
        out.push_str(", repeating");
    }
    if task.completed {
        out.push_str(", done");
    }
    out
}

/// The list query for a question, with its time window in the user's zone.
pub fn list_query(query: &Query, tools: &Toolbox<'_>) -> Result<ListQuery> {
    let tz = tools.prefs.time_zone;
    let today = tools.now.with_timezone(&tz).date_naive();
    let day = |n: u64| start_of_day(today + Days::new(n), tz);
    let monday_next = 7 - u64::from(today.weekday().num_days_from_monday());
    let (after, before, overdue) = match query.due {
        None => (None, None, None),
        Some(Window::Overdue) => (None, None, Some(true)),
        Some(Window::Today) => (Some(day(0)), Some(day(1)), None),
        Some(Window::Tomorrow) => (Some(day(1)), Some(day(2)), None),
        Some(Window::ThisWeek) => (Some(day(0)), Some(day(monday_next)), None),
        Some(Window::NextWeek) => (Some(day(monday_next)), Some(day(monday_next + 7)), None),
    };
    let filters = ListFilters {
        status: match query.status {
            Status::Open => StatusFilter::Open,
            Status::Completed => StatusFilter::Completed,
            Status::All => StatusFilter::All,
        },
        priorities: query.priorities.clone(),
        tags: query.tags.clone(),
        project_id: query.project_id,
        search: query.search.clone(),
        due_before: before,
        due_after: after,
        overdue,
        sort: SortField::DueAt,
        order: SortOrder::Asc,
        limit: Some(50),
        cursor: None,
    };
    Ok(ListQuery::from_filters(filters)?)
}

enum Resolved {
    Tasks(Vec<Task>),
    /// Nothing to act on yet: a question back, or "not found".
    Answer(Outcome),
}

/// The tasks a reference means. A name matching several tasks is a question back listing
/// them, never a guess.
async fn resolve(turn: &Turn<'_>, target: &Target, status: Status) -> Result<Resolved> {
    let tools = &turn.tools;
    match target {
        Target::Last { plural } => {
            let mut tasks = Vec::new();
            for id in turn.last_task_ids {
                if let Ok(task) = tools.get(*id).await {
                    tasks.push(task);
                }
            }
            if tasks.is_empty() {
                return Ok(Resolved::Answer(Outcome::reply(
                    "Which task do you mean? Tell me part of its title, e.g. “delete the report task”.",
                )));
            }
            if !plural && tasks.len() > 1 {
                return Ok(Resolved::Answer(ambiguous(tools, "that", &tasks)));
            }
            Ok(Resolved::Tasks(tasks))
        }
        Target::Named(name) => {
            let query = Query { status, search: Some(name.clone()), ..Query::default() };
            let tasks = tools.list(&list_query(&query, tools)?).await?;
            let exact: Vec<Task> = tasks
                .iter()
                .filter(|t| t.fields.title.as_str().to_lowercase() == name.to_lowercase())
                .cloned()
                .collect();
            match (tasks.len(), exact.len()) {
                (0, _) => Ok(Resolved::Answer(Outcome::reply(format!(
                    "I could not find a task matching “{name}”."
                )))),
                (1, _) => Ok(Resolved::Tasks(tasks)),
                (_, 1) => Ok(Resolved::Tasks(exact)),
                _ => Ok(Resolved::Answer(ambiguous(tools, name, &tasks))),
            }
        }
        Target::All(query) => {
            let tasks = tools.list(&list_query(query, tools)?).await?;
            if tasks.is_empty() {
                return Ok(Resolved::Answer(Outcome::reply(
                    "No tasks match that, so there is nothing to do.",
                )));
            }
            Ok(Resolved::Tasks(tasks))
        }
    }
}

/// Exactly one task, or the question that asks which.
fn one(resolved: Resolved, tools: &Toolbox<'_>) -> std::result::Result<Task, Box<Outcome>> {
    match resolved {
        Resolved::Tasks(mut tasks) if tasks.len() == 1 => Ok(tasks.remove(0)),
        Resolved::Tasks(tasks) => Err(Box::new(ambiguous(tools, "that", &tasks))),
        Resolved::Answer(outcome) => Err(Box::new(outcome)),
    }
}

fn ambiguous(tools: &Toolbox<'_>, name: &str, tasks: &[Task]) -> Outcome {
    let mut reply = format!("More than one task matches “{name}”:");
    for (i, t) in tasks.iter().enumerate() {
        let _ = write!(
            reply,
            "\n{}. {}{}",
            i + 1,
            t.fields.title.as_str(),
            describe(&tools.response(t), tools.prefs.time_zone)
        );
    }
    reply.push_str("\nWhich one do you mean? Use more of its title.");
    Outcome { reply, actions: Vec::new(), pending: None, referenced: None }.with_tasks_shown(tools, tasks)
}
