//! Tasks.

use chrono::{DateTime, NaiveDate, Utc};
use events::{ReminderSpec, TaskEvent};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use crate::domain::{
    list_query::{ListQuery, SortField, SortKey, SortOrder, StatusFilter},
    position::Position,
};

/// The foreign keys that keep a task in one of its user's projects and in one of that
/// project's sections.
pub const PROJECT_FKEY: &str = "task_project_fkey";
pub const SECTION_FKEY: &str = "task_section_fkey";

/// One column list for every query that returns tasks, static or built.
macro_rules! task_columns {
    () => {
        "task_id, user_id, title, description, priority::text as priority, tags, due_at,
         recurrence_rule, recurrence_basis, reminders, series_id, series_start_at, occurrence_number,
         previous_task_id, completed_at, project_id, section_id, parent_id, position, estimate_minutes,
         created_at, updated_at"
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub task_id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub priority: String,
    pub tags: Vec<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub recurrence_rule: Option<String>,
    pub recurrence_basis: Option<String>,
    pub reminders: Json<Vec<ReminderSpec>>,
    pub series_id: Uuid,
    pub series_start_at: Option<DateTime<Utc>>,
    pub occurrence_number: i32,
    pub previous_task_id: Option<Uuid>,
    pub completed_at: Option<DateTime<Utc>>,
    pub project_id: Uuid,
    pub section_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub position: String,
    pub estimate_minutes: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A parent's subtasks, and how many of them are done: read by the list and single-task
    /// queries (`subtask_counts!`), zero where a query does not read them.
    #[sqlx(default)]
    pub subtasks_total: i64,
    #[sqlx(default)]
    pub subtasks_done: i64,
}

/// The subtask counts of the query's row named `$row`, through `task_parent_idx`.
macro_rules! subtask_counts {
    ($row:literal) => {
        concat!(
            ", (select count(*) from task c where c.parent_id = ",
            $row,
            ".task_id) as subtasks_total, (select count(c.completed_at) from task c where c.parent_id = ",
            $row,
            ".task_id) as subtasks_done"
        )
    };
}

/// The user-editable fields, as written to a row.
#[derive(Debug)]
pub struct TaskWrite {
    pub title: String,
    pub description: Option<String>,
    pub priority: &'static str,
    pub tags: Vec<String>,
    pub tag_keys: Vec<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub recurrence_rule: Option<String>,
    pub recurrence_basis: Option<&'static str>,
    pub reminders: Vec<ReminderSpec>,
    pub project_id: Uuid,
    pub section_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub estimate_minutes: Option<i32>,
}

/// Where a new task sits: in its series, and among its siblings (its manual-order key).
#[derive(Debug)]
pub struct SeriesPlace {
    pub series_id: Uuid,
    pub series_start_at: Option<DateTime<Utc>>,
    pub occurrence_number: i32,
    pub occurrence_on: Option<NaiveDate>,
    pub previous_task_id: Option<Uuid>,
    pub position: Position,
}

/// `insert into task`, returning the row, with `$1`–`$21` bound by [`bind_insert`]. A conflict
/// inserts nothing and returns no row.
macro_rules! insert_task {
    () => {
        concat!(
            "insert into task (task_id, user_id, title, description, priority, tags, tag_keys, due_at,
                 recurrence_rule, recurrence_basis, reminders, project_id, section_id, parent_id,
                 estimate_minutes, series_id, series_start_at, occurrence_number, occurrence_on, previous_task_id,
                 position)
             values ($1, $2, $3, $4, $5::task_priority, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20, $21)
             on conflict do nothing
             returning ",
            task_columns!()
        )
    };
}

type TaskQuery<'q> = sqlx::query::QueryAs<'q, Postgres, TaskRow, sqlx::postgres::PgArguments>;

