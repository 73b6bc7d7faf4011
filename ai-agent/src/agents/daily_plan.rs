//! The daily plan: when a user's working day starts, one suggestion (`daily_plan`) with the
//! day's tasks as items, each accepted or skipped on its own.
//!
//! A cron pass (every 5 minutes by default) finds the users whose local working day has begun
//! and who have no plan for their local date, and proposes at most `daily_plan_size` open
//! top-level tasks: overdue and due today first, then by priority, due time and age, each
//! taken only if its estimate (30 minutes without one) fits the working minutes left. An
//! item's change sets the task for today at its kept time of day, or is `{}` ("keep as is")
//! when the task is already due today. The plan expires at the end of the working day.
//!
//! Once per user and local date across replicas: the key `plan:<date>` (unique per user)
//! makes a second plan a no-op whoever writes it, the job lock keeps two replicas' passes from
//! overlapping, and the cron period claim runs each tick on one replica.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use events::Priority;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    Origin, PassOutcome, PassReport, Resume, Settings, pass_correlation_id, reaction_to,
    schedule::{self, WorkingHours},
};
use crate::{
    db::{
        self,
        locks::JobLock,
        plans::{PlanCandidate, PlanUser},
    },
    error::Result,
    suggestion::{Inserted, Kind, NewItem, NewSuggestion, dedupe},
};

/// The tasks read per user: enough for the largest plan (20) when some do not fit.
const CANDIDATES_PER_USER: i64 = 60;

/// The items of `user`'s plan at `now` from `candidates` (best first): at most `size`, each
/// fitting the working minutes left.
pub fn choose(
    hours: &WorkingHours,
    now: DateTime<Utc>,
    size: usize,
    candidates: &[PlanCandidate],
) -> Vec<NewItem> {
    let today = hours.today(now);
    let mut left = hours.minutes_left(now);
    let mut items = Vec::new();
    for task in candidates {
        if items.len() >= size {
            break;
        }
        let minutes = schedule::estimate(task.estimate_minutes);
        if minutes > left {
            continue;
        }
        left -= minutes;
        let due_today = task.due_at.is_some_and(|due| hours.local(due).date() == today);
        let proposed_change = if due_today {
            json!({})
        } else {
            let at = hours.at(today, hours.kept_time(task.due_at));
            // Never in the past: a time already gone today becomes the next quarter hour.
            let at = if at > now {
                at
            } else {
                schedule::next_quarter_hour(now).min(hours.at(today, hours.end()))
            };
            schedule::due_at_change(at)
        };
        items.push(NewItem {
            task_id: task.task_id,
            ordinal: i16::try_from(items.len()).unwrap_or(i16::MAX),
            proposed_change,
            reason: reason(hours, now, task),
            dedupe_key: None,
        });
    }
    items
}

/// "urgent, due today 15:00", "overdue since Mon 8 Dec 10:00, waiting 12 days, 25 min".
fn reason(hours: &WorkingHours, now: DateTime<Utc>, task: &PlanCandidate) -> String {
    let mut parts = Vec::new();
    match task.priority.parse::<Priority>() {
        Ok(Priority::Urgent) => parts.push("urgent".to_owned()),
        Ok(Priority::High) => parts.push("high priority".to_owned()),
        _ => {}
    }
    if let Some(due) = task.due_at {
        let local = hours.local(due);
        if local.date() == hours.today(now) {
            parts.push(format!("due today {}", local.format("%H:%M")));
        } else if due < now {
            parts.push(format!("overdue since {}", schedule::when(hours, due)));
        } else {
            parts.push(format!("due {}", schedule::day(local.date())));
        }
    }
    match (now - task.created_at).num_days() {
        0 => {}
        1 => parts.push("waiting 1 day".to_owned()),
        days => parts.push(format!("waiting {days} days")),
    }
    if let Some(minutes) = task.estimate_minutes {
        parts.push(schedule::duration(i64::from(minutes)));
    }
    if parts.is_empty() {
        parts.push("added today".to_owned());
    }
    parts.join(", ")
}

