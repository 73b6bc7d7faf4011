//! Every change to a task, each in the caller's transaction together with its event (the
//! transactional outbox) and its reminder schedule. The HTTP handlers and the chat assistant
//! both change tasks only through here, so no path can change a task without its event.

use chrono::{DateTime, Utc};
use events::{Change, EventPayload, TOPIC, TaskChanges, TaskEvent};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    dto::{MoveTaskRequest, TaskResponse, UpdateTaskRequest},
    model::TaskFields,
};
use crate::{
    db::{
        self,
        tasks::{MovedTask, SeriesPlace, Siblings, TaskChange, TaskEffects, TaskRow},
    },
    domain::{
        FieldError,
        origin::Origin,
        position::Position,
        recurrence::{Occurrence, occurrence_date},
    },
    error::{AppError, Result},
    preferences::Preferences,
};

/// A task as stored, with its fields parsed.
#[derive(Debug, Clone)]
pub struct Task {
    pub row: TaskRow,
    pub fields: TaskFields,
}

impl Task {
    pub fn from_row(row: TaskRow) -> Result<Self> {
        let fields = TaskFields::from_row(&row)?;
        Ok(Self { row, fields })
    }

    pub fn response(&self, now: DateTime<Utc>) -> TaskResponse {
        TaskResponse::new(&self.row, &self.fields, now)
    }
}

async fn emit(conn: &mut PgConnection, origin: &Origin, task: &TaskRow, payload: EventPayload) -> Result<()> {
    platform::outbox::insert(conn, TOPIC, &event_of(origin, task, payload), origin.traceparent.as_deref())
        .await?;
    Ok(())
}

/// Schedules a new task's reminders (it has none to replace: one statement fewer per create).
async fn schedule_reminders(conn: &mut PgConnection, task: &Task) -> Result<()> {
    db::reminders::add_pending(conn, task.row.task_id, task.row.user_id, &fire_times(task)).await?;
    Ok(())
}

fn fire_times(task: &Task) -> Vec<DateTime<Utc>> {
    task.fields.reminders.pending_fire_times(task.row.due_at, task.row.completed_at.is_some())
}

async fn load_for_update(conn: &mut PgConnection, user_id: Uuid, task_id: Uuid) -> Result<Task> {
    let row = db::tasks::find_for_update(conn, user_id, task_id).await?.ok_or(AppError::NotFound)?;
    Task::from_row(row)
}

/// Creates a task with its reminders and its event, in one statement: on a connection outside
/// a transaction it commits on its own. A subtask is created in a transaction of its own (a
/// savepoint inside the caller's), which holds its parent from the check to the commit.
pub async fn create(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    mut fields: TaskFields,
    prefs: &Preferences,
) -> Result<Task> {
    let Some(parent_id) = fields.parent_id else {
        return insert_new(conn, origin, user_id, fields, prefs).await;
    };
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    adopt(&mut tx, user_id, &mut fields, parent_id).await?;
    let task = insert_new(&mut tx, origin, user_id, fields, prefs).await?;
    tx.commit().await?;
    Ok(task)
}

/// Puts `fields` under `parent_id`, in its project and section, after checking (with the
/// parent held) that it is one of the user's tasks and not a subtask itself.
async fn adopt(
    conn: &mut PgConnection,
    user_id: Uuid,
    fields: &mut TaskFields,
    parent_id: Uuid,
) -> Result<()> {
    let parent = db::tasks::lock_parent(conn, user_id, parent_id)
        .await?
        .ok_or_else(|| FieldError::new("parentId", "is not one of your tasks"))?;
    if parent.parent_id.is_some() {
        return Err(FieldError::new("parentId", "is a subtask itself; subtasks are one level deep").into());
    }
    // Requests are refused this earlier (`TaskFields::finish`); this keeps every other caller
    // to the same rule.
    if fields.recurrence.is_some() {
        return Err(FieldError::new("recurrence", "a subtask cannot repeat; its parent can").into());
    }
    fields.project_id = parent.project_id;
    fields.section_id = parent.section_id;
    Ok(())
}