fn bind_insert<'q>(
    query: TaskQuery<'q>,
    task_id: Uuid,
    user_id: Uuid,
    fields: &'q TaskWrite,
    place: &'q SeriesPlace,
) -> TaskQuery<'q> {
    bind_fields(query.bind(task_id).bind(user_id), fields)
        .bind(place.series_id)
        .bind(place.series_start_at)
        .bind(place.occurrence_number)
        .bind(place.occurrence_on)
        .bind(place.previous_task_id)
        .bind(place.position.as_str())
}

/// The thirteen user-editable columns: title to reminders in table order, then project,
/// section, parent and estimate.
fn bind_fields<'q>(query: TaskQuery<'q>, fields: &'q TaskWrite) -> TaskQuery<'q> {
    query
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(fields.priority)
        .bind(&fields.tags)
        .bind(&fields.tag_keys)
        .bind(fields.due_at)
        .bind(&fields.recurrence_rule)
        .bind(fields.recurrence_basis)
        .bind(Json(&fields.reminders))
        .bind(fields.project_id)
        .bind(fields.section_id)
        .bind(fields.parent_id)
        .bind(fields.estimate_minutes)
}

/// An event's outbox values, in [`platform::insert_into_outbox!`]'s order from the event id
/// (its user and task come from the row the statement writes).
fn bind_event<'q>(
    query: TaskQuery<'q>,
    event: &'q TaskEvent,
    topic: &'q str,
    traceparent: Option<&'q str>,
) -> sqlx::Result<TaskQuery<'q>> {
    Ok(query
        .bind(event.event_id)
        .bind(event.event_type().as_str())
        .bind(topic)
        .bind(platform::outbox::payload(event)?)
        .bind(&event.correlation_id)
        .bind(traceparent))
}

/// Inserts a task. For a generated occurrence, `None` means the series already has it (or its
/// predecessor already spawned one): the unique constraints decide, so racing completions
/// cannot both insert.
#[tracing::instrument(skip_all, fields(task.id = %task_id))]
pub async fn insert(
    conn: &mut PgConnection,
    task_id: Uuid,
    user_id: Uuid,
    fields: &TaskWrite,
    place: &SeriesPlace,
) -> sqlx::Result<Option<TaskRow>> {
    bind_insert(sqlx::query_as(insert_task!()), task_id, user_id, fields, place).fetch_optional(conn).await
}

/// What a statement that writes a task also writes: its event, and, when given, the reminders
/// still to fire from now on.
#[derive(Debug)]
pub struct TaskEffects<'a> {
    /// `None` leaves the reminders alone. Otherwise pending reminders at other times go, new
    /// times still ahead are added, and a pending reminder at a time that stays is kept.
    pub fire_times: Option<&'a [DateTime<Utc>]>,
    pub topic: &'a str,
    pub event: &'a TaskEvent,
    pub traceparent: Option<&'a str>,
}

/// Inserts a new task with its reminders and its event in one statement. Sent on its own,
/// outside a transaction, a create is one round trip and one commit instead of five round
/// trips; the statement is atomic all the same, and the quota trigger and the foreign keys
/// check it whole at its end. `None` (and nothing written) if the task id was taken.
#[tracing::instrument(skip_all, fields(task.id = %task_id, event.id = %effects.event.event_id))]
pub async fn insert_with_effects(
    conn: &mut PgConnection,
    task_id: Uuid,
    user_id: Uuid,
    fields: &TaskWrite,
    place: &SeriesPlace,
    effects: &TaskEffects<'_>,
) -> sqlx::Result<Option<TaskRow>> {
    let fire_times = effects.fire_times.unwrap_or_default();
    let reminder_ids: Vec<Uuid> = fire_times.iter().map(|_| Uuid::now_v7()).collect();
    let query = sqlx::query_as(concat!(
        "with new_task as (",
        insert_task!(),
        "), new_reminders as (
             insert into reminder (reminder_id, task_id, user_id, fire_at)
             select r.id, t.task_id, t.user_id, r.fire_at
             from new_task t cross join unnest($22::uuid[], $23::timestamptz[]) as r(id, fire_at)
             where r.fire_at > now()
             on conflict (task_id, fire_at) do nothing
         ), new_event as (",
        platform::insert_into_outbox!(),
        "select $24, t.user_id, t.task_id, $25, $26, $27, $28, $29 from new_task t
         )
         select * from new_task"
    ));
    let query = bind_insert(query, task_id, user_id, fields, place).bind(reminder_ids).bind(fire_times);
    bind_event(query, effects.event, effects.topic, effects.traceparent)?.fetch_optional(conn).await
}

