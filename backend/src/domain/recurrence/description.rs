//! A short English summary of a rule.

use super::{Basis, End, Frequency, Recurrence, WeekOfMonth, Weekday};

impl Weekday {
    fn short_name(self) -> &'static str {
        match self {
            Self::Mon => "Mon",
            Self::Tue => "Tue",
            Self::Wed => "Wed",
            Self::Thu => "Thu",
            Self::Fri => "Fri",
            Self::Sat => "Sat",
            Self::Sun => "Sun",
        }
    }

    fn long_name(self) -> &'static str {
        match self {
            Self::Mon => "Monday",
            Self::Tue => "Tuesday",
            Self::Wed => "Wednesday",
            Self::Thu => "Thursday",
            Self::Fri => "Friday",
            Self::Sat => "Saturday",
            Self::Sun => "Sunday",
        }
    }
}

impl WeekOfMonth {
    fn ordinal_word(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Second => "second",
            Self::Third => "third",
            Self::Fourth => "fourth",
            Self::Last => "last",
        }
    }
}

impl Recurrence {
    /// A short English description such as "Every 2 weeks on Mon, Fri".
    #[must_use]
    pub fn description(&self) -> String {
        let unit = match self.frequency {
            Frequency::Daily => "day",
            Frequency::Weekly => "week",
            Frequency::Monthly => "month",
            Frequency::Yearly => "year",
        };
        let mut head = match self.interval {
            1 => format!("Every {unit}"),
            n => format!("Every {n} {unit}s"),
        };
        if !self.weekdays.is_empty() {
            let days: Vec<&str> = self.weekdays.iter().map(|day| day.short_name()).collect();
            head = format!("{head} on {}", days.join(", "));
        }
        if let Some(nth) = self.nth_weekday {
            head = format!("{head} on the {} {}", nth.week.ordinal_word(), nth.weekday.long_name());
        }
        let mut parts = vec![head];
        match self.end {
            End::Never => {}
            End::Until(until) => parts.push(format!("until {until}")),
            End::Count(1) => parts.push("once".to_owned()),
            End::Count(count) => parts.push(format!("{count} times")),
        }
        if self.basis == Basis::Completion {
            parts.push("counted from completion".to_owned());
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::recurrence::test_support::rule;
    use serde_json::json;

    #[test]
    fn descriptions_read_as_plain_english() {
        let cases = [
            (json!({ "frequency": "daily" }), "Every day"),
            (
                json!({ "frequency": "weekly", "interval": 2, "weekdays": ["fri", "mon"] }),
                "Every 2 weeks on Mon, Fri",
            ),
            (
                json!({ "frequency": "monthly", "nthWeekday": { "week": -1, "weekday": "fri" } }),
                "Every month on the last Friday",
            ),
            (json!({ "frequency": "yearly", "count": 1 }), "Every year, once"),
            (
                json!({ "frequency": "daily", "interval": 3, "count": 10, "basis": "completion" }),
                "Every 3 days, 10 times, counted from completion",
            ),
            (json!({ "frequency": "monthly", "until": "2027-06-30" }), "Every month, until 2027-06-30"),
        ];
        for (wire, expected) in cases {
            assert_eq!(rule(wire).description(), expected);
        }
    }
}
