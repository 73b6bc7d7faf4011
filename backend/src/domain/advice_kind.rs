//! The kinds of advice a user can teach the assistants to hold back (see `assistant`).

use std::{fmt, str::FromStr};

use super::FieldError;

/// A kind of unsolicited advice. Reminders are not one: the user asked for each, and they are
/// never paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AdviceKind {
    Overdue,
    Priority,
    Overload,
    Stale,
    ScheduleAdjustment,
    DailyPlan,
}

impl AdviceKind {
    pub const ALL: [Self; 6] = [
        Self::Overdue,
        Self::Priority,
        Self::Overload,
        Self::Stale,
        Self::ScheduleAdjustment,
        Self::DailyPlan,
    ];

    /// The `suggestion.kind` (and `suggestion_feedback.kind`) value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::Priority => "priority",
            Self::Overload => "overload",
            Self::Stale => "stale",
            Self::ScheduleAdjustment => "schedule_adjustment",
            Self::DailyPlan => "daily_plan",
        }
    }
}

impl fmt::Display for AdviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AdviceKind {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s).ok_or_else(|| {
            FieldError::new(
                "kind",
                "must be overdue, priority, overload, stale, schedule_adjustment or daily_plan",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in AdviceKind::ALL {
            assert_eq!(kind.as_str().parse::<AdviceKind>(), Ok(kind));
        }
    }

    #[test]
    fn reminders_and_unknown_names_are_not_advice_kinds() {
        for name in ["reminder", "Priority", "", "daily plan"] {
            assert_eq!(name.parse::<AdviceKind>().unwrap_err().field, "kind");
        }
    }
}
