//! When a user works: the days and the hours, in their time zone. The assistants propose due
//! times and build the daily plan within them.

use chrono::NaiveTime;

use super::{FieldError, recurrence::Weekday};

/// Its bit in [`WorkDays`]: Monday is bit 0, as in `user_preference.work_days`.
fn bit(day: Weekday) -> u8 {
    1 << chrono::Weekday::from(day).num_days_from_monday()
}

/// A set of weekdays, stored as a bit per day (Monday = bit 0). May be empty: a user with no
/// working days gets no daily plan, and reschedule proposals then count every day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkDays(u8);

impl WorkDays {
    pub fn from_days(days: &[Weekday]) -> Self {
        Self(days.iter().fold(0, |bits, &day| bits | bit(day)))
    }

    /// The stored bits; anything outside the seven days is a corrupt row.
    pub fn from_bits(bits: i16) -> Option<Self> {
        u8::try_from(bits).ok().filter(|b| *b < 0x80).map(Self)
    }

    pub fn bits(self) -> i16 {
        self.0.into()
    }

    pub fn days(self) -> Vec<Weekday> {
        Weekday::ALL.into_iter().filter(|&day| self.0 & bit(day) != 0).collect()
    }
}

/// A wall-clock time of day as the API spells it: `HH:MM`, 24-hour.
pub fn parse_clock(field: &str, raw: &str) -> Result<NaiveTime, FieldError> {
    // `%H:%M` alone also takes "9:5"; the API promises one spelling.
    if raw.len() != 5 {
        return Err(FieldError::new(field, "must be a time of day as HH:MM (24-hour)"));
    }
    NaiveTime::parse_from_str(raw, "%H:%M")
        .map_err(|_| FieldError::new(field, "must be a time of day as HH:MM (24-hour)"))
}

pub fn format_clock(time: NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// How many tasks the daily plan may hold; 0 turns the plan off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanSize(u8);

impl PlanSize {
    pub const MAX: u8 = 20;

    pub fn parse(raw: i64) -> Result<Self, FieldError> {
        u8::try_from(raw)
            .ok()
            .filter(|n| *n <= Self::MAX)
            .map(Self)
            .ok_or_else(|| FieldError::new("dailyPlanSize", format!("must be between 0 and {}", Self::MAX)))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_the_stored_bits() {
        let weekdays =
            WorkDays::from_days(&[Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri]);
        assert_eq!(weekdays.bits(), 31, "the column's default means Monday to Friday");
        let weekend = WorkDays::from_days(&[Weekday::Sun, Weekday::Sat, Weekday::Sun]);
        assert_eq!(weekend.days(), vec![Weekday::Sat, Weekday::Sun]);
        assert_eq!(WorkDays::from_bits(weekend.bits()), Some(weekend));
        assert_eq!(WorkDays::from_bits(128), None);
        assert_eq!(WorkDays::from_bits(-1), None);
    }

    #[test]
    fn clock_times_take_one_spelling() {
        assert_eq!(parse_clock("workStart", "09:30").map(format_clock), Ok("09:30".to_owned()));
        for bad in ["9:30", "24:00", "09:60", "0930", "09:30:00", ""] {
            let error = parse_clock("workStart", bad).expect_err(bad);
            assert_eq!(error.field, "workStart");
        }
    }

    #[test]
    fn plan_sizes_are_bounded() {
        assert_eq!(PlanSize::parse(0).map(PlanSize::get), Ok(0));
        assert_eq!(PlanSize::parse(20).map(PlanSize::get), Ok(20));
        assert!(PlanSize::parse(21).is_err());
        assert!(PlanSize::parse(-1).is_err());
    }
}