async fn insert_new(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    fields: TaskFields,
    prefs: &Preferences,
) -> Result<Task> {
    let task_id = Uuid::now_v7();
    let place = SeriesPlace {
        series_id: task_id,
        series_start_at: fields.due_at,
        occurrence_number: 1,
        occurrence_on: fields.due_at.map(|d| occurrence_date(d, prefs.time_zone)),
        previous_task_id: None,
        position: Position::at(Utc::now()),
    };
    let fire_times = fields.reminders.pending_fire_times(fields.due_at, false);
    let event = TaskEvent::new(task_id, user_id, origin.correlation_id.clone(), created_payload(&fields))
        .in_project(fields.project_id);
    let effects = effects(Some(&fire_times), &event, origin);
    let row = db::tasks::insert_with_effects(conn, task_id, user_id, &fields.to_write(), &place, &effects)
        .await
        .map_err(placement)?
        .ok_or_else(|| anyhow::anyhow!("a new task id collided"))?;
    Ok(Task { row, fields })
}

fn created_payload(fields: &TaskFields) -> EventPayload {
    EventPayload::Created {
        title: fields.title.as_str().to_owned(),
        priority: fields.priority,
        due_date: fields.due_at,
        recurring: fields.recurrence.is_some(),
    }
}

pub async fn get(db: impl sqlx::PgExecutor<'_>, user_id: Uuid, task_id: Uuid) -> Result<Task> {
    let row = db::tasks::find(db, user_id, task_id).await?.ok_or(AppError::NotFound)?;
    Task::from_row(row)
}

/// Applies a PATCH. A request that changes nothing writes nothing and emits no event. A
/// parent's subtasks follow it to another project or section, each with its event.
pub async fn update(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    task_id: Uuid,
    patch: UpdateTaskRequest,
    prefs: &Preferences,
) -> Result<Task> {
    let current = load_for_update(conn, user_id, task_id).await?;
    let places = patch.project_id.is_some() || patch.section_id.is_some();
    let mut fields = current.fields.apply(patch, prefs)?;
    if fields == current.fields {
        return Ok(current);
    }
    match fields.parent_id {
        Some(parent_id) if fields.parent_id != current.fields.parent_id => {
            if places {
                return Err(FieldError::new("parentId", "cannot be given with projectId or sectionId: a subtask is in its parent's project and section").into());
            }
            if parent_id == task_id {
                return Err(FieldError::new("parentId", "cannot be the task itself").into());
            }
            if db::tasks::has_subtasks(conn, task_id).await? {
                return Err(FieldError::new(
                    "parentId",
                    "the task has subtasks of its own; subtasks are one level deep",
                )
                .into());
            }
            adopt(conn, user_id, &mut fields, parent_id).await?;
        }
        Some(_)
            if (fields.project_id, fields.section_id)
                != (current.fields.project_id, current.fields.section_id) =>
        {
            let field =
                if fields.project_id == current.fields.project_id { "sectionId" } else { "projectId" };
            return Err(FieldError::new(field, "a subtask moves with its parent").into());
        }
        _ => {}
    }
    let changes = current.fields.changes_to(&fields);
    let fire_times = (changes.due_date.is_some() || changes.reminders.is_some())
        .then(|| fields.reminders.pending_fire_times(fields.due_at, current.row.completed_at.is_some()));
    let event =
        event_of(origin, &current.row, EventPayload::Updated { changes }).in_project(fields.project_id);
    let effects = effects(fire_times.as_deref(), &event, origin);
    let row = db::tasks::change_with_effects(conn, task_id, TaskChange::Fields(&fields.to_write()), &effects)
        .await
        .map_err(placement)?;
    if (row.project_id, row.section_id) != (current.row.project_id, current.row.section_id) {
        let moved = db::tasks::move_subtasks(conn, task_id, row.project_id, row.section_id).await?;
        emit_moves(conn, origin, &moved).await?;
    }
    Ok(Task { row, fields })
}

