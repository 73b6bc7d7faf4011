//! What the assistants propose to a user, and the de-duplication keys that make proposing
//! idempotent.
//!
//! Every suggestion carries a `dedupe_key` chosen so that "the same advice" gets the same key:
//! the table's `unique (user_id, dedupe_key)` then turns a second delivery of an event, a
//! concurrent delivery, or the cron pass finding what an event already handled into a no-op
//! (`on conflict do nothing`), with no check-then-insert to race.

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
}

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::Priority => "priority",
            Self::Overload => "overload",
            Self::Stale => "stale",
            Self::Reminder => "reminder",
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
    /// The change accepting the suggestion applies, e.g. `{"priority": "high"}`.
    pub proposed_change: Option<Value>,
    pub dedupe_key: String,
    /// The CloudEvent id that caused it; `None` when a cron pass found it.
    pub source_event: Option<String>,
    pub correlation_id: Option<String>,
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
}

/// The keys. Each has an SQL twin in `db::suggestions` (the cron scans skip tasks whose key
/// exists), and a test proves the two spell every key alike.
pub mod dedupe {
    use chrono::{DateTime, SecondsFormat, Utc};
    use uuid::Uuid;

    /// One overdue warning per task and due time: rescheduling and missing again warns again.
    pub fn overdue(task_id: Uuid, due_at: DateTime<Utc>) -> String {
        format!("overdue:{task_id}:{}", instant(due_at))
    }

    /// One priority advice per task and due time.
    pub fn priority(task_id: Uuid, due_at: DateTime<Utc>) -> String {
        format!("priority:{task_id}:{}", instant(due_at))
    }

    /// One "still relevant?" per task and day it was last touched: an update resets it.
    pub fn stale(task_id: Uuid, updated_at: DateTime<Utc>) -> String {
        format!("stale:{task_id}:{}", updated_at.format("%Y-%m-%d"))
    }

    /// One overload warning per user and ISO week.
    pub fn overload(user_id: Uuid, now: DateTime<Utc>) -> String {
        format!("overload:{user_id}:{}", iso_week(now))
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
        assert!(dedupe::priority(task, due).starts_with("priority:"));
        assert_eq!(dedupe::stale(task, due), "stale:00000000-0000-0000-0000-000000000000:2026-11-28");
    }

    #[test]
    fn overload_key_uses_the_iso_week_year() {
        // 1 January 2027 is a Friday: it belongs to the last ISO week of 2026.
        let new_year = Utc.with_ymd_and_hms(2027, 1, 1, 12, 0, 0).single().expect("valid");
        assert_eq!(dedupe::iso_week(new_year), "2026-W53");
        let user = Uuid::max();
        assert_eq!(dedupe::overload(user, new_year), format!("overload:{user}:2026-W53"));
    }
}
