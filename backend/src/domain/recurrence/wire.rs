//! The JSON wire shape of a rule and the small value types it is made of.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Recurrence;

/// How often a task repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A day of the week. The declaration order is the normalised order (weeks start on Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// All days, Monday first.
    pub const ALL: [Self; 7] = [Self::Mon, Self::Tue, Self::Wed, Self::Thu, Self::Fri, Self::Sat, Self::Sun];
}

impl From<Weekday> for chrono::Weekday {
    fn from(day: Weekday) -> Self {
        match day {
            Weekday::Mon => Self::Mon,
            Weekday::Tue => Self::Tue,
            Weekday::Wed => Self::Wed,
            Weekday::Thu => Self::Thu,
            Weekday::Fri => Self::Fri,
            Weekday::Sat => Self::Sat,
            Weekday::Sun => Self::Sun,
        }
    }
}

impl From<chrono::Weekday> for Weekday {
    fn from(day: chrono::Weekday) -> Self {
        match day {
            chrono::Weekday::Mon => Self::Mon,
            chrono::Weekday::Tue => Self::Tue,
            chrono::Weekday::Wed => Self::Wed,
            chrono::Weekday::Thu => Self::Thu,
            chrono::Weekday::Fri => Self::Fri,
            chrono::Weekday::Sat => Self::Sat,
            chrono::Weekday::Sun => Self::Sun,
        }
    }
}

/// Which occurrence of a weekday within a month a monthly rule picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeekOfMonth {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

impl WeekOfMonth {
    /// The wire and RRULE number: 1 to 4, or -1 for the last.
    #[must_use]
    pub fn number(self) -> i8 {
        match self {
            Self::First => 1,
            Self::Second => 2,
            Self::Third => 3,
            Self::Fourth => 4,
            Self::Last => -1,
        }
    }

    /// The inverse of [`WeekOfMonth::number`]. There is no fifth week because not every month has
    /// a fifth of each weekday; "last" covers the intent behind it.
    #[must_use]
    pub fn from_number(number: i64) -> Option<Self> {
        match number {
            1 => Some(Self::First),
            2 => Some(Self::Second),
            3 => Some(Self::Third),
            4 => Some(Self::Fourth),
            -1 => Some(Self::Last),
            _ => None,
        }
    }
}

/// A parsed "n-th weekday of the month", e.g. the second Tuesday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NthWeekday {
    pub week: WeekOfMonth,
    pub weekday: Weekday,
}

/// Wire form of [`NthWeekday`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NthWeekdayInput {
    /// Week of the month: 1 to 4, or -1 for the last.
    #[schema(example = 2)]
    pub week: i64,
    pub weekday: Weekday,
}

impl From<NthWeekday> for NthWeekdayInput {
    fn from(nth: NthWeekday) -> Self {
        Self { week: i64::from(nth.week.number()), weekday: nth.weekday }
    }
}

/// What the next due date is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Basis {
    /// From the due date of the completed task: a fixed schedule ("rent on the 1st").
    #[default]
    DueDate,
    /// From when the task was completed: a gap between repetitions ("water the plants 3 days
    /// after I last did").
    Completion,
}

impl Basis {
    /// The database column value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DueDate => "due_date",
            Self::Completion => "completion",
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Basis {
    type Err = String;

    /// Parses the database column value written by [`Basis::as_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "due_date" => Ok(Self::DueDate),
            "completion" => Ok(Self::Completion),
            other => Err(format!("unknown recurrence basis `{other}`")),
        }
    }
}

/// The `recurrence` object of a task, as sent by clients and returned in responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecurrenceInput {
    pub frequency: Frequency,
    /// Repeat every this many periods; 1 to 999, default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 999, default = 1)]
    pub interval: Option<i64>,
    /// Weekly only: the days of the week to repeat on, each at most once. Without it a weekly
    /// task repeats on the weekday of its due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<Vec<Weekday>>,
    /// Monthly only: repeat on the n-th weekday of the month instead of on a day of the month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth_weekday: Option<NthWeekdayInput>,
    /// Last day (inclusive, in the user's time zone) a task of the series may be due on. Not
    /// together with `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Total number of tasks in the series, the first included; 1 to 1000. Not together with
    /// `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000)]
    pub count: Option<i64>,
    /// Whether the next due date counts from the due date (default) or from the completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
}

impl From<&Recurrence> for RecurrenceInput {
    fn from(rule: &Recurrence) -> Self {
        Self {
            frequency: rule.frequency,
            interval: Some(i64::from(rule.interval)),
            weekdays: (!rule.weekdays.is_empty()).then(|| rule.weekdays.clone()),
            nth_weekday: rule.nth_weekday.map(NthWeekdayInput::from),
            until: rule.until(),
            count: rule.count().map(i64::from),
            basis: Some(rule.basis),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::recurrence::test_support::{rule, valid_rule};
    use crate::domain::recurrence::{Basis, Recurrence, RecurrenceInput};
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_and_names_are_rejected_by_deserialization() {
        let unknown_field = json!({ "frequency": "daily", "every": 2 });
        assert!(serde_json::from_value::<RecurrenceInput>(unknown_field).is_err());
        let unknown_day = json!({ "frequency": "weekly", "weekdays": ["monday"] });
        assert!(serde_json::from_value::<RecurrenceInput>(unknown_day).is_err());
        let no_frequency = json!({ "interval": 2 });
        assert!(serde_json::from_value::<RecurrenceInput>(no_frequency).is_err());
    }

    #[test]
    fn the_response_form_is_the_request_form_with_defaults_filled_in() {
        let parsed = rule(json!({
            "frequency": "monthly", "nthWeekday": { "week": 2, "weekday": "tue" }, "count": 5
        }));
        let wire = serde_json::to_value(RecurrenceInput::from(&parsed)).expect("serialises");
        assert_eq!(
            wire,
            json!({
                "frequency": "monthly", "interval": 1,
                "nthWeekday": { "week": 2, "weekday": "tue" },
                "count": 5, "basis": "dueDate"
            })
        );
        assert_eq!(rule(wire), parsed);
    }

    #[test]
    fn basis_round_trips_through_its_database_name() {
        for basis in [Basis::DueDate, Basis::Completion] {
            assert_eq!(basis.as_str().parse::<Basis>(), Ok(basis));
        }
        assert_eq!(Basis::DueDate.as_str(), "due_date");
        assert_eq!(Basis::Completion.as_str(), "completion");
        assert!("dueDate".parse::<Basis>().is_err());
    }

    fn check_wire_round_trip(rule: Recurrence) -> Result<(), TestCaseError> {
        let fail = |e: serde_json::Error| TestCaseError::fail(e.to_string());
        let json = serde_json::to_value(RecurrenceInput::from(&rule)).map_err(fail)?;
        let back: RecurrenceInput = serde_json::from_value(json).map_err(fail)?;
        prop_assert_eq!(Recurrence::parse(back), Ok(rule));
        Ok(())
    }

    proptest! {
        #[test]
        fn wire_round_trip_is_lossless(rule in valid_rule()) {
            check_wire_round_trip(rule)?;
        }
    }
}
