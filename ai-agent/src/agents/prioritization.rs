//! The prioritisation assistant: raise the priority of what is due soon, warn when too much
//! important work lands in one week, and ask about tasks nobody touched for two weeks.
//!
//! Events trigger the first two when a task is created with a due date or its priority or due
//! date changes; the cron pass covers what time alone changes (a task drifting into the
//! two-day window, a task going stale).

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use events::{EventPayload, Priority, TaskEvent};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Origin, PassOutcome, PassReport, Settings, count, local_time, pass_correlation_id, propose};
use crate::{
    db::{self, locks::JobLock, tasks::TaskRow},
    error::Result,
    registry::{EventContext, EventHandler, Reaction},
    suggestion::{Kind, NewSuggestion, dedupe},
};

/// Low and medium tasks due within this get priority advice…
pub const DUE_SOON: TimeDelta = TimeDelta::days(2);
/// …to `urgent` within this, to `high` otherwise.
pub const DUE_VERY_SOON: TimeDelta = TimeDelta::hours(24);
/// The overload window and threshold: this many high/urgent tasks due within it.
pub const OVERLOAD_WINDOW: TimeDelta = TimeDelta::days(7);
pub const OVERLOAD_MIN_TASKS: i64 = 3;
/// Open tasks not updated for this long get a "still relevant?".
pub const STALE_AFTER: TimeDelta = TimeDelta::days(14);

/// Priority advice for `task` at `now`, if it is open, due within [`DUE_SOON`] and not
/// already high or urgent.
fn priority_advice(task: &TaskRow, now: DateTime<Utc>, origin: Origin<'_>) -> Option<NewSuggestion> {
    let due = task.due_at.filter(|due| task.is_open() && *due > now && *due <= now + DUE_SOON)?;
    let current = task.priority().filter(|p| *p < Priority::High)?;
    let target = if due <= now + DUE_VERY_SOON { Priority::Urgent } else { Priority::High };
    Some(NewSuggestion {
        user_id: task.user_id,
        task_id: Some(task.task_id),
        kind: Kind::Priority,
        title: format!("Make “{}” {target}", task.title),
        message: format!(
            "It is due {} but marked {current}. Raise it to {target} so it stays on top.",
            local_time(due, &task.time_zone)
        ),
        proposed_change: Some(json!({ "priority": target.as_str() })),
        dedupe_key: dedupe::priority(task.task_id, due),
        source_event: origin.source_event.map(str::to_owned),
        correlation_id: Some(origin.correlation_id.to_owned()),
    })
}

fn overload_advice(user_id: Uuid, task_count: i64, now: DateTime<Utc>, origin: Origin<'_>) -> NewSuggestion {
    NewSuggestion {
        user_id,
        task_id: None,
        kind: Kind::Overload,
        title: format!("{task_count} important tasks due this week"),
        message: format!(
            "You have {task_count} high or urgent tasks due in the next 7 days. Consider moving some \
             due dates or lowering a priority."
        ),
        proposed_change: None,
        dedupe_key: dedupe::overload(user_id, now),
        source_event: origin.source_event.map(str::to_owned),
        correlation_id: Some(origin.correlation_id.to_owned()),
    }
}

fn stale_advice(task: &TaskRow, now: DateTime<Utc>, origin: Origin<'_>) -> NewSuggestion {
    NewSuggestion {
        user_id: task.user_id,
        task_id: Some(task.task_id),
        kind: Kind::Stale,
        title: format!("Still relevant? {}", task.title),
        message: format!(
            "“{}” has not changed for {} days. Complete it, reschedule it, or delete it.",
            task.title,
            (now - task.updated_at).num_days()
        ),
        proposed_change: None,
        dedupe_key: dedupe::stale(task.task_id, task.updated_at),
        source_event: origin.source_event.map(str::to_owned),
        correlation_id: Some(origin.correlation_id.to_owned()),
    }
}

/// Reacts to a new dated task or a priority or due-date change: priority advice for the task
/// and an overload check for its owner. Any update also answers an open "still relevant?".
pub struct AdviseOnChange;

