//! Recurring tasks: the `recurrence` object of the API, its storage form, and the calendar
//! arithmetic that finds when the next task of a series is due.
//!
//! Three representations of one rule:
//! - [`RecurrenceInput`] is the JSON wire shape, used both in requests and in responses. Its
//!   numbers are wide signed integers so that an out-of-range value reaches [`Recurrence::parse`]
//!   and gets a field message instead of an opaque deserialization error.
//! - [`Recurrence`] is the parsed rule. Its fields are private, so one that exists is valid.
//! - An RFC 5545 RRULE string ([`Recurrence::to_rrule`]) is what the database stores, so that the
//!   column stays readable by other calendar tooling. The [`Basis`] has no RRULE equivalent and
//!   lives in a column of its own.
//!
//! Every date computation runs on local calendar dates in the user's time zone: "every month on
//! the 31st" and "at 09:00" are statements about the user's calendar and wall clock, not about UTC.
//!
//! One concern per file: `wire` (the JSON shape), `validate` (limits and field messages),
//! `rrule_text` (the stored text), `schedule` (the next due date), `local_time` (wall-clock
//! times around DST changes) and `description` (the English summary). The `rrule` crate reads
//! the stored text and lists the dates of a rule; what it cannot do is marked where it is done.

mod calendar;
mod description;
mod local_time;
mod rrule_text;
mod schedule;
#[cfg(test)]
mod test_support;
mod validate;
mod wire;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

pub use calendar::OpenOccurrence;
pub use local_time::occurrence_date;
pub use validate::{MAX_COUNT, MAX_INTERVAL};
pub use wire::{Basis, Frequency, NthWeekday, NthWeekdayInput, RecurrenceInput, WeekOfMonth, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum End {
    Never,
    /// Inclusive, a local calendar date.
    Until(NaiveDate),
    /// Total number of occurrences, the first included.
    Count(u32),
}

/// A validated recurrence rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Recurrence {
    frequency: Frequency,
    interval: u32,
    /// Weekly only; sorted and unique. Empty means "the weekday of the anchor date", which is
    /// what plain whole-week steps produce.
    weekdays: Vec<Weekday>,
    /// Monthly only.
    nth_weekday: Option<NthWeekday>,
    end: End,
    basis: Basis,
}

/// The facts about one task of a series that [`Recurrence::next_due`] needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// Due date of the first task of the series. Its local day of month and month are the intent
    /// that clamped dates return to (31 Jan → 28 Feb → 31 Mar).
    pub series_start: DateTime<Utc>,
    /// Due date of the task being completed.
    pub due: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
    /// Position of the task being completed in its series; 1 for the first.
    pub number: u32,
    /// The user's time zone.
    pub tz: Tz,
}

impl Recurrence {
    #[must_use]
    pub fn frequency(&self) -> Frequency {
        self.frequency
    }

    /// Every this many periods; 1 to [`MAX_INTERVAL`].
    #[must_use]
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// The chosen weekdays of a weekly rule, Monday first; empty when the rule repeats on the
    /// weekday of the due date (and always for other frequencies).
    #[must_use]
    pub fn weekdays(&self) -> &[Weekday] {
        &self.weekdays
    }

    #[must_use]
    pub fn nth_weekday(&self) -> Option<NthWeekday> {
        self.nth_weekday
    }

    /// Last local date (inclusive) a task of the series may be due on.
    #[must_use]
    pub fn until(&self) -> Option<NaiveDate> {
        match self.end {
            End::Until(until) => Some(until),
            End::Never | End::Count(_) => None,
        }
    }

    /// Total number of tasks in the series, the first included.
    #[must_use]
    pub fn count(&self) -> Option<u32> {
        match self.end {
            End::Count(count) => Some(count),
            End::Never | End::Until(_) => None,
        }
    }

    #[must_use]
    pub fn basis(&self) -> Basis {
        self.basis
    }
}