#[tracing::instrument(skip_all, fields(task.id = %task_id))]
pub async fn find(db: impl PgExecutor<'_>, user_id: Uuid, task_id: Uuid) -> sqlx::Result<Option<TaskRow>> {
    sqlx::query_as(concat!(
        "select ",
        task_columns!(),
        subtask_counts!("task"),
        " from task where task_id = $1 and user_id = $2"
    ))
    .bind(task_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Loads and locks a task for a read-modify-write, so concurrent changes to one task (and the
/// events they write) are serialised.
#[tracing::instrument(skip_all, fields(task.id = %task_id))]
pub async fn find_for_update(
    conn: &mut PgConnection,
    user_id: Uuid,
    task_id: Uuid,
) -> sqlx::Result<Option<TaskRow>> {
    sqlx::query_as(concat!(
        "select ",
        task_columns!(),
        " from task where task_id = $1 and user_id = $2 for update"
    ))
    .bind(task_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// The task that `previous_task_id` spawned, if any.
#[tracing::instrument(skip_all, fields(task.id = %previous_task_id))]
pub async fn find_successor(conn: &mut PgConnection, previous_task_id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select task_id from task where previous_task_id = $1")
        .bind(previous_task_id)
        .fetch_optional(conn)
        .await
}

/// What a subtask takes from its parent, and whether the parent is a subtask itself.
#[derive(Debug, sqlx::FromRow)]
pub struct ParentRow {
    pub project_id: Uuid,
    pub section_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
}

/// Reads a task that is to become a parent, locked against changes (`for share`) until the
/// transaction ends: a concurrent request that would make it a subtask, or move it, waits,
/// and then sees the new subtask.
#[tracing::instrument(skip_all, fields(task.id = %task_id))]
pub async fn lock_parent(
    conn: &mut PgConnection,
    user_id: Uuid,
    task_id: Uuid,
) -> sqlx::Result<Option<ParentRow>> {
    sqlx::query_as(
        "select project_id, section_id, parent_id from task where task_id = $1 and user_id = $2 for share",
    )
    .bind(task_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(skip_all, fields(task.id = %task_id))]
pub async fn has_subtasks(conn: &mut PgConnection, task_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from task where parent_id = $1)")
        .bind(task_id)
        .fetch_one(conn)
        .await
}

/// A parent's subtasks, open ones only when `open_only`, in their manual order, locked.
#[tracing::instrument(skip_all, fields(task.id = %parent_id))]
pub async fn subtasks_for_update(
    conn: &mut PgConnection,
    parent_id: Uuid,
    open_only: bool,
) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as(concat!(
        "select ",
        task_columns!(),
        " from task where parent_id = $1 and (not $2 or completed_at is null)
         order by position, task_id for update"
    ))
    .bind(parent_id)
    .bind(open_only)
    .fetch_all(conn)
    .await
}

/// Completes a parent's open subtasks at `at` and drops their pending reminders.
#[tracing::instrument(skip_all, fields(task.id = %parent_id))]
pub async fn complete_subtasks(
    conn: &mut PgConnection,
    parent_id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as(concat!(
        "with done as (
             update task set completed_at = $2 where parent_id = $1 and completed_at is null returning ",
        task_columns!(),
        "), dropped as (
             delete from reminder r using done d where r.task_id = d.task_id and r.fired_at is null
         )
         select * from done"
    ))
    .bind(parent_id)
    .bind(at)
    .fetch_all(conn)
    .await
}

/// Deletes a parent's subtasks, returning them.
#[tracing::instrument(skip_all, fields(task.id = %parent_id))]
pub async fn delete_subtasks(conn: &mut PgConnection, parent_id: Uuid) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as(concat!("delete from task where parent_id = $1 returning ", task_columns!()))
        .bind(parent_id)
        .fetch_all(conn)
        .await
}

/// Moves a parent's subtasks to its project and section, returning those that moved.
#[tracing::instrument(skip_all, fields(task.id = %parent_id))]
pub async fn move_subtasks(
    conn: &mut PgConnection,
    parent_id: Uuid,
    project_id: Uuid,
    section_id: Option<Uuid>,
) -> sqlx::Result<Vec<MovedTask>> {
    sqlx::query_as(concat!(
        "with old as (
             select task_id as old_id, project_id as previous_project_id, section_id as previous_section_id
             from task where parent_id = $1 order by task_id for update
         )
         update task set project_id = $2, section_id = $3 from old
         where task_id = old.old_id and (project_id, section_id) is distinct from ($2, $3)
         returning ",
        task_columns!(),
        ", previous_project_id, previous_section_id"
    ))
    .bind(parent_id)
    .bind(project_id)
    .bind(section_id)
    .fetch_all(conn)
    .await
}

/// A list a task sits in for the manual order: one project's tasks in one section (or in
/// none), with the same parent (or none).
#[derive(Debug, Clone, Copy)]
pub struct Siblings {
    pub project_id: Uuid,
    pub section_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
}

/// The key of the first sibling after `after` (a key and task id; `None`: the first of all),
/// leaving out the task being moved. Through `task_project_position_idx`.
#[tracing::instrument(skip_all, fields(task.id = %moving))]
pub async fn next_sibling_position(
    conn: &mut PgConnection,
    siblings: Siblings,
    after: Option<(&str, Uuid)>,
    moving: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "select position from task
         where project_id = $1 and section_id is not distinct from $2 and parent_id is not distinct from $3
           and task_id <> $4 and ($5::text is null or (position, task_id) > ($5, $6))
         order by position, task_id limit 1",
    )
    .bind(siblings.project_id)
    .bind(siblings.section_id)
    .bind(siblings.parent_id)
    .bind(moving)
    .bind(after.map(|(position, _)| position))
    .bind(after.map(|(_, id)| id))
    .fetch_optional(conn)
    .await
}