/// The plan suggestion around `items` (already chosen, so not empty).
fn plan(
    user: &PlanUser,
    hours: &WorkingHours,
    now: DateTime<Utc>,
    items: &[NewItem],
    candidates: &[PlanCandidate],
    origin: Origin<'_>,
) -> NewSuggestion {
    let total: i64 = items
        .iter()
        .filter_map(|item| candidates.iter().find(|c| c.task_id == item.task_id))
        .map(|c| schedule::estimate(c.estimate_minutes))
        .sum();
    let n = items.len();
    NewSuggestion {
        user_id: user.user_id,
        task_id: None,
        kind: Kind::DailyPlan,
        title: format!("Your plan for {}", schedule::day(user.local_date)),
        message: format!(
            "{n} task{}, about {} of the {} left in your working day.",
            if n == 1 { "" } else { "s" },
            schedule::duration(total),
            schedule::duration(hours.minutes_left(now))
        ),
        reason: format!(
            "Working day {}–{}; overdue and due today first, then by priority, due time and age, to fit the time left.",
            hours.start().format("%H:%M"),
            hours.end().format("%H:%M")
        ),
        proposed_change: None,
        dedupe_key: dedupe::daily_plan(user.local_date),
        source_event: None,
        correlation_id: Some(origin.correlation_id.to_owned()),
    }
}

