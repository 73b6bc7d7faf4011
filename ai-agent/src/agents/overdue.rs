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

use super::{Origin, PassOutcome, PassReport, Settings, count, local_time, pass_correlation_id, propose};
use crate::{
    db::{self, locks::JobLock, tasks::TaskRow},
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
        let Some(task) = db::tasks::find(conn, event.task_id).await? else {
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
            reaction += flag(conn, &task, ctx.settings, ctx.now, Origin::of_event(event, ctx)).await?;
        }
        Ok(reaction)
    }
}

/// The warning for an overdue `task`, plus its `tasks.overdue` announcement if the warning is
/// new. Shared by the event handler and the sweep.
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
    let suggestion = NewSuggestion {
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
    };
    let (inserted, mut reaction) = propose(conn, &suggestion, settings, now).await?;
    if let Inserted::Created(_) = inserted {
        let event = TaskEvent::new(
            task.task_id,
            task.user_id,
            origin.correlation_id,
            EventPayload::Overdue { title: task.title.clone(), due_date: truncate_to_millis(due) },
        );
        platform::outbox::insert(conn, events::TOPIC, &event, origin.traceparent).await?;
        reaction.events_published += 1;
    }
    Ok(reaction)
}

/// One sweep: open tasks past due at `now` without a warning for their due time get one, and
/// their `tasks.overdue` event, in one transaction. Only one replica sweeps at a time; the
/// others get [`PassOutcome::Busy`].
#[tracing::instrument(name = "overdue_sweep", skip_all)]
pub async fn sweep_once(pool: &PgPool, settings: &Settings, now: DateTime<Utc>) -> Result<PassOutcome> {
    let mut tx = pool.begin().await?;
    if !db::locks::try_job_lock(&mut tx, JobLock::OverdueSweep).await? {
        return Ok(PassOutcome::Busy);
    }
    let mut tasks =
        db::tasks::overdue_candidates(&mut tx, now, settings.suggestions_per_hour, settings.batch_size)
            .await?;
    // Per-user locks are taken in user order in every multi-user transaction, so two passes can
    // never wait for each other in a cycle. The sort is stable: oldest due first per user.
    tasks.sort_by_key(|task| task.user_id);
    let correlation_id = pass_correlation_id("overdue");
    let mut report = PassReport { examined: tasks.len(), ..PassReport::default() };
    for task in &tasks {
        report.absorb(flag(&mut tx, task, settings, now, Origin::of_pass(&correlation_id)).await?);
    }
    tx.commit().await?;
    Ok(PassOutcome::Ran(report))
}