/// Moves a task in its list's manual order: directly after `afterId` (a task of the same list),
/// or first without it; `sectionId` moves a task of its own into another section of its
/// project too (its subtasks follow). Only the moved task's row is written, with its event.
pub async fn move_task(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    task_id: Uuid,
    req: MoveTaskRequest,
) -> Result<Task> {
    let current = load_for_update(conn, user_id, task_id).await?;
    let section_id = match req.section_id {
        Some(section_id) if section_id != current.row.section_id && current.row.parent_id.is_some() => {
            return Err(FieldError::new("sectionId", "a subtask moves with its parent").into());
        }
        Some(section_id) => section_id,
        None => current.row.section_id,
    };
    let siblings =
        Siblings { project_id: current.row.project_id, section_id, parent_id: current.row.parent_id };
    let (lower, upper) = match req.after_id {
        None => (None, db::tasks::next_sibling_position(conn, siblings, None, task_id).await?),
        Some(after_id) if after_id == task_id => {
            return Err(FieldError::new("afterId", "cannot be the task itself").into());
        }
        Some(after_id) => {
            let after = db::tasks::find(&mut *conn, user_id, after_id)
                .await?
                .filter(|a| {
                    (a.project_id, a.section_id, a.parent_id)
                        == (siblings.project_id, siblings.section_id, siblings.parent_id)
                })
                .ok_or_else(|| {
                    FieldError::new("afterId", "is not a task of the list the task is moved in")
                })?;
            let next = (after.position.as_str(), after_id);
            let upper = db::tasks::next_sibling_position(conn, siblings, Some(next), task_id).await?;
            (Some(stored_position(&after.position)?), upper)
        }
    };
    let upper = upper.as_deref().map(stored_position).transpose()?;
    let here = current.row.position.as_str();
    if section_id == current.row.section_id
        && lower.as_ref().is_none_or(|l| l.as_str() < here)
        && upper.as_ref().is_none_or(|u| here < u.as_str())
    {
        return Ok(current);
    }
    // No key between two siblings with the same key: the task goes right after both.
    let position = Position::between(lower.as_ref(), upper.as_ref())
        .unwrap_or_else(|| lower.as_ref().map_or_else(|| Position::at(Utc::now()), Position::just_after));
    let changes = TaskChanges {
        section_id: Change::if_changed(current.row.section_id, section_id),
        position: Change::if_changed(current.row.position.clone(), position.as_str().to_owned()),
        ..TaskChanges::default()
    };
    let event = event_of(origin, &current.row, EventPayload::Updated { changes });
    let change = TaskChange::Place { section_id, position: position.as_str() };
    let row = db::tasks::change_with_effects(conn, task_id, change, &effects(None, &event, origin))
        .await
        .map_err(placement)?;
    if row.section_id != current.row.section_id {
        let moved = db::tasks::move_subtasks(conn, task_id, row.project_id, row.section_id).await?;
        emit_moves(conn, origin, &moved).await?;
    }
    let fields = TaskFields { section_id: row.section_id, ..current.fields };
    Ok(Task { row, fields })
}

/// An event about `task`, in the project it is in.
pub(crate) fn event_of(origin: &Origin, task: &TaskRow, payload: EventPayload) -> TaskEvent {
    TaskEvent::new(task.task_id, task.user_id, origin.correlation_id.clone(), payload)
        .in_project(task.project_id)
}

/// A project or a section the task cannot be put in: their foreign keys refuse anything but
/// the user's own projects and the task's project's own sections, in the same statement.
fn placement(error: sqlx::Error) -> AppError {
    match &error {
        sqlx::Error::Database(e) if e.constraint() == Some(db::tasks::PROJECT_FKEY) => {
            FieldError::new("projectId", "is not one of your projects").into()
        }
        sqlx::Error::Database(e) if e.constraint() == Some(db::tasks::SECTION_FKEY) => {
            FieldError::new("sectionId", "is not a section of the task's project").into()
        }
        _ => error.into(),
    }
}

fn effects<'a>(
    fire_times: Option<&'a [DateTime<Utc>]>,
    event: &'a TaskEvent,
    origin: &'a Origin,
) -> TaskEffects<'a> {
    TaskEffects { fire_times, topic: TOPIC, event, traceparent: origin.traceparent.as_deref() }
}

