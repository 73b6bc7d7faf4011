//! The overdue assistant: a task past its due time gets a proposal for a new one
//! (`schedule_adjustment`, `{"dueAt": …}`), and the platform hears `tasks.overdue` once per
//! task and due time.
//!
//! Two paths lead here. An event (`tasks.created`, `tasks.updated`, `tasks.incomplete`) about a
//! task that is already past due proposes at once; the cron sweep catches tasks that became
//! overdue quietly, with no event, simply because time passed. Both key a task's proposal by
//! task and due time (`dedupe::overdue`), whether it stands alone or is an item of a grouped
//! proposal (the sweep groups a user's several overdue tasks into one), and announce
//! `tasks.overdue` only when that proposal or item is new, in the same transaction — so
//! whichever path comes first announces it, exactly once.
//!
//! New due times come from [`super::schedule`]: the user's working days and hours, in their
//! zone, spread over the least-loaded of the next working days.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use events::{EventPayload, TaskEvent, truncate_to_millis};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{
    Origin, PassOutcome, PassReport, Resume, Settings, count, pass_correlation_id, propose, reaction_to,
    schedule::{self, Load, Placement, ToPlace, WorkingHours},
};
use crate::{
    db::{
        self,
        locks::JobLock,
        tasks::{ScanPoint, TaskRow},
    },
    error::Result,
    registry::{EventContext, EventHandler, Reaction},
    suggestion::{Inserted, Kind, NewItem, NewSuggestion, dedupe},
};

/// The kinds an overdue task's own proposal may have: `overdue` for the warnings written
/// before proposals existed, which a reschedule dismisses alike.
const OWN_KINDS: &[Kind] = &[Kind::Overdue, Kind::ScheduleAdjustment];

/// How far back and ahead the load is read: today's start in any zone, and the
/// [`schedule::HORIZON`] (five) working days of a user who works one day a week.
const LOAD_BEFORE: TimeDelta = TimeDelta::days(1);
const LOAD_AFTER: TimeDelta = TimeDelta::days(7 * 5 + 1);

/// Proposes a new due time for the event's task if it is open and past due, judged on the
/// task's current row. A reschedule dismisses the proposal about the old due time and skips
/// the task's open items (of a grouped proposal or a daily plan).
pub struct FlagIfOverdue;

#[async_trait]
impl EventHandler for FlagIfOverdue {
    fn name(&self) -> &'static str {
        "overdue.flag_if_overdue"
    }

    /// A new task is overdue only if it was created with a past due time (a new task has no
    /// proposals to dismiss); a later change to it brings its own event.
    fn may_act(&self, event: &TaskEvent, now: DateTime<Utc>) -> bool {
        match &event.payload {
            EventPayload::Created { due_date, .. } => due_date.is_some_and(|due| due < now),
            _ => true,
        }
    }

    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &TaskEvent,
        ctx: &EventContext<'_>,
    ) -> Result<Reaction> {
        let mut reaction = Reaction::default();
        // Deleted since, or completed: nothing is overdue (completion dismisses separately).
        let Some(task) = ctx.task.get(conn, event.task_id).await? else {
            return Ok(reaction);
        };
        if !task.is_open() {
            return Ok(reaction);
        }
        let overdue_since = task.due_at.filter(|due| *due < ctx.now);
        let current_key = overdue_since.map(|due| dedupe::overdue(task.task_id, due));
        // A new task has no proposals to dismiss: one statement fewer per create.
        if !matches!(event.payload, EventPayload::Created { .. }) {
            let dismissed = db::suggestions::dismiss_open_for_task(
                conn,
                task.task_id,
                OWN_KINDS,
                current_key.as_deref(),
                ctx.now,
            )
            .await?;
            reaction.suggestions_dismissed = count(dismissed);
        }
        // Items change only with the due time: a plan's "do it today" or a group's new time
        // is moot once the user picked a time themselves.
        if matches!(&event.payload, EventPayload::Updated { changes } if changes.due_date.is_some()) {
            db::suggestions::skip_open_items(conn, task.task_id, current_key.as_deref(), ctx.now).await?;
        }
        if overdue_since.is_some() {
            reaction += flag(conn, task, ctx.settings, ctx.now, Origin::of_event(event, ctx)).await?;
        }
        Ok(reaction)
    }
}

