//! The overdue assistant: a task past its due time gets a warning, and the platform hears
//! `tasks.overdue` once per task and due time.
//!
//! Two paths lead here. An event (`tasks.created`, `tasks.updated`, `tasks.incomplete`) about a
//! task that is already past due warns at once; the cron sweep catches tasks that became overdue
//! quietly, with no event, simply because time passed. Both write the same suggestion (same
//! dedupe key) and, only when that suggestion is new, the same `tasks.overdue` event into the
//! outbox in the same transaction — so whichever path comes first announces it, exactly once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use events::{EventPayload, TaskEvent, truncate_to_millis};
use sqlx::{PgConnection, PgPool};

use super::{
    Origin, PassOutcome, PassReport, Settings, count, local_time, pass_correlation_id, propose, reaction_to,
};
use crate::{
    db::{
        self,
        locks::JobLock,
        tasks::{ScanPoint, TaskRow},
    },
    error::Result,
    registry::{EventContext, EventHandler, Reaction},
    suggestion::{Inserted, Kind, NewSuggestion, dedupe},
};

/// Warns about the event's task if it is open and past due, judged on the task's current row.
/// A reschedule also dismisses the warning about the old due time.
pub struct FlagIfOverdue;

#[async_trait]
impl EventHandler for FlagIfOverdue {
    fn name(&self) -> &'static str {
        "overdue.flag_if_overdue"
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
        // A new task has no warnings to dismiss: one statement fewer per create.
        if !matches!(event.payload, EventPayload::Created { .. }) {
            let dismissed = db::suggestions::dismiss_open_for_task(
                conn,
                task.task_id,
                &[Kind::Overdue],
                current_key.as_deref(),
                ctx.now,
            )
            .await?;
            reaction.suggestions_dismissed = count(dismissed);
        }
        if overdue_since.is_some() {
            reaction += flag(conn, task, ctx.settings, ctx.now, Origin::of_event(event, ctx)).await?;
        }
        Ok(reaction)
    }
}

/// The warning for an overdue `task`, plus its `tasks.overdue` announcement if the warning is
/// new: the event handler's path, one task.
async fn flag(
    conn: &mut PgConnection,
    task: &TaskRow,
    settings: &Settings,
    now: DateTime<Utc>,
    origin: Origin<'_>,
) -> Result<Reaction> {
    let Some(suggestion) = warning(task, origin) else {
        return Ok(Reaction::default());
    };
    let (inserted, mut reaction) = propose(conn, &suggestion, settings, now).await?;
    if let Some(event) = announcement(task, inserted, origin) {
        platform::outbox::insert(conn, events::TOPIC, &event, origin.traceparent).await?;
        reaction.events_published += 1;
    }
    Ok(reaction)
}

/// The warning about `task`, if it has a due time. Shared by both paths, so they write the
/// same suggestion.
fn warning(task: &TaskRow, origin: Origin<'_>) -> Option<NewSuggestion> {
    let due = task.due_at?;
    Some(NewSuggestion {
        user_id: task.user_id,
        task_id: Some(task.task_id),
        kind: Kind::Overdue,
        title: format!("Overdue: {}", task.title),
        message: format!(
            "“{}” was due {}. Reschedule it, or mark it done if it is.",
            task.title,
            local_time(due, &task.time_zone)
        ),
        proposed_change: None,
        dedupe_key: dedupe::overdue(task.task_id, due),
        source_event: origin.source_event.map(str::to_owned),
        correlation_id: Some(origin.correlation_id.to_owned()),
    })
}

/// The `tasks.overdue` event for `task`, when its warning was just created: announced once per
/// task and due time. Shared by both paths.
fn announcement(task: &TaskRow, inserted: Inserted, origin: Origin<'_>) -> Option<TaskEvent> {
    let (Inserted::Created(_), Some(due)) = (inserted, task.due_at) else {
        return None;
    };
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

/// One sweep: open tasks past due at `now` without a warning for their due time get one, and
/// their `tasks.overdue` event, in one transaction. Only one replica sweeps at a time; the
/// others get [`PassOutcome::Busy`].
///
/// Set-based: the batch's warnings go through the per-user gate in one statement and their
/// events into the outbox in another, so a pass costs a handful of round trips, not a few per
/// task. A full batch is followed by another pass (see `cron::tick`), which starts `after` the
/// last task this one examined: the tasks before it are flagged, or their users are at their
/// hourly limit until a later tick.
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
    // user's tasks stay oldest due first, the order their hourly slots go in.
    tasks.sort_by_key(|task| task.user_id);
    let correlation_id = pass_correlation_id("overdue");
    let origin = Origin::of_pass(&correlation_id);
    let mut report = PassReport { examined: tasks.len(), resume_after, ..PassReport::default() };
    let (tasks, warnings): (Vec<&TaskRow>, Vec<NewSuggestion>) =
        tasks.iter().filter_map(|task| Some((task, warning(task, origin)?))).unzip();
    let inserted = db::suggestions::insert_many(
        &mut tx,
        &warnings,
        now,
        now + settings.suggestion_ttl,
        settings.suggestions_per_hour,
    )
    .await?;
    let mut announcements = Vec::new();
    for (task, inserted) in tasks.into_iter().zip(inserted) {
        report.absorb(reaction_to(Kind::Overdue, inserted));
        announcements.extend(announcement(task, inserted, origin));
    }
    platform::outbox::insert_many(&mut tx, events::TOPIC, &announcements, origin.traceparent).await?;
    report.events_published += announcements.len();
    tx.commit().await?;
    Ok(PassOutcome::Ran(report))
}
