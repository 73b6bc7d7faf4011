//! The prioritisation assistant: raise the priority of what is due soon, warn when too much
//! important work lands in one week, and ask about tasks nobody touched for two weeks.
//!
//! Events trigger the first two when a task is created with a due date or its priority or due
//! date changes; the cron pass covers what time alone changes (a task drifting into the
//! two-day window, a task going stale).

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use events::{EventPayload, Priority, TaskEvent};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{
    Origin, PassOutcome, PassReport, Settings, count, local_day, local_time, pass_correlation_id, propose,
    zone,
};
use crate::{
    db::{self, locks::JobLock, tasks::TaskRow},
    error::Result,
    registry::{EventContext, EventHandler, Reaction},
    suggestion::{Inserted, Kind, NewSuggestion, dedupe},
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

/// What priority advice for `task` at `now` would say, if any: the task is open, due within
/// [`DUE_SOON`] and not already high or urgent. Returns the due time, the current priority and
/// the advised one.
fn priority_target(task: &TaskRow, now: DateTime<Utc>) -> Option<(DateTime<Utc>, Priority, Priority)> {
    let due = task.due_at.filter(|due| task.is_open() && *due > now && *due <= now + DUE_SOON)?;
    let current = task.priority().filter(|p| *p < Priority::High)?;
    let target = if due <= now + DUE_VERY_SOON { Priority::Urgent } else { Priority::High };
    Some((due, current, target))
}

/// Priority advice for `task` at `now`, if [`priority_target`] has any; its reason counts the
/// urgent tasks already due on the user's day (one indexed count, only for advice).
async fn priority_advice(
    conn: &mut PgConnection,
    task: &TaskRow,
    now: DateTime<Utc>,
    origin: Origin<'_>,
) -> Result<Option<NewSuggestion>> {
    let Some((due, current, target)) = priority_target(task, now) else {
        return Ok(None);
    };
    let (day_start, day_end) = local_day(now, zone(&task.time_zone));
    let urgent_today = db::tasks::count_urgent_due(conn, task.user_id, day_start, day_end).await?;
    Ok(Some(NewSuggestion {
        user_id: task.user_id,
        task_id: Some(task.task_id),
        kind: Kind::Priority,
        title: format!("Make “{}” {target}", task.title),
        message: format!(
            "It is due {} but marked {current}. Raise it to {target} so it stays on top.",
            local_time(due, &task.time_zone)
        ),
        reason: priority_reason(due - now, current, urgent_today),
        proposed_change: Some(json!({ "priority": target.as_str() })),
        dedupe_key: dedupe::priority(task.task_id, due, current),
        source_event: origin.source_event.map(str::to_owned),
        correlation_id: Some(origin.correlation_id.to_owned()),
    }))
}

/// "Due in 20 h, low priority, 3 urgent tasks already due today".
pub fn priority_reason(until_due: TimeDelta, current: Priority, urgent_today: i64) -> String {
    let hours = until_due.num_hours();
    let due = if hours < 1 { "Due in under 1 h".to_owned() } else { format!("Due in {hours} h") };
    match urgent_today {
        0 => format!("{due}, {current} priority"),
        1 => format!("{due}, {current} priority, 1 urgent task already due today"),
        n => format!("{due}, {current} priority, {n} urgent tasks already due today"),
    }
}

fn overload_advice(
    user_id: Uuid,
    due: &[DateTime<Utc>],
    time_zone: &str,
    now: DateTime<Utc>,
    origin: Origin<'_>,
) -> NewSuggestion {
    let task_count = i64::try_from(due.len()).unwrap_or(i64::MAX);
    NewSuggestion {
        user_id,
        task_id: None,
        kind: Kind::Overload,
        title: format!("{task_count} important tasks due this week"),
        message: format!(
            "You have {task_count} high or urgent tasks due in the next 7 days. Consider moving some \
             due dates or lowering a priority."
        ),
        reason: overload_reason(due, now + OVERLOAD_WINDOW, zone(time_zone)),
        proposed_change: None,
        dedupe_key: dedupe::overload(user_id, now, task_count),
        source_event: origin.source_event.map(str::to_owned),
        correlation_id: Some(origin.correlation_id.to_owned()),
    }
}

/// "5 high or urgent tasks due by Sun 13 Dec; 2 of them on Wed": the count, the window's end
/// and the busiest day (the earliest of equals), named only when it holds more than one.
pub fn overload_reason(due: &[DateTime<Utc>], window_end: DateTime<Utc>, zone: Tz) -> String {
    let mut per_day: Vec<(chrono::NaiveDate, usize)> = Vec::new();
    for at in due {
        let day = at.with_timezone(&zone).date_naive();
        match per_day.iter_mut().find(|(d, _)| *d == day) {
            Some((_, n)) => *n += 1,
            None => per_day.push((day, 1)),
        }
    }
    let by = window_end.with_timezone(&zone).format("%a %-d %b");
    let head = format!("{} high or urgent tasks due by {by}", due.len());
    // `max_by_key` keeps the last of equals; reversing keeps the earliest day.
    match per_day.iter().rev().max_by_key(|(_, n)| *n) {
        Some((day, n)) if *n > 1 => format!("{head}; {n} of them on {}", day.format("%a")),
        _ => head,
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
        reason: stale_reason(now - task.updated_at, task.due_at, now, zone(&task.time_zone)),
        proposed_change: None,
        dedupe_key: dedupe::stale(task.task_id, task.updated_at),
        source_event: origin.source_event.map(str::to_owned),
        correlation_id: Some(origin.correlation_id.to_owned()),
    }
}

/// "Untouched for 16 days, no due date" (or "due Fri 18 Dec", "overdue since Tue 1 Dec").
pub fn stale_reason(
    untouched: TimeDelta,
    due: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    zone: Tz,
) -> String {
    let days = untouched.num_days();
    let due = match due {
        None => "no due date".to_owned(),
        Some(at) if at < now => format!("overdue since {}", at.with_timezone(&zone).format("%a %-d %b")),
        Some(at) => format!("due {}", at.with_timezone(&zone).format("%a %-d %b")),
    };
    format!("Untouched for {days} days, {due}")
}

/// [`propose`], and when new overload advice is created (the week's count grew), the user's
/// older open overload advice is withdrawn: one card with the current count, not two.
async fn propose_superseding(
    conn: &mut PgConnection,
    suggestion: &NewSuggestion,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Reaction> {
    let (inserted, mut reaction) = propose(conn, suggestion, settings, now).await?;
    if suggestion.kind == Kind::Overload && matches!(inserted, Inserted::Created(_)) {
        let withdrawn = db::suggestions::withdraw_open_of_user(
            conn,
            suggestion.user_id,
            Kind::Overload,
            &suggestion.dedupe_key,
            now,
        )
        .await?;
        reaction.suggestions_dismissed += count(withdrawn);
    }
    Ok(reaction)
}

/// Reacts to a new dated task or a priority or due-date change: priority advice for the task
/// and an overload check for its owner. Any update also answers an open "still relevant?".
pub struct AdviseOnChange;

#[async_trait]
impl EventHandler for AdviseOnChange {
    fn name(&self) -> &'static str {
        "prioritization.advise_on_change"
    }

    /// A new task gets advice only if it is low or medium and due within [`DUE_SOON`], and can
    /// tip its owner into overload only if it is high or urgent and due within the
    /// [`OVERLOAD_WINDOW`]; any update may answer a "still relevant?".
    fn may_act(&self, event: &TaskEvent, now: DateTime<Utc>) -> bool {
        match &event.payload {
            EventPayload::Created { due_date, priority, .. } => {
                let horizon = if *priority >= Priority::High { OVERLOAD_WINDOW } else { DUE_SOON };
                due_date.is_some_and(|due| due >= now && due <= now + horizon)
            }
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
        let advice = priority_advice(conn, task, ctx.now, origin).await?;
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
        // Only an important task due this week can tip its owner into overload; the count is
        // new advice only if it grew enough since the week's last (`dedupe::overload_is_new`).
        let window = ctx.now..=ctx.now + OVERLOAD_WINDOW;
        let important_this_week = task.priority().is_some_and(|p| p >= Priority::High)
            && task.due_at.is_some_and(|due| window.contains(&due));
        if important_this_week {
            let due = db::tasks::important_due(conn, task.user_id, ctx.now, *window.end()).await?;
            let count = i64::try_from(due.len()).unwrap_or(i64::MAX);
            if count >= OVERLOAD_MIN_TASKS {
                let last = db::suggestions::last_overload_count(
                    conn,
                    task.user_id,
                    dedupe::week_start(ctx.now),
                    &dedupe::overload_week_prefix(task.user_id, ctx.now),
                )
                .await?;
                if dedupe::overload_is_new(last, count) {
                    planned.push(overload_advice(task.user_id, &due, &task.time_zone, ctx.now, origin));
                }
            }
        }
        for suggestion in &planned {
            reaction += propose_superseding(conn, suggestion, ctx.settings, ctx.now).await?;
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
        planned.extend(priority_advice(&mut tx, &task, now, origin).await?);
    }
    let overloaded = db::tasks::overloaded_users(
        &mut tx,
        now,
        per_hour,
        limit,
        now + OVERLOAD_WINDOW,
        OVERLOAD_MIN_TASKS,
        &dedupe::iso_week(now),
        dedupe::week_start(now),
        dedupe::OVERLOAD_REPEAT_GROWTH,
    )
    .await?;
    for user in overloaded {
        planned.push(overload_advice(user.user_id, &user.due, &user.time_zone, now, origin));
    }
    for task in db::tasks::stale_candidates(&mut tx, now, per_hour, limit, now - STALE_AFTER).await? {
        planned.push(stale_advice(&task, now, origin));
    }

    // Per-user locks in user order, as in every multi-user transaction (see the overdue sweep).
    planned.sort_by_key(|suggestion| suggestion.user_id);
    let mut report = PassReport { examined: planned.len(), ..PassReport::default() };
    for suggestion in &planned {
        report.absorb(propose_superseding(&mut tx, suggestion, settings, now).await?);
    }
    tx.commit().await?;
    Ok(PassOutcome::Ran(report))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).single().expect("valid")
    }

    #[test]
    fn the_priority_reason_names_the_time_left_the_priority_and_the_days_urgent_work() {
        assert_eq!(
            priority_reason(TimeDelta::minutes(20 * 60 + 40), Priority::Low, 3),
            "Due in 20 h, low priority, 3 urgent tasks already due today"
        );
        assert_eq!(
            priority_reason(TimeDelta::hours(30), Priority::Medium, 1),
            "Due in 30 h, medium priority, 1 urgent task already due today"
        );
        assert_eq!(
            priority_reason(TimeDelta::minutes(40), Priority::Low, 0),
            "Due in under 1 h, low priority"
        );
    }

    #[test]
    fn the_overload_reason_names_the_count_the_window_and_the_busiest_day() {
        // Monday 7 December, 10:00 UTC: the window ends Monday 14th; Wednesday 9th holds two.
        let now = at(7, 10);
        let due = [at(8, 9), at(9, 9), at(9, 15), at(11, 9), at(13, 9)];
        assert_eq!(
            overload_reason(&due, now + OVERLOAD_WINDOW, Tz::UTC),
            "5 high or urgent tasks due by Mon 14 Dec; 2 of them on Wed"
        );
        let spread = [at(8, 9), at(9, 9), at(10, 9)];
        assert_eq!(overload_reason(&spread, at(13, 9), Tz::UTC), "3 high or urgent tasks due by Sun 13 Dec");
    }

    #[test]
    fn the_overload_reason_counts_days_in_the_users_zone_and_prefers_the_earliest_of_equals() {
        // 23:30 UTC on the 8th is already Wednesday the 9th in Paris.
        let due = [at(8, 9), at(8, 23) + TimeDelta::minutes(30), at(9, 9), at(10, 8), at(10, 9)];
        let paris: Tz = "Europe/Paris".parse().expect("a known zone");
        assert_eq!(
            overload_reason(&due, at(13, 9), paris),
            "5 high or urgent tasks due by Sun 13 Dec; 2 of them on Wed"
        );
    }

    #[test]
    fn the_stale_reason_names_the_idle_days_and_the_due_date() {
        let now = at(20, 12);
        assert_eq!(
            stale_reason(TimeDelta::days(16), None, now, Tz::UTC),
            "Untouched for 16 days, no due date"
        );
        assert_eq!(
            stale_reason(TimeDelta::days(15), Some(at(25, 9)), now, Tz::UTC),
            "Untouched for 15 days, due Fri 25 Dec"
        );
        assert_eq!(
            stale_reason(TimeDelta::days(20), Some(at(1, 9)), now, Tz::UTC),
            "Untouched for 20 days, overdue since Tue 1 Dec"
        );
    }
}
