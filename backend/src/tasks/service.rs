//! Every change to a task, each in the caller's transaction together with its event (the
//! transactional outbox) and its reminder schedule. The HTTP handlers and the chat assistant
//! both change tasks only through here, so no path can change a task without its event.

use chrono::{DateTime, Utc};
use events::{Change, EventPayload, TOPIC, TaskChanges, TaskEvent};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{dto::TaskResponse, model::TaskFields};
use crate::{
    db::{
        self,
        tasks::{SeriesPlace, TaskChange, TaskEffects, TaskRow},
    },
    domain::{
        FieldError,
        origin::Origin,
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
/// a transaction it commits on its own.
pub async fn create(
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

/// Applies a PATCH. A request that changes nothing writes nothing and emits no event.
pub async fn update(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    task_id: Uuid,
    patch: super::dto::UpdateTaskRequest,
    prefs: &Preferences,
) -> Result<Task> {
    let current = load_for_update(conn, user_id, task_id).await?;
    let fields = current.fields.apply(patch, prefs)?;
    if fields == current.fields {
        return Ok(current);
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
    }
    Ok((task, next.map(|(n, _)| n)))
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

pub async fn delete(conn: &mut PgConnection, origin: &Origin, user_id: Uuid, task_id: Uuid) -> Result<()> {
    let task = load_for_update(conn, user_id, task_id).await?;
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
    Ok(moved.len())
}

/// Deletes every task of a project, each with its `tasks.deleted` event.
pub async fn delete_all(conn: &mut PgConnection, origin: &Origin, project_id: Uuid) -> Result<usize> {
    let deleted = db::tasks::delete_all(conn, project_id).await?;
    let events: Vec<TaskEvent> = deleted
        .iter()
        .map(|row| event_of(origin, row, EventPayload::Deleted { title: row.title.clone() }))
        .collect();
    platform::outbox::insert_many(conn, TOPIC, &events, origin.traceparent.as_deref()).await?;
    Ok(deleted.len())
}