/// How a change rewrites the task row.
#[derive(Debug, Clone, Copy)]
pub enum TaskChange<'a> {
    Fields(&'a TaskWrite),
    CompletedAt(Option<DateTime<Utc>>),
    /// A move in the manual order, possibly into another section.
    Place {
        section_id: Option<Uuid>,
        position: &'a str,
    },
}

/// `with changed as (<update> returning the row), <the effects>`: `$1` is the task id, `$2`–`$10`
/// the effects (bound by [`change_with_effects`]), the update's own values from `$11`.
macro_rules! with_effects {
    ($update:expr) => {
        concat!(
            "with changed as (",
            $update,
            " where task_id = $1 returning ",
            task_columns!(),
            "), dropped as (
                 delete from reminder r using changed c
                 where $2 and r.task_id = c.task_id and r.fired_at is null and r.fire_at <> all($4)
             ), added as (
                 insert into reminder (reminder_id, task_id, user_id, fire_at)
                 select x.id, c.task_id, c.user_id, x.fire_at
                 from changed c cross join unnest($3::uuid[], $4::timestamptz[]) as x(id, fire_at)
                 where $2 and x.fire_at > now()
                 on conflict (task_id, fire_at) do nothing
             ), event as (",
            platform::insert_into_outbox!(),
            "select $5, c.user_id, c.task_id, $6, $7, $8, $9, $10 from changed c
             )
             select changed.*",
            subtask_counts!("changed"),
            " from changed"
        )
    };
}

