//! What the assistants propose to a user, and the de-duplication keys that make proposing
//! idempotent.
//!
//! Every suggestion carries a `dedupe_key` chosen so that "the same advice" gets the same key:
//! the table's `unique (user_id, dedupe_key)` then turns a second delivery of an event, a
//! concurrent delivery, or the cron pass finding what an event already handled into a no-op
//! (`on conflict do nothing`), with no check-then-insert to race.
//!
//! The key is also the assistants' memory of what the user answered: a suggestion is never
//! removed when dismissed, so the same key is never proposed again. Each key therefore holds
//! exactly the facts whose change is *material* — the ones that make the advice new — and
//! nothing else (see [`dedupe`] for each kind's choice).

use serde_json::Value;
use uuid::Uuid;

/// The `suggestion.kind` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Overdue,
    Priority,
    Overload,
    Stale,
    Reminder,
    ScheduleAdjustment,
    DailyPlan,
}

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::Priority => "priority",
            Self::Overload => "overload",
            Self::Stale => "stale",
            Self::Reminder => "reminder",
            Self::ScheduleAdjustment => "schedule_adjustment",
            Self::DailyPlan => "daily_plan",
        }
    }
}

/// A suggestion to insert. Owned, so a cron pass can collect a batch, sort it by user (the
/// order it takes the per-user locks in) and then write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSuggestion {
    pub user_id: Uuid,
    /// `None` for advice about the user's whole list (overload).
    pub task_id: Option<Uuid>,
    pub kind: Kind,
    pub title: String,
    pub message: String,
    /// Why, in one line built from the facts the assistant used (shown under the message).
    pub reason: String,
    /// The change accepting the suggestion applies, e.g. `{"priority": "high"}`.
    pub proposed_change: Option<Value>,
    pub dedupe_key: String,
    /// The CloudEvent id that caused it; `None` when a cron pass found it.
    pub source_event: Option<String>,
    pub correlation_id: Option<String>,
}

/// One task of a suggestion that covers several (a grouped reschedule, a daily plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub task_id: Uuid,
    /// Display order within its suggestion.
    pub ordinal: i16,
    /// The PATCH body accepting it applies; `{}` keeps the task as it is (a daily plan's task
    /// already due today).
    pub proposed_change: Value,
    pub reason: String,
    /// The same key a single proposal for this task would have (`dedupe::overdue`), so the
    /// task is proposed once either way; `None` for plan items (the plan's key is enough).
    pub dedupe_key: Option<String>,
}

/// What became of a [`NewSuggestion`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Created(Uuid),
    /// The same advice exists already (any status: a dismissed suggestion is not repeated).
    Duplicate,
    /// The user turned the assistants off.
    Disabled,
    /// The user already received the hourly maximum.
    RateLimited,
    /// The user dismissed this kind of advice repeatedly, and it is paused for now.
    BackedOff,
}