/// The proposal for an overdue `task`, plus its `tasks.overdue` announcement if the proposal is
/// new: the event handler's path, one task.
async fn flag(
    conn: &mut PgConnection,
    task: &TaskRow,
    settings: &Settings,
    now: DateTime<Utc>,
    origin: Origin<'_>,
) -> Result<Reaction> {
    let Some(due) = task.due_at else {
        return Ok(Reaction::default());
    };
    // Under the user's lock (which `propose` takes again, harmlessly), so a sweep writing a
    // group with this task either committed before this look or waits for this transaction.
    db::locks::lock_user_suggestions(conn, task.user_id).await?;
    if db::suggestions::item_exists(conn, task.task_id, &dedupe::overdue(task.task_id, due)).await? {
        return Ok(Reaction::default());
    }
    let hours = WorkingHours::of_owner(task);
    let due_times =
        load_of(conn, &[task.user_id], &[task.task_id], now).await?.remove(&task.user_id).unwrap_or_default();
    let mut load = Load::of_tasks(&hours, due_times);
    let tasks = [ToPlace { due_at: task.due_at, minutes: schedule::estimate(task.estimate_minutes) }];
    let placements = schedule::spread(&hours, &mut load, now, &tasks);
    let Some(suggestion) = placements.first().and_then(|placed| single(task, &hours, placed, now, origin))
    else {
        return Ok(Reaction::default());
    };
    let (inserted, mut reaction) = propose(conn, &suggestion, settings, now).await?;
    if let (Inserted::Created(_), Some(event)) = (inserted, announcement(task, origin)) {
        platform::outbox::insert(conn, events::TOPIC, &event, origin.traceparent).await?;
        reaction.events_published += 1;
    }
    Ok(reaction)
}