#[async_trait]
impl EventHandler for AdviseOnChange {
    fn name(&self) -> &'static str {
        "prioritization.advise_on_change"
    }

    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &TaskEvent,
        ctx: &EventContext<'_>,
    ) -> Result<Reaction> {
        let mut reaction = Reaction::default();
        let (is_update, relevant) = match &event.payload {
            EventPayload::Created { due_date, .. } => (false, due_date.is_some()),
            EventPayload::Updated { changes } => {
                (true, changes.priority.is_some() || changes.due_date.is_some())
            }
            _ => (false, false),
        };
        if !is_update && !relevant {
            return Ok(reaction);
        }
        let Some(task) = ctx.task.get(conn, event.task_id).await? else {
            return Ok(reaction);
        };
        if !task.is_open() {
            return Ok(reaction);
        }
        if is_update {
            let dismissed =
                db::suggestions::dismiss_open_for_task(conn, task.task_id, &[Kind::Stale], None, ctx.now)
                    .await?;
            reaction.suggestions_dismissed += count(dismissed);
        }
        if !relevant {
            return Ok(reaction);
        }

        let origin = Origin::of_event(event, ctx);
        let advice = priority_advice(task, ctx.now, origin);
        // Advice for an old due date, or for a task now high anyway, is moot.
        // A new task has no advice to dismiss.
        if is_update {
            let keep = advice.as_ref().map(|a| a.dedupe_key.as_str());
            let dismissed =
                db::suggestions::dismiss_open_for_task(conn, task.task_id, &[Kind::Priority], keep, ctx.now)
                    .await?;
            reaction.suggestions_dismissed += count(dismissed);
        }

        let mut planned: Vec<NewSuggestion> = advice.into_iter().collect();
        // Only an important task due this week can tip its owner into overload, and only the
        // week's first warning counts (the dedupe key): otherwise the count is not needed.
        let window = ctx.now..=ctx.now + OVERLOAD_WINDOW;
        let important_this_week = task.priority().is_some_and(|p| p >= Priority::High)
            && task.due_at.is_some_and(|due| window.contains(&due));
        if important_this_week
            && !db::suggestions::exists(conn, task.user_id, &dedupe::overload(task.user_id, ctx.now)).await?
        {
            let important =
                db::tasks::count_important_due(conn, task.user_id, ctx.now, *window.end()).await?;
            if important >= OVERLOAD_MIN_TASKS {
                planned.push(overload_advice(task.user_id, important, ctx.now, origin));
            }
        }
        for suggestion in &planned {
            reaction += propose(conn, suggestion, ctx.settings, ctx.now).await?.1;
        }
        Ok(reaction)
    }
}

/// One prioritisation pass at `now`: due-soon priorities, overloaded users and stale tasks, in
/// one transaction. Only one replica runs it at a time; the others get [`PassOutcome::Busy`].
#[tracing::instrument(name = "prioritization_pass", skip_all)]
pub async fn pass_once(pool: &PgPool, settings: &Settings, now: DateTime<Utc>) -> Result<PassOutcome> {
    let mut tx = pool.begin().await?;
    if !db::locks::try_job_lock(&mut tx, JobLock::Prioritization).await? {
        return Ok(PassOutcome::Busy);
    }
    let correlation_id = pass_correlation_id("prioritization");
    let origin = Origin::of_pass(&correlation_id);
    let (per_hour, limit) = (settings.suggestions_per_hour, settings.batch_size);

    let mut planned = Vec::new();
    for task in db::tasks::priority_candidates(&mut tx, now, per_hour, limit, now + DUE_SOON).await? {
        planned.extend(priority_advice(&task, now, origin));
    }
    let week = dedupe::iso_week(now);
    let overloaded = db::tasks::overloaded_users(
        &mut tx,
        now,
        per_hour,
        limit,
        now + OVERLOAD_WINDOW,
        OVERLOAD_MIN_TASKS,
        &week,
    )
    .await?;
    for user in overloaded {
        planned.push(overload_advice(user.user_id, user.task_count, now, origin));
    }
    for task in db::tasks::stale_candidates(&mut tx, now, per_hour, limit, now - STALE_AFTER).await? {
        planned.push(stale_advice(&task, now, origin));
    }

    // Per-user locks in user order, as in every multi-user transaction (see the overdue sweep).
    planned.sort_by_key(|suggestion| suggestion.user_id);
    let mut report = PassReport { examined: planned.len(), ..PassReport::default() };
    for suggestion in &planned {
        report.absorb(propose(&mut tx, suggestion, settings, now).await?.1);
    }
    tx.commit().await?;
    Ok(PassOutcome::Ran(report))
}