/// Completes a task; for a recurring one, also creates its next occurrence, exactly once.
/// Completing a completed task changes nothing. Returns the task and its successor, if any.
pub async fn complete(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    task_id: Uuid,
    prefs: &Preferences,
) -> Result<(Task, Option<Task>)> {
    let current = load_for_update(conn, user_id, task_id).await?;
    if current.row.completed_at.is_some() {
        let successor = successor(conn, &current).await?;
        return Ok((current, successor));
    }
    let now = Utc::now();
    // The successor first, so the completion's event can name it; its own event still follows
    // the completion's.
    let next = next_occurrence(conn, &current, now, prefs).await?;
    let completed = EventPayload::Completed {
        title: current.fields.title.as_str().to_owned(),
        completed_at: now,
        next_task_id: next.as_ref().map(|(n, _)| n.row.task_id),
    };
    let event = event_of(origin, &current.row, completed);
    // A completed task reminds no more.
    let row = db::tasks::change_with_effects(
        conn,
        task_id,
        TaskChange::CompletedAt(Some(now)),
        &effects(Some(&[]), &event, origin),
    )
    .await?;
    let task = Task { row, fields: current.fields };
    if let Some((next, true)) = &next {
        schedule_reminders(conn, next).await?;
        emit(conn, origin, &next.row, created_payload(&next.fields)).await?;
        carry_open_subtasks(conn, origin, &task, next, prefs).await?;
    }
    if task.row.parent_id.is_none() {
        let done = db::tasks::complete_subtasks(conn, task_id, now).await?;
        let events: Vec<TaskEvent> = done
            .iter()
            .map(|row| {
                let payload = EventPayload::Completed {
                    title: row.title.clone(),
                    completed_at: now,
                    next_task_id: None,
                };
                event_of(origin, row, payload)
            })
            .collect();
        platform::outbox::insert_many(conn, TOPIC, &events, origin.traceparent.as_deref()).await?;
    }
    Ok((task, next.map(|(n, _)| n)))
}

/// Copies a recurring parent's open subtasks under its next occurrence (each with its
/// `tasks.created` event), in their order, with their due times moved as far as the parent's.
async fn carry_open_subtasks(
    conn: &mut PgConnection,
    origin: &Origin,
    parent: &Task,
    next: &Task,
    prefs: &Preferences,
) -> Result<()> {
    let shift = next.row.due_at.zip(parent.row.due_at).map(|(next_due, due)| next_due - due);
    for row in db::tasks::subtasks_for_update(conn, parent.row.task_id, true).await? {
        let original = TaskFields::from_row(&row)?;
        let due_at = original.due_at.map(|d| shift.map_or(d, |s| d + s));
        let fields = TaskFields { due_at, parent_id: Some(next.row.task_id), ..original };
        let task_id = Uuid::now_v7();
        let place = SeriesPlace {
            series_id: task_id,
            series_start_at: due_at,
            occurrence_number: 1,
            occurrence_on: due_at.map(|d| occurrence_date(d, prefs.time_zone)),
            previous_task_id: None,
            position: stored_position(&row.position)?,
        };
        let row = db::tasks::insert(conn, task_id, row.user_id, &fields.to_write(), &place)
            .await?
            .ok_or_else(|| anyhow::anyhow!("a new task id collided"))?;
        let copy = Task { row, fields };
        schedule_reminders(conn, &copy).await?;
        emit(conn, origin, &copy.row, created_payload(&copy.fields)).await?;
    }
    Ok(())
}

fn stored_position(key: &str) -> Result<Position> {
    Position::parse(key).ok_or_else(|| anyhow::anyhow!("stored position {key:?} is invalid").into())
}

/// The next task of a recurring series and whether this call created it. The database's
/// unique keys (one successor per task, one task per series and date) make a repeated or
/// concurrent completion find the existing successor instead of creating another.
async fn next_occurrence(
    conn: &mut PgConnection,
    task: &Task,
    completed_at: DateTime<Utc>,
    prefs: &Preferences,
) -> Result<Option<(Task, bool)>> {
    let (Some(recurrence), Some(due)) = (&task.fields.recurrence, task.row.due_at) else {
        return Ok(None);
    };
    let occurrence = Occurrence {
        series_start: task.row.series_start_at.unwrap_or(due),
        due,
        completed_at,
        number: u32::try_from(task.row.occurrence_number).unwrap_or(1),
        tz: prefs.time_zone,
    };
    let Some(next_due) = recurrence.next_due(&occurrence) else {
        return Ok(None);
    };
    let fields = TaskFields { due_at: Some(next_due), ..task.fields.clone() };
    let place = SeriesPlace {
        series_id: task.row.series_id,
        series_start_at: task.row.series_start_at,
        occurrence_number: task.row.occurrence_number + 1,
        occurrence_on: Some(occurrence_date(next_due, prefs.time_zone)),
        previous_task_id: Some(task.row.task_id),
        // The same place in the list as the occurrence it follows.
        position: stored_position(&task.row.position)?,
    };
    match db::tasks::insert(conn, Uuid::now_v7(), task.row.user_id, &fields.to_write(), &place).await? {
        Some(row) => Ok(Some((Task { row, fields }, true))),
        None => Ok(successor(conn, task).await?.map(|t| (t, false))),
    }
}