/// One pass at `now`: plans for a batch of users whose working day has started, after `after`
/// in user order. Only one replica runs it at a time; the others get [`PassOutcome::Busy`].
///
/// Set-based like the overdue sweep: one read of the users, one of their tasks, the plans
/// through the gate in one statement, their items and expiries in two more.
#[tracing::instrument(name = "daily_plan_pass", skip_all)]
pub async fn pass_once(
    pool: &PgPool,
    settings: &Settings,
    now: DateTime<Utc>,
    after: Option<Uuid>,
) -> Result<PassOutcome> {
    let mut tx = pool.begin().await?;
    if !db::locks::try_job_lock(&mut tx, JobLock::DailyPlan).await? {
        return Ok(PassOutcome::Busy);
    }
    let users = db::plans::due_users(&mut tx, now, settings.batch_size, after).await?;
    let full = i64::try_from(users.len()).unwrap_or(i64::MAX) >= settings.batch_size;
    let mut report = PassReport {
        examined: users.len(),
        resume_after: users.last().filter(|_| full).map(|user| Resume::User(user.user_id)),
        ..PassReport::default()
    };
    // PostgreSQL chose them with its zone rules; the plan uses the agent's, so both must agree
    // that the working day has started and on its date.
    let users: Vec<(PlanUser, WorkingHours)> = users
        .into_iter()
        .map(|user| {
            let hours = WorkingHours::new(user.work_days, user.work_start, user.work_end, &user.time_zone);
            (user, hours)
        })
        .filter(|(user, hours)| hours.is_working_now(now) && hours.today(now) == user.local_date)
        .collect();
    let ids: Vec<Uuid> = users.iter().map(|(user, _)| user.user_id).collect();
    let ends: Vec<DateTime<Utc>> = users
        .iter()
        .map(|(user, hours)| hours.at(user.local_date + chrono::Days::new(1), chrono::NaiveTime::MIN))
        .collect();
    let mut by_user: HashMap<Uuid, Vec<PlanCandidate>> = HashMap::new();
    for task in db::plans::candidates(&mut tx, &ids, &ends, CANDIDATES_PER_USER).await? {
        by_user.entry(task.user_id).or_default().push(task);
    }

    let correlation_id = pass_correlation_id("daily_plan");
    let origin = Origin::of_pass(&correlation_id);
    let mut plans = Vec::new();
    for (user, hours) in &users {
        let candidates = by_user.remove(&user.user_id).unwrap_or_default();
        let size = usize::try_from(user.daily_plan_size).unwrap_or(0);
        let items = choose(hours, now, size, &candidates);
        if !items.is_empty() {
            let expires_at = hours.at(user.local_date, hours.end());
            plans.push((plan(user, hours, now, &items, &candidates, origin), items, expires_at));
        }
    }
    // In user order (the scan's), the order the per-user locks are taken in.
    let suggestions: Vec<NewSuggestion> = plans.iter().map(|(s, _, _)| s.clone()).collect();
    // No hourly limit (see `db::plans::due_users`); the plan still counts towards it for the
    // advice that comes after.
    let inserted =
        db::suggestions::insert_many(&mut tx, &suggestions, now, now + settings.suggestion_ttl, i64::MAX)
            .await?;
    let mut items = Vec::new();
    let mut expiries = Vec::new();
    for ((suggestion, plan_items, expires_at), inserted) in plans.iter().zip(inserted) {
        report.absorb(reaction_to(Kind::DailyPlan, inserted));
        if let Inserted::Created(id) = inserted {
            items.extend(plan_items.iter().map(|item| (id, suggestion.user_id, item)));
            expiries.push((id, *expires_at));
        }
    }
    db::suggestions::insert_items(&mut tx, &items).await?;
    if !expiries.is_empty() {
        db::suggestions::set_expiry(&mut tx, &expiries).await?;
    }
    tx.commit().await?;
    Ok(PassOutcome::Ran(report))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, TimeDelta};

    use super::*;

    fn candidate(
        priority: &str,
        due_at: Option<&str>,
        estimate_minutes: Option<i32>,
        age_days: i64,
    ) -> PlanCandidate {
        let now: DateTime<Utc> = "2026-12-07T15:00:00Z".parse().expect("RFC 3339");
        PlanCandidate {
            user_id: Uuid::nil(),
            task_id: Uuid::now_v7(),
            title: "Task".into(),
            priority: priority.into(),
            due_at: due_at.map(|at| at.parse().expect("RFC 3339")),
            estimate_minutes,
            created_at: now - TimeDelta::days(age_days),
        }
    }

    #[test]
    fn a_plan_takes_what_fits_the_time_left_up_to_its_size_and_keeps_todays_tasks_as_they_are() {
        let hours = WorkingHours::new(
            31,
            NaiveTime::from_hms_opt(9, 0, 0).expect("valid"),
            NaiveTime::from_hms_opt(17, 0, 0).expect("valid"),
            "UTC",
        );
        let now: DateTime<Utc> = "2026-12-07T15:00:00Z".parse().expect("RFC 3339");
        let candidates = [
            candidate("urgent", Some("2026-12-07T16:00:00Z"), None, 0),
            candidate("high", None, Some(100), 0),
            candidate("medium", Some("2026-12-03T13:00:00Z"), Some(25), 12),
            candidate("low", None, None, 0),
            candidate("low", None, None, 0),
        ];
        let items = choose(&hours, now, 3, &candidates);
        let picked: Vec<_> = items.iter().map(|item| item.task_id).collect();
        // 120 minutes left: 30, then 100 does not fit, 25, 30; the size stops at three.
        assert_eq!(picked, [candidates[0].task_id, candidates[2].task_id, candidates[3].task_id]);
        assert_eq!(items[0].proposed_change, json!({}));
        assert_eq!(items[0].reason, "urgent, due today 16:00");
        // 13:00 has passed: the next quarter hour.
        assert_eq!(items[1].proposed_change, json!({ "dueAt": "2026-12-07T15:15:00Z" }));
        assert_eq!(items[1].reason, "overdue since Thu 3 Dec 13:00, waiting 12 days, 25 min");
        assert_eq!(items[2].reason, "added today");
        assert_eq!(items.iter().map(|item| item.ordinal).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(
            choose(&hours, "2026-12-07T16:50:00Z".parse().expect("RFC 3339"), 3, &candidates[1..2])
                .is_empty()
        );
    }
}