/// Each user's load over the days a proposal may use, from one query, without the tasks being
/// moved (a task's own old day is not a reason to avoid it).
async fn load_of(
    conn: &mut PgConnection,
    users: &[Uuid],
    moving: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, Vec<(DateTime<Utc>, Option<i32>)>>> {
    let moving: HashSet<Uuid> = moving.iter().copied().collect();
    let mut by_user: HashMap<Uuid, Vec<_>> = HashMap::new();
    for (user, task, due, minutes) in
        db::tasks::load_between(conn, users, now - LOAD_BEFORE, now + LOAD_AFTER).await?
    {
        if !moving.contains(&task) {
            by_user.entry(user).or_default().push((due, minutes));
        }
    }
    Ok(by_user)
}

/// The load of the day a task went to, when it went there: "Tuesday had 1 task".
fn day_had(placed: &Placement) -> String {
    let tasks = placed.seen.iter().find(|(date, _)| *date == placed.date).map_or(0, |(_, day)| day.tasks);
    format!("{} had {tasks} task{}", placed.date.format("%A"), if tasks == 1 { "" } else { "s" })
}

/// The proposal for one overdue task. Shared by both paths, so they write the same suggestion.
fn single(
    task: &TaskRow,
    hours: &WorkingHours,
    placed: &Placement,
    now: DateTime<Utc>,
    origin: Origin<'_>,
) -> Option<NewSuggestion> {
    let due = task.due_at?;
    Some(NewSuggestion {
        user_id: task.user_id,
        task_id: Some(task.task_id),
        kind: Kind::ScheduleAdjustment,
        title: format!("Reschedule “{}”", task.title),
        message: format!("Move “{}” to {}?", task.title, schedule::day_and_time(hours, placed.at)),
        reason: format!(
            "Due {}, {}; {}.",
            schedule::when(hours, due),
            schedule::ago(now, due),
            schedule::loads(&placed.seen)
        ),
        proposed_change: Some(schedule::due_at_change(placed.at)),
        dedupe_key: dedupe::overdue(task.task_id, due),
        source_event: origin.source_event.map(str::to_owned),
        correlation_id: Some(origin.correlation_id.to_owned()),
    })
}

/// One proposal spreading a user's several overdue `tasks` (oldest due first, as `placed`),
/// with an item per task in the order of their new times.
fn group(
    tasks: &[&TaskRow],
    hours: &WorkingHours,
    placed: &[Placement],
    now: DateTime<Utc>,
    origin: Origin<'_>,
) -> Option<(NewSuggestion, Vec<NewItem>)> {
    let first = tasks.first()?;
    let oldest_due = first.due_at?;
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by_key(|i| (placed[*i].at, *i));
    let mut items = Vec::with_capacity(tasks.len());
    for (ordinal, i) in order.iter().enumerate() {
        let (task, placed) = (tasks[*i], &placed[*i]);
        let due = task.due_at?;
        items.push(NewItem {
            task_id: task.task_id,
            ordinal: i16::try_from(ordinal).unwrap_or(i16::MAX),
            proposed_change: schedule::due_at_change(placed.at),
            reason: format!(
                "Due {}, {}; {}.",
                schedule::when(hours, due),
                schedule::ago(now, due),
                day_had(placed)
            ),
            dedupe_key: Some(dedupe::overdue(task.task_id, due)),
        });
    }
    let days: BTreeSet<_> = placed.iter().map(|p| p.date).collect();
    let per_day: Vec<String> = days
        .iter()
        .map(|date| {
            format!("{}: {}", schedule::day(*date), placed.iter().filter(|p| p.date == *date).count())
        })
        .collect();
    let n = tasks.len();
    let title = match days.len() {
        1 => format!("Move {n} overdue tasks to {}", schedule::day(placed[0].date)),
        d => format!("Spread {n} overdue tasks over the next {d} days"),
    };
    let suggestion = NewSuggestion {
        user_id: first.user_id,
        task_id: None,
        kind: Kind::ScheduleAdjustment,
        title,
        message: format!("{}. Accept them all, or one by one.", per_day.join(", ")),
        reason: format!(
            "{n} tasks overdue, the oldest due {}, {}; {}.",
            schedule::when(hours, oldest_due),
            schedule::ago(now, oldest_due),
            schedule::loads(&placed[0].seen)
        ),
        proposed_change: None,
        dedupe_key: dedupe::overdue_group(first.task_id, oldest_due),
        source_event: origin.source_event.map(str::to_owned),
        correlation_id: Some(origin.correlation_id.to_owned()),
    };
    Some((suggestion, items))
}

/// The `tasks.overdue` event for `task`, sent when its proposal (alone or as an item) was just
/// created: announced once per task and due time. Shared by both paths.
fn announcement(task: &TaskRow, origin: Origin<'_>) -> Option<TaskEvent> {
    let due = task.due_at?;
    Some(
        TaskEvent::new(
            task.task_id,
            task.user_id,
            origin.correlation_id,
            EventPayload::Overdue { title: task.title.clone(), due_date: truncate_to_millis(due) },
        )
        .in_project(task.project_id),
    )
}

/// One sweep: open tasks past due at `now` without a proposal for their due time get one,
/// and their `tasks.overdue` event, in one transaction. A user with one such task gets a
/// proposal for it; a user with several gets one grouped proposal with an item per task, the
/// group spread as a whole (each placement adds to the load the next one sees). Only one
/// replica sweeps at a time; the others get [`PassOutcome::Busy`].
///
/// Set-based: the batch's proposals go through the per-user gate in one statement, the groups'
/// items in another, the load in one read and the events into the outbox in one more, so a
/// pass costs a handful of round trips, not a few per task. A full batch is followed by
/// another pass (see `cron::tick`), which starts `after` the last task this one examined (a
/// user whose tasks straddle two batches gets a group from each).
#[tracing::instrument(name = "overdue_sweep", skip_all)]
pub async fn sweep_once(
    pool: &PgPool,
    settings: &Settings,
    now: DateTime<Utc>,
    after: Option<ScanPoint>,
) -> Result<PassOutcome> {
    let mut tx = pool.begin().await?;
    if !db::locks::try_job_lock(&mut tx, JobLock::OverdueSweep).await? {
        return Ok(PassOutcome::Busy);
    }
    let mut tasks = db::tasks::overdue_candidates(
        &mut tx,
        now,
        settings.suggestions_per_hour,
        settings.batch_size,
        after,
    )
    .await?;
    let full = i64::try_from(tasks.len()).unwrap_or(i64::MAX) >= settings.batch_size;
    // Taken before the sort below, while the last task is the latest in scan order.
    let resume_after = tasks
        .last()
        .filter(|_| full)
        .and_then(|task| Some(ScanPoint { due_at: task.due_at?, task_id: task.task_id }));
    // Grouped by user (the order the per-user locks are taken in); the sort is stable, so each
    // user's tasks stay oldest due first, the order they are placed in.
    tasks.sort_by_key(|task| task.user_id);
    let correlation_id = pass_correlation_id("overdue");
    let origin = Origin::of_pass(&correlation_id);
    let mut report = PassReport {
        examined: tasks.len(),
        resume_after: resume_after.map(Resume::Due),
        ..PassReport::default()
    };

    let users: Vec<Uuid> = tasks.chunk_by(|a, b| a.user_id == b.user_id).map(|run| run[0].user_id).collect();
    let moving: Vec<Uuid> = tasks.iter().map(|task| task.task_id).collect();
    let mut loads = load_of(&mut tx, &users, &moving, now).await?;
    // One proposal per user: a single one, or a group and its items.
    let mut proposals: Vec<(NewSuggestion, Vec<&TaskRow>, Vec<NewItem>)> = Vec::new();
    for run in tasks.chunk_by(|a, b| a.user_id == b.user_id) {
        let hours = WorkingHours::of_owner(&run[0]);
        let mut load = Load::of_tasks(&hours, loads.remove(&run[0].user_id).unwrap_or_default());
        let to_place: Vec<ToPlace> = run
            .iter()
            .map(|task| ToPlace { due_at: task.due_at, minutes: schedule::estimate(task.estimate_minutes) })
            .collect();
        let placed = schedule::spread(&hours, &mut load, now, &to_place);
        let run: Vec<&TaskRow> = run.iter().collect();
        if let [task] = run[..] {
            proposals.extend(single(task, &hours, &placed[0], now, origin).map(|s| (s, run, Vec::new())));
        } else if let Some((suggestion, items)) = group(&run, &hours, &placed, now, origin) {
            proposals.push((suggestion, run, items));
        }
    }
    let suggestions: Vec<NewSuggestion> = proposals.iter().map(|(s, _, _)| s.clone()).collect();
    let inserted = db::suggestions::insert_many(
        &mut tx,
        &suggestions,
        now,
        now + settings.suggestion_ttl,
        settings.suggestions_per_hour,
    )
    .await?;

    let mut announced: Vec<&TaskRow> = Vec::new();
    let mut items = Vec::new();
    let mut groups = HashMap::new();
    for ((suggestion, run, group_items), inserted) in proposals.iter().zip(inserted) {
        report.absorb(reaction_to(suggestion.kind, inserted));
        match (inserted, group_items.is_empty()) {
            (Inserted::Created(_), true) => announced.extend(run.first()),
            (Inserted::Created(id), false) => {
                groups.insert(id, (suggestion.user_id, run));
                items.extend(group_items.iter().map(|item| (id, suggestion.user_id, item)));
            }
            _ => {}
        }
    }
    let written = db::suggestions::insert_items(&mut tx, &items).await?;
    for (suggestion_id, task_id) in &written {
        if let Some((_, run)) = groups.get(suggestion_id) {
            announced.extend(run.iter().find(|task| task.task_id == *task_id));
        }
    }
    // A group all of whose tasks were proposed alone meanwhile (see `insert_items`) is empty:
    // resolved at once rather than shown.
    for (id, (user, _)) in &groups {
        if !written.iter().any(|(written_id, _)| written_id == id) {
            db::suggestions::resolve_emptied(&mut tx, *user, now).await?;
        }
    }
    let announcements: Vec<TaskEvent> =
        announced.into_iter().filter_map(|task| announcement(task, origin)).collect();
    platform::outbox::insert_many(&mut tx, events::TOPIC, &announcements, origin.traceparent).await?;
    report.events_published += announcements.len();
    tx.commit().await?;
    Ok(PassOutcome::Ran(report))
}
