//! Validation of the wire form: the limits of each field and the messages a client sees.

use chrono::Datelike;

use super::{End, Frequency, NthWeekday, Recurrence, RecurrenceInput, WeekOfMonth};
use crate::domain::FieldError;

/// The largest accepted `interval`.
pub const MAX_INTERVAL: u32 = 999;
/// The largest accepted `count`.
pub const MAX_COUNT: u32 = 1000;

impl Recurrence {
    /// Validates the wire form.
    ///
    /// # Errors
    ///
    /// Every problem found, each with its field path (`recurrence.interval`), not just the first.
    pub fn parse(input: RecurrenceInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();

        let interval = match input.interval {
            None => 1,
            Some(n) => match u32::try_from(n) {
                Ok(n) if (1..=MAX_INTERVAL).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "recurrence.interval",
                        format!("must be between 1 and {MAX_INTERVAL}"),
                    ));
                    1
                }
            },
        };

        let weekdays = match input.weekdays {
            None => Vec::new(),
            // The content of a field that must go anyway is not worth complaining about.
            Some(_) if input.frequency != Frequency::Weekly => {
                errors
                    .push(FieldError::new("recurrence.weekdays", "is only allowed when frequency is weekly"));
                Vec::new()
            }
            Some(days) => {
                if days.is_empty() {
                    errors.push(FieldError::new("recurrence.weekdays", "must list at least one weekday"));
                }
                let mut normalised = days.clone();
                normalised.sort_unstable();
                normalised.dedup();
                if normalised.len() != days.len() {
                    errors
                        .push(FieldError::new("recurrence.weekdays", "must not list the same weekday twice"));
                }
                normalised
            }
        };

        let nth_weekday = match input.nth_weekday {
            None => None,
            Some(_) if input.frequency != Frequency::Monthly => {
                errors.push(FieldError::new(
                    "recurrence.nthWeekday",
                    "is only allowed when frequency is monthly",
                ));
                None
            }
            Some(nth) => {
                let week = WeekOfMonth::from_number(nth.week);
                if week.is_none() {
                    errors.push(FieldError::new(
                        "recurrence.nthWeekday.week",
                        "must be 1, 2, 3, 4, or -1 for the last week of the month",
                    ));
                }
                week.map(|week| NthWeekday { week, weekday: nth.weekday })
            }
        };

        // RRULE writes UNTIL as exactly four year digits.
        if let Some(until) = input.until
            && !(1..=9999).contains(&until.year())
        {
            errors.push(FieldError::new("recurrence.until", "must be between 0001-01-01 and 9999-12-31"));
        }

        let count = match input.count {
            None => None,
            Some(n) => match u32::try_from(n) {
                Ok(n) if (1..=MAX_COUNT).contains(&n) => Some(n),
                _ => {
                    errors.push(FieldError::new(
                        "recurrence.count",
                        format!("must be between 1 and {MAX_COUNT}"),
                    ));
                    None
                }
            },
        };

        if input.until.is_some() && input.count.is_some() {
            errors.push(FieldError::new("recurrence.count", "cannot be combined with until"));
        }

        if !errors.is_empty() {
            return Err(errors);
        }

        let end = match (input.until, count) {
            (Some(until), _) => End::Until(until),
            (None, Some(count)) => End::Count(count),
            (None, None) => End::Never,
        };
        Ok(Self {
            frequency: input.frequency,
            interval,
            weekdays,
            nth_weekday,
            end,
            basis: input.basis.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::recurrence::test_support::{error, errors, input, rule};
    use crate::domain::recurrence::{
        Basis, Frequency, NthWeekday, Recurrence, RecurrenceInput, WeekOfMonth, Weekday,
    };
    use chrono::NaiveDate;
    use serde_json::json;

    #[test]
    fn a_bare_frequency_repeats_every_period_from_the_due_date_forever() {
        let parsed = rule(json!({ "frequency": "daily" }));
        assert_eq!(parsed.frequency(), Frequency::Daily);
        assert_eq!(parsed.interval(), 1);
        assert!(parsed.weekdays().is_empty());
        assert_eq!(parsed.nth_weekday(), None);
        assert_eq!(parsed.until(), None);
        assert_eq!(parsed.count(), None);
        assert_eq!(parsed.basis(), Basis::DueDate);
    }

    #[test]
    fn the_documented_json_example_parses_with_every_field() {
        let parsed = rule(json!({
            "frequency": "weekly", "interval": 2, "weekdays": ["fri", "mon"],
            "until": "2027-06-30", "basis": "completion"
        }));
        assert_eq!(parsed.interval(), 2);
        assert_eq!(parsed.weekdays(), [Weekday::Mon, Weekday::Fri]);
        assert_eq!(parsed.until(), NaiveDate::from_ymd_opt(2027, 6, 30));
        assert_eq!(parsed.basis(), Basis::Completion);

        let monthly = rule(json!({
            "frequency": "monthly", "nthWeekday": { "week": -1, "weekday": "fri" }, "count": 10
        }));
        assert_eq!(
            monthly.nth_weekday(),
            Some(NthWeekday { week: WeekOfMonth::Last, weekday: Weekday::Fri })
        );
        assert_eq!(monthly.count(), Some(10));
    }

    #[test]
    fn interval_outside_1_to_999_is_rejected() {
        for bad in [0, -1, 1000, i64::MAX] {
            assert_eq!(
                errors(json!({ "frequency": "daily", "interval": bad })),
                [error("recurrence.interval", "must be between 1 and 999")],
                "interval {bad}"
            );
        }
        assert_eq!(rule(json!({ "frequency": "daily", "interval": 999 })).interval(), 999);
    }

    #[test]
    fn weekdays_are_normalised_to_monday_first_order() {
        let parsed = rule(json!({ "frequency": "weekly", "weekdays": ["sun", "wed", "mon"] }));
        assert_eq!(parsed.weekdays(), [Weekday::Mon, Weekday::Wed, Weekday::Sun]);
    }

    #[test]
    fn a_weekday_listed_twice_is_rejected() {
        assert_eq!(
            errors(json!({ "frequency": "weekly", "weekdays": ["mon", "fri", "mon"] })),
            [error("recurrence.weekdays", "must not list the same weekday twice")]
        );
    }

    #[test]
    fn an_empty_weekday_list_is_rejected() {
        assert_eq!(
            errors(json!({ "frequency": "weekly", "weekdays": [] })),
            [error("recurrence.weekdays", "must list at least one weekday")]
        );
    }

    #[test]
    fn weekdays_are_only_allowed_with_a_weekly_frequency() {
        for frequency in ["daily", "monthly", "yearly"] {
            assert_eq!(
                errors(json!({ "frequency": frequency, "weekdays": ["mon"] })),
                [error("recurrence.weekdays", "is only allowed when frequency is weekly")]
            );
        }
    }

    #[test]
    fn nth_weekday_is_only_allowed_with_a_monthly_frequency() {
        for frequency in ["daily", "weekly", "yearly"] {
            assert_eq!(
                errors(json!({
                    "frequency": frequency, "nthWeekday": { "week": 2, "weekday": "tue" }
                })),
                [error("recurrence.nthWeekday", "is only allowed when frequency is monthly")]
            );
        }
    }

    #[test]
    fn nth_weekday_week_must_be_1_to_4_or_minus_1() {
        for bad in [0, 5, -2] {
            assert_eq!(
                errors(json!({
                    "frequency": "monthly", "nthWeekday": { "week": bad, "weekday": "tue" }
                })),
                [error(
                    "recurrence.nthWeekday.week",
                    "must be 1, 2, 3, 4, or -1 for the last week of the month"
                )],
                "week {bad}"
            );
        }
        for good in [1, 2, 3, 4, -1] {
            let parsed = rule(json!({
                "frequency": "monthly", "nthWeekday": { "week": good, "weekday": "tue" }
            }));
            let week = parsed.nth_weekday().map(|nth| i64::from(nth.week.number()));
            assert_eq!(week, Some(good));
        }
    }

    #[test]
    fn count_outside_1_to_1000_is_rejected() {
        for bad in [0, -3, 1001] {
            assert_eq!(
                errors(json!({ "frequency": "daily", "count": bad })),
                [error("recurrence.count", "must be between 1 and 1000")],
                "count {bad}"
            );
        }
        assert_eq!(rule(json!({ "frequency": "daily", "count": 1000 })).count(), Some(1000));
    }

    #[test]
    fn until_and_count_together_are_rejected() {
        assert_eq!(
            errors(json!({ "frequency": "daily", "until": "2027-06-30", "count": 3 })),
            [error("recurrence.count", "cannot be combined with until")]
        );
    }

    #[test]
    fn an_until_date_outside_four_digit_years_is_rejected() {
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1).expect("chrono supports year 10000");
        let input = RecurrenceInput { until: Some(far), ..input(json!({ "frequency": "daily" })) };
        let found = Recurrence::parse(input).map_err(|errors| errors[0].field.clone());
        assert_eq!(found, Err("recurrence.until".to_owned()));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        assert_eq!(
            errors(json!({
                "frequency": "daily",
                "interval": 0,
                "weekdays": ["mon"],
                "nthWeekday": { "week": 9, "weekday": "mon" },
                "until": "2027-06-30",
                "count": 0
            })),
            [
                error("recurrence.interval", "must be between 1 and 999"),
                error("recurrence.weekdays", "is only allowed when frequency is weekly"),
                error("recurrence.nthWeekday", "is only allowed when frequency is monthly"),
                error("recurrence.count", "must be between 1 and 1000"),
                error("recurrence.count", "cannot be combined with until"),
            ]
        );
    }
}