/// Changes a task, its reminders and writes its event in one statement: one round trip where
/// there were up to four. The caller holds the row (`find_for_update`).
#[tracing::instrument(skip_all, fields(task.id = %task_id, event.id = %effects.event.event_id))]
pub async fn change_with_effects(
    conn: &mut PgConnection,
    task_id: Uuid,
    change: TaskChange<'_>,
    effects: &TaskEffects<'_>,
) -> sqlx::Result<TaskRow> {
    let fire_times = effects.fire_times.unwrap_or_default();
    let reminder_ids: Vec<Uuid> = fire_times.iter().map(|_| Uuid::now_v7()).collect();
    let sql = match change {
        TaskChange::Fields(_) => with_effects!(
            "update task set title = $11, description = $12, priority = $13::task_priority, tags = $14,
                 tag_keys = $15, due_at = $16, recurrence_rule = $17, recurrence_basis = $18, reminders = $19,
                 project_id = $20, section_id = $21, parent_id = $22, estimate_minutes = $23,
                 -- The first task of a series defines where the series starts.
                 series_start_at = case when series_id = task_id then $16 else series_start_at end"
        ),
        TaskChange::CompletedAt(_) => with_effects!("update task set completed_at = $11"),
        TaskChange::Place { .. } => with_effects!("update task set section_id = $11, position = $12"),
    };
    let query = sqlx::query_as(sql)
        .bind(task_id)
        .bind(effects.fire_times.is_some())
        .bind(reminder_ids)
        .bind(fire_times);
    let query = bind_event(query, effects.event, effects.topic, effects.traceparent)?;
    let query = match change {
        TaskChange::Fields(fields) => bind_fields(query, fields),
        TaskChange::CompletedAt(completed_at) => query.bind(completed_at),
        TaskChange::Place { section_id, position } => query.bind(section_id).bind(position),
    };
    query.fetch_one(conn).await
}

#[tracing::instrument(skip_all, fields(task.id = %task_id))]
pub async fn delete(conn: &mut PgConnection, task_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from task where task_id = $1").bind(task_id).execute(conn).await?;
    Ok(())
}

/// A task a bulk move changed, with where it was before.
#[derive(Debug, sqlx::FromRow)]
pub struct MovedTask {
    #[sqlx(flatten)]
    pub row: TaskRow,
    pub previous_project_id: Uuid,
    pub previous_section_id: Option<Uuid>,
}

/// Moves every task of a project (only those in `sections`, when given) to `to_project`, out
/// of any section, locking each row as it goes.
#[tracing::instrument(skip_all, fields(project.id = %project_id))]
pub async fn move_all(
    conn: &mut PgConnection,
    project_id: Uuid,
    sections: Option<&[Uuid]>,
    to_project: Uuid,
) -> sqlx::Result<Vec<MovedTask>> {
    sqlx::query_as(concat!(
        "with old as (
             select task_id as old_id, project_id as previous_project_id, section_id as previous_section_id
             from task where project_id = $1 and ($2::uuid[] is null or section_id = any($2))
             order by task_id for update
         )
         update task set project_id = $3, section_id = null from old where task_id = old.old_id
         returning ",
        task_columns!(),
        ", previous_project_id, previous_section_id"
    ))
    .bind(project_id)
    .bind(sections)
    .bind(to_project)
    .fetch_all(conn)
    .await
}

/// Deletes every task of a project, returning them.
#[tracing::instrument(skip_all, fields(project.id = %project_id))]
pub async fn delete_all(conn: &mut PgConnection, project_id: Uuid) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as(concat!("delete from task where project_id = $1 returning ", task_columns!()))
        .bind(project_id)
        .fetch_all(conn)
        .await
}