/// The keys. Each has an SQL twin in `db::suggestions` (the cron scans skip tasks whose key
/// exists), and a test proves the two spell every key alike.
///
/// What is material, per kind (the facts in the key; everything else, the title first of all,
/// can change without the advice coming back):
///
/// - **overdue**: the due time. Rescheduling and missing it again warns again.
/// - **priority**: the due *day* (UTC) and the task's current priority. Advice dismissed for a
///   task due on Thursday is not repeated when the due time moves within Thursday or the title
///   changes; it is when the due date moves to another day (every move of more than a day
///   does) or the priority changes (a drop most of all: the user made it less important than
///   the advice they already declined).
/// - **stale**: the day the task was last changed. Dismissing "still relevant?" answers it
///   until the task is changed again and then left alone for another two weeks.
/// - **overload**: the ISO week and the number of important tasks. A key per count would warn
///   again at every new task, so the memory rule is a range, not an equality: within a week,
///   new advice needs a count at least `OVERLOAD_REPEAT_GROWTH` above the last advice's (of
///   any status). The count is the key's last part, read back by
///   `db::suggestions::last_overload_count`.
/// - **reminder**: the reminder firing; the user asked for each one.
pub mod dedupe {
    use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, SecondsFormat, TimeDelta, Utc};
    use events::Priority;
    use uuid::Uuid;

    /// How much the week's count of important tasks must grow before overload advice repeats.
    pub const OVERLOAD_REPEAT_GROWTH: i64 = 2;

    /// One reschedule proposal (alone or as an item of a group) per task and due time: a task
    /// rescheduled and missed again is proposed again. Kept from the warnings that preceded
    /// proposals, so a task warned about then is not proposed for the same due time.
    pub fn overdue(task_id: Uuid, due_at: DateTime<Utc>) -> String {
        format!("overdue:{task_id}:{}", instant(due_at))
    }

    /// A grouped reschedule, named after its first task's key. Unique because that task and
    /// due time can be an item of only one proposal (`suggestion_item_dedupe_key`).
    pub fn overdue_group(first_task_id: Uuid, first_due_at: DateTime<Utc>) -> String {
        format!("overdue-group:{task}", task = overdue(first_task_id, first_due_at))
    }

    /// One daily plan per user and local date (the table's key is per user).
    pub fn daily_plan(date: NaiveDate) -> String {
        format!("plan:{}", date.format("%Y-%m-%d"))
    }

    /// One priority advice per task, due day (UTC) and current priority.
    pub fn priority(task_id: Uuid, due_at: DateTime<Utc>, current: Priority) -> String {
        format!("priority:{task_id}:{}:{}", due_at.format("%Y-%m-%d"), current.as_str())
    }

    /// One "still relevant?" per task and day it was last touched: an update resets it.
    pub fn stale(task_id: Uuid, updated_at: DateTime<Utc>) -> String {
        format!("stale:{task_id}:{}", updated_at.format("%Y-%m-%d"))
    }

    /// Overload advice for `count` important tasks in the ISO week of `now`.
    pub fn overload(user_id: Uuid, now: DateTime<Utc>, count: i64) -> String {
        format!("{}{count}", overload_week_prefix(user_id, now))
    }

    /// What every overload key of the user's week starts with.
    pub fn overload_week_prefix(user_id: Uuid, now: DateTime<Utc>) -> String {
        format!("overload:{user_id}:{}:", iso_week(now))
    }

    /// Whether overload advice for `count` tasks is new after the week's last advice, for
    /// `last` tasks (`None`: none yet this week).
    pub fn overload_is_new(last: Option<i64>, count: i64) -> bool {
        last.is_none_or(|last| count >= last.saturating_add(OVERLOAD_REPEAT_GROWTH))
    }

    /// Monday 00:00 UTC of the ISO week of `now`: every key of the week was written since.
    pub fn week_start(now: DateTime<Utc>) -> DateTime<Utc> {
        let monday = now.date_naive() - TimeDelta::days(i64::from(now.weekday().num_days_from_monday()));
        monday.and_time(NaiveTime::MIN).and_utc()
    }

    /// One suggestion per reminder firing.
    pub fn reminder(reminder_id: Uuid) -> String {
        format!("reminder:{reminder_id}")
    }

    /// `2026-W48`: ISO year and week, which is what "this week" means across a new year.
    pub fn iso_week(now: DateTime<Utc>) -> String {
        now.format("%G-W%V").to_string()
    }

    /// RFC 3339 in UTC with microseconds, PostgreSQL's precision, so the key of a timestamp read
    /// from the database is exact and SQL can spell it too (`to_char(… 'US')`).
    fn instant(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn keys_spell_the_instant_in_utc_with_microseconds() {
        let task = Uuid::nil();
        let due = Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).single().expect("valid");
        assert_eq!(
            dedupe::overdue(task, due),
            "overdue:00000000-0000-0000-0000-000000000000:2026-11-28T09:00:00.000000Z"
        );
        assert_eq!(
            dedupe::priority(task, due, events::Priority::Low),
            "priority:00000000-0000-0000-0000-000000000000:2026-11-28:low"
        );
        assert_eq!(
            dedupe::overdue_group(task, due),
            "overdue-group:overdue:00000000-0000-0000-0000-000000000000:2026-11-28T09:00:00.000000Z"
        );
        assert_eq!(dedupe::daily_plan(due.date_naive()), "plan:2026-11-28");
        assert_eq!(dedupe::stale(task, due), "stale:00000000-0000-0000-0000-000000000000:2026-11-28");
    }

    #[test]
    fn overload_key_uses_the_iso_week_year() {
        // 1 January 2027 is a Friday: it belongs to the last ISO week of 2026.
        let new_year = Utc.with_ymd_and_hms(2027, 1, 1, 12, 0, 0).single().expect("valid");
        assert_eq!(dedupe::iso_week(new_year), "2026-W53");
        let user = Uuid::max();
        assert_eq!(dedupe::overload(user, new_year, 5), format!("overload:{user}:2026-W53:5"));
        assert_eq!(dedupe::week_start(new_year), Utc.with_ymd_and_hms(2026, 12, 28, 0, 0, 0).unwrap());
    }

    #[test]
    fn priority_advice_is_new_only_for_another_due_day_or_priority() {
        let task = Uuid::nil();
        let thursday = Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap();
        let key = dedupe::priority(task, thursday, events::Priority::Medium);
        let later_that_day = thursday + chrono::TimeDelta::hours(8);
        assert_eq!(dedupe::priority(task, later_that_day, events::Priority::Medium), key);
        let two_days_later = thursday + chrono::TimeDelta::days(2);
        assert_ne!(dedupe::priority(task, two_days_later, events::Priority::Medium), key);
        assert_ne!(dedupe::priority(task, thursday, events::Priority::Low), key);
    }

    #[test]
    fn overload_advice_repeats_only_when_the_count_grows_by_two() {
        assert!(dedupe::overload_is_new(None, 3));
        assert!(!dedupe::overload_is_new(Some(5), 5));
        assert!(!dedupe::overload_is_new(Some(5), 6));
        assert!(dedupe::overload_is_new(Some(5), 7));
        assert!(!dedupe::overload_is_new(Some(i64::MAX), 9));
        assert!(!dedupe::overload_is_new(Some(5), 3), "a smaller count is no news");
    }
}