async fn successor(conn: &mut PgConnection, task: &Task) -> Result<Option<Task>> {
    let Some(next_id) = db::tasks::find_successor(conn, task.row.task_id).await? else {
        return Ok(None);
    };
    match db::tasks::find(&mut *conn, task.row.user_id, next_id).await? {
        Some(row) => Ok(Some(Task::from_row(row)?)),
        None => Ok(None),
    }
}

/// Reopens a completed task. Reopening an open task changes nothing. An occurrence that
/// completing it created stays: it is a task of its own by now.
pub async fn reopen(conn: &mut PgConnection, origin: &Origin, user_id: Uuid, task_id: Uuid) -> Result<Task> {
    let current = load_for_update(conn, user_id, task_id).await?;
    if current.row.completed_at.is_none() {
        return Ok(current);
    }
    let fire_times = current.fields.reminders.pending_fire_times(current.row.due_at, false);
    let event = event_of(
        origin,
        &current.row,
        EventPayload::Incomplete { title: current.fields.title.as_str().to_owned() },
    );
    let row = db::tasks::change_with_effects(
        conn,
        task_id,
        TaskChange::CompletedAt(None),
        &effects(Some(&fire_times), &event, origin),
    )
    .await?;
    Ok(Task { row, fields: current.fields })
}

/// Deletes a task and its subtasks, each with its `tasks.deleted` event.
pub async fn delete(conn: &mut PgConnection, origin: &Origin, user_id: Uuid, task_id: Uuid) -> Result<()> {
    let task = load_for_update(conn, user_id, task_id).await?;
    let subtasks = db::tasks::delete_subtasks(conn, task_id).await?;
    emit_deletions(conn, origin, &subtasks).await?;
    db::tasks::delete(conn, task_id).await?;
    emit(conn, origin, &task.row, EventPayload::Deleted { title: task.fields.title.as_str().to_owned() })
        .await?;
    Ok(())
}

/// Moves every task of a project (only those in `sections`, when given) to `to_project`, out
/// of their sections, each with its `tasks.updated` event. For a project's deletion and for
/// sections that go.
pub async fn move_all(
    conn: &mut PgConnection,
    origin: &Origin,
    project_id: Uuid,
    sections: Option<&[Uuid]>,
    to_project: Uuid,
) -> Result<usize> {
    let moved = db::tasks::move_all(conn, project_id, sections, to_project).await?;
    emit_moves(conn, origin, &moved).await?;
    Ok(moved.len())
}

/// A `tasks.updated` event for each task a bulk move changed.
async fn emit_moves(conn: &mut PgConnection, origin: &Origin, moved: &[MovedTask]) -> Result<()> {
    let events: Vec<TaskEvent> = moved
        .iter()
        .map(|m| {
            let changes = TaskChanges {
                project_id: Change::if_changed(m.previous_project_id, m.row.project_id),
                section_id: Change::if_changed(m.previous_section_id, m.row.section_id),
                ..TaskChanges::default()
            };
            event_of(origin, &m.row, EventPayload::Updated { changes })
        })
        .collect();
    platform::outbox::insert_many(conn, TOPIC, &events, origin.traceparent.as_deref()).await?;
    Ok(())
}

/// A `tasks.deleted` event for each task a bulk delete removed.
async fn emit_deletions(conn: &mut PgConnection, origin: &Origin, deleted: &[TaskRow]) -> Result<()> {
    let events: Vec<TaskEvent> = deleted
        .iter()
        .map(|row| event_of(origin, row, EventPayload::Deleted { title: row.title.clone() }))
        .collect();
    platform::outbox::insert_many(conn, TOPIC, &events, origin.traceparent.as_deref()).await?;
    Ok(())
}

/// Deletes every task of a project, each with its `tasks.deleted` event.
pub async fn delete_all(conn: &mut PgConnection, origin: &Origin, project_id: Uuid) -> Result<usize> {
    let deleted = db::tasks::delete_all(conn, project_id).await?;
    emit_deletions(conn, origin, &deleted).await?;
    Ok(deleted.len())
}