/// Every task of a user, oldest first (for the export; the task quota bounds it).
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn all_of_user(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as(concat!(
        "select ",
        task_columns!(),
        " from task where user_id = $1 order by created_at, task_id"
    ))
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// One page of a user's tasks, plus one extra row that tells whether another page exists.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn list(db: impl PgExecutor<'_>, user_id: Uuid, q: &ListQuery) -> sqlx::Result<Vec<TaskRow>> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(concat!("select ", task_columns!()));
    sql.push(subtask_counts!("task")).push(" from task where user_id = ");
    sql.push_bind(user_id);
    match q.status {
        StatusFilter::Open => {
            sql.push(" and completed_at is null");
        }
        StatusFilter::Completed => {
            sql.push(" and completed_at is not null");
        }
        StatusFilter::All => {}
    }
    if !q.priorities.is_empty() {
        let names: Vec<&str> = q.priorities.iter().map(|p| p.as_str()).collect();
        sql.push(" and priority = any(").push_bind(names).push("::task_priority[])");
    }
    if !q.tag_keys.is_empty() {
        // The expression of `task_user_tag_idx`, which holds each user's tags apart.
        sql.push(" and task_tag_scope(user_id, tag_keys) && task_tag_scope(")
            .push_bind(user_id)
            .push(", ")
            .push_bind(&q.tag_keys)
            .push(")");
    }
    if let Some(project_id) = q.project_id {
        sql.push(" and project_id = ").push_bind(project_id);
    }
    if let Some(search) = &q.search {
        sql.push(" and search_text like ").push_bind(format!("%{}%", escape_like(&search.to_lowercase())));
    }
    if let Some(before) = q.due_before {
        sql.push(" and due_at < ").push_bind(before);
    }
    if let Some(after) = q.due_after {
        sql.push(" and due_at >= ").push_bind(after);
    }
    match q.overdue {
        // `domain::task::is_overdue`, in SQL.
        Some(true) => {
            sql.push(" and completed_at is null and due_at < now()");
        }
        Some(false) => {
            sql.push(" and (completed_at is not null or due_at is null or due_at >= now())");
        }
        None => {}
    }
    let key = sort_key(q.sort);
    let (cmp, dir) = match q.order {
        SortOrder::Asc => (">", "asc"),
        SortOrder::Desc => ("<", "desc"),
    };
    if let Some(after) = &q.after {
        sql.push(format_args!(" and ({key}, task_id) {cmp} ("));
        match &after.key {
            SortKey::Time(at) => sql.push_bind(*at),
            SortKey::NoDueDate => sql.push("'infinity'::timestamptz"),
            SortKey::Priority(p) => sql.push_bind(p.as_str()).push("::task_priority"),
            SortKey::Title(title) => sql.push_bind(title.clone()),
            SortKey::Position(position) => sql.push_bind(position.as_str().to_owned()),
        };
        sql.push(", ").push_bind(after.task_id).push(")");
    }
    sql.push(format_args!(" order by {key} {dir}, task_id {dir} limit "));
    sql.push_bind(i64::from(q.limit) + 1);
    // A search is planned for its term, not once for any term: a prepared statement's generic
    // plan cannot tell a term in a third of all tasks from a rare one, and chose to intersect
    // the trigram index (every user's matching tasks) with the user's, 2.8-4.8 ms for
    // `search=report` over 60,000 tasks, where the plan for the term walks the user's own
    // tasks newest first and stops at the page's end (0.6 ms). The statement is sent unnamed,
    // which PostgreSQL plans with the values bound.
    sql.build_query_as().persistent(q.search.is_none()).fetch_all(db).await
}

/// The SQL expression each sort orders by; every one has a matching index that ends in
/// `task_id`, the tie-breaker.
fn sort_key(sort: SortField) -> &'static str {
    match sort {
        SortField::CreatedAt => "created_at",
        SortField::UpdatedAt => "updated_at",
        SortField::DueAt => "coalesce(due_at, 'infinity'::timestamptz)",
        // Qualified: the select list turns `priority` into text under the same name.
        SortField::Priority => "task.priority",
        SortField::Title => "lower(title)",
        SortField::Position => "position",
    }
}

/// `like` treats `%` and `_` as wildcards; a user searching for "50%" means the characters.
fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::escape_like(r"50%_off\"), r"50\%\_off\\");
    }
}
