//! The reminder assistant: fires the reminders the backend scheduled.
//!
//! A pass claims due rows with `for update skip locked`, marks them fired, and writes each
//! one's suggestion and `tasks.reminder` event, all in one transaction: a crash before the
//! commit leaves the rows unfired for the next pass, and after it nothing can fire them again.
//! Unlike the other passes it takes no job lock: `skip locked` already keeps concurrent passes
//! (replicas) on disjoint rows, and letting them share a burst (everyone's 9:00 reminders)
//! keeps reminders on time.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use events::{EventPayload, TaskEvent, truncate_to_millis};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Origin, PassOutcome, PassReport, Settings, local_time, pass_correlation_id, propose, zone};
use crate::{
    db::{self, reminders::DueReminder},
    error::Result,
    suggestion::{Kind, NewSuggestion, dedupe},
};

fn reminder_suggestion(reminder: &DueReminder, origin: Origin<'_>) -> NewSuggestion {
    let message = match reminder.due_at {
        Some(due) => format!("“{}” is due {}.", reminder.title, local_time(due, &reminder.time_zone)),
        None => format!("You asked to be reminded of “{}”.", reminder.title),
    };
    NewSuggestion {
        user_id: reminder.user_id,
        task_id: Some(reminder.task_id),
        kind: Kind::Reminder,
        title: format!("Reminder: {}", reminder.title),
        message,
        reason: reminder_reason(reminder.fire_at, reminder.due_at, zone(&reminder.time_zone)),
        proposed_change: None,
        dedupe_key: dedupe::reminder(reminder.reminder_id),
        source_event: None,
        correlation_id: Some(origin.correlation_id.to_owned()),
    }
}

/// "You set this reminder for Mon 7 Dec, 09:00; due in 2 h" (or "overdue by 3 h", "no due
/// date"), timed from the reminder's own instant.
pub fn reminder_reason(fire_at: DateTime<Utc>, due_at: Option<DateTime<Utc>>, zone: Tz) -> String {
    let set_for = fire_at.with_timezone(&zone).format("%a %-d %b, %H:%M");
    let due = match due_at {
        None => "no due date".to_owned(),
        Some(due) if due >= fire_at => format!("due in {} h", (due - fire_at).num_hours()),
        Some(due) => format!("overdue by {} h", (fire_at - due).num_hours()),
    };
    format!("You set this reminder for {set_for}; {due}")
}

/// Fires up to a batch of reminders due at `now`. Reminders of completed tasks are marked fired
/// without effect, and so are those beyond the user's `reminders_per_hour`. The
/// `tasks.reminder` event is written for every other one — the user asked for it — while the
/// suggestion is subject to the user's gate like any other. Never
/// [`PassOutcome::Busy`]: concurrent passes split the due rows between them.
#[tracing::instrument(name = "reminder_pass", skip_all)]
pub async fn fire_due_once(pool: &PgPool, settings: &Settings, now: DateTime<Utc>) -> Result<PassOutcome> {
    let mut tx = pool.begin().await?;
    let mut due = db::reminders::claim_due(&mut tx, now, settings.batch_size).await?;
    if due.is_empty() {
        return Ok(PassOutcome::Ran(PassReport::default()));
    }
    let ids: Vec<_> = due.iter().map(|reminder| reminder.reminder_id).collect();
    // Counted before this batch is marked fired: each user's budget left for the hour.
    let mut users: Vec<_> = due.iter().map(|reminder| reminder.user_id).collect();
    users.sort_unstable();
    users.dedup();
    let mut budget: HashMap<Uuid, i64> =
        users.iter().map(|&user| (user, settings.reminders_per_hour)).collect();
    for (user, fired) in db::reminders::fired_since(&mut tx, &users, now - TimeDelta::hours(1)).await? {
        budget.insert(user, settings.reminders_per_hour - fired);
    }
    db::reminders::mark_fired(&mut tx, &ids, now).await?;

    // Per-user locks in user order, as in every multi-user transaction.
    due.sort_by_key(|reminder| reminder.user_id);
    let correlation_id = pass_correlation_id("reminders");
    let origin = Origin::of_pass(&correlation_id);
    let mut report = PassReport { examined: due.len(), ..PassReport::default() };
    let mut suppressed = 0u64;
    for reminder in due.iter().filter(|reminder| reminder.completed_at.is_none()) {
        let left = budget.entry(reminder.user_id).or_default();
        if *left <= 0 {
            suppressed += 1;
            continue;
        }
        *left -= 1;
        report.absorb(propose(&mut tx, &reminder_suggestion(reminder, origin), settings, now).await?.1);
        let event = TaskEvent::new(
            reminder.task_id,
            reminder.user_id,
            origin.correlation_id,
            EventPayload::Reminder {
                title: reminder.title.clone(),
                due_date: reminder.due_at.map(truncate_to_millis),
                remind_at: truncate_to_millis(reminder.fire_at),
                reminder_id: reminder.reminder_id,
            },
        )
        .in_project(reminder.project_id);
        platform::outbox::insert(&mut tx, events::TOPIC, &event, None).await?;
        report.events_published += 1;
    }
    tx.commit().await?;
    if suppressed > 0 {
        metrics::counter!("agent_reminders_suppressed_total").increment(suppressed);
        tracing::warn!(
            suppressed,
            per_hour = settings.reminders_per_hour,
            "reminders over their users' hourly limit fired without effect"
        );
    }
    Ok(PassOutcome::Ran(report))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_reminder_reason_names_when_it_was_set_for_and_the_due_date() {
        let fire = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).single().expect("valid");
        let paris: Tz = "Europe/Paris".parse().expect("a known zone");
        assert_eq!(
            reminder_reason(fire, Some(fire + TimeDelta::hours(2)), paris),
            "You set this reminder for Mon 7 Dec, 09:00; due in 2 h"
        );
        assert_eq!(
            reminder_reason(fire, Some(fire - TimeDelta::hours(3)), Tz::UTC),
            "You set this reminder for Mon 7 Dec, 08:00; overdue by 3 h"
        );
        assert_eq!(
            reminder_reason(fire, None, Tz::UTC),
            "You set this reminder for Mon 7 Dec, 08:00; no due date"
        );
    }
}
