//! The stored form of a rule: RFC 5545 RRULE text.

use chrono::NaiveDate;

use super::{Basis, End, Frequency, NthWeekdayInput, Recurrence, RecurrenceInput, Weekday};

impl Frequency {
    fn rrule_name(self) -> &'static str {
        match self {
            Self::Daily => "DAILY",
            Self::Weekly => "WEEKLY",
            Self::Monthly => "MONTHLY",
            Self::Yearly => "YEARLY",
        }
    }
}

impl Weekday {
    fn rrule_code(self) -> &'static str {
        match self {
            Self::Mon => "MO",
            Self::Tue => "TU",
            Self::Wed => "WE",
            Self::Thu => "TH",
            Self::Fri => "FR",
            Self::Sat => "SA",
            Self::Sun => "SU",
        }
    }
}

impl Recurrence {
    /// The RFC 5545 RRULE value (without the `RRULE:` property name) stored in the database.
    /// The basis is not part of it.
    #[must_use]
    pub fn to_rrule(&self) -> String {
        let mut parts = vec![format!("FREQ={}", self.frequency.rrule_name())];
        if self.interval != 1 {
            parts.push(format!("INTERVAL={}", self.interval));
        }
        if !self.weekdays.is_empty() {
            let days: Vec<&str> = self.weekdays.iter().map(|day| day.rrule_code()).collect();
            parts.push(format!("BYDAY={}", days.join(",")));
        }
        if let Some(nth) = self.nth_weekday {
            parts.push(format!("BYDAY={}{}", nth.week.number(), nth.weekday.rrule_code()));
        }
        match self.end {
            End::Never => {}
            // A DATE rather than a DATE-TIME: the end is a day on the user's calendar, and a
            // UTC instant would shift it whenever the user's time zone changes.
            End::Until(until) => parts.push(format!("UNTIL={}", until.format("%Y%m%d"))),
            End::Count(count) => parts.push(format!("COUNT={count}")),
        }
        parts.join(";")
    }

    /// Parses what [`Recurrence::to_rrule`] writes. Parts may come in any order and names in any
    /// case; an explicit `INTERVAL=1`, a `WKST=MO` and an `RRULE:` prefix are accepted. Anything
    /// this module cannot represent is an error rather than silently dropped, because dropping a
    /// part would change when tasks fall due.
    ///
    /// # Errors
    ///
    /// A description of what is wrong with the text, for logs: a stored rule that does not parse
    /// is a bug or a manual edit, never user input.
    pub fn from_rrule(rrule: &str, basis: Basis) -> Result<Self, String> {
        let text = rrule.trim();
        let text = text
            .get(..6)
            .filter(|prefix| prefix.eq_ignore_ascii_case("RRULE:"))
            .and_then(|_| text.get(6..))
            .unwrap_or(text);

        let mut frequency = None;
        let mut interval = None;
        let mut byday = None;
        let mut until = None;
        let mut count = None;
        let mut week_start = None;
        for part in text.split(';').map(str::trim).filter(|part| !part.is_empty()) {
            let (name, value) =
                part.split_once('=').ok_or_else(|| format!("RRULE part `{part}` is not NAME=VALUE"))?;
            let name = name.trim().to_ascii_uppercase();
            let value = value.trim();
            match name.as_str() {
                "FREQ" => set_once(&mut frequency, &name, parse_frequency(value)?)?,
                "INTERVAL" => set_once(&mut interval, &name, parse_rrule_number(&name, value)?)?,
                "BYDAY" => set_once(&mut byday, &name, parse_byday(value)?)?,
                "UNTIL" => set_once(&mut until, &name, parse_rrule_date(value)?)?,
                "COUNT" => set_once(&mut count, &name, parse_rrule_number(&name, value)?)?,
                "WKST" => {
                    if !value.eq_ignore_ascii_case("MO") {
                        return Err(format!("WKST={value} is not supported; weeks start on MO"));
                    }
                    set_once(&mut week_start, &name, ())?;
                }
                _ => return Err(format!("RRULE part {name} is not supported")),
            }
        }

        let frequency = frequency.ok_or("RRULE has no FREQ")?;
        let (weekdays, nth_weekday) = match byday {
            None => (None, None),
            Some(ByDay::Days(days)) => (Some(days), None),
            Some(ByDay::Nth(nth)) => (None, Some(nth)),
        };
        let input =
            RecurrenceInput { frequency, interval, weekdays, nth_weekday, until, count, basis: Some(basis) };
        Self::parse(input).map_err(|errors| {
            let problems: Vec<String> =
                errors.iter().map(|error| format!("{} {}", error.field, error.message)).collect();
            format!("invalid RRULE `{rrule}`: {}", problems.join("; "))
        })
    }
}

enum ByDay {
    Days(Vec<Weekday>),
    Nth(NthWeekdayInput),
}

fn set_once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), String> {
    if slot.replace(value).is_some() {
        return Err(format!("RRULE part {name} appears more than once"));
    }
    Ok(())
}

fn parse_frequency(value: &str) -> Result<Frequency, String> {
    Frequency::ALL
        .into_iter()
        .find(|frequency| frequency.rrule_name().eq_ignore_ascii_case(value))
        .ok_or_else(|| format!("FREQ={value} is not supported"))
}

/// Digits only: the RRULE grammar has no sign here. Range checks are left to
/// [`Recurrence::parse`] so both paths share one set of limits.
fn parse_rrule_number(name: &str, value: &str) -> Result<i64, String> {
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("{name}={value} is not a number"));
    }
    value.parse().map_err(|_| format!("{name}={value} is out of range"))
}

fn parse_rrule_date(value: &str) -> Result<NaiveDate, String> {
    let invalid = || format!("UNTIL={value} is not a date in the form YYYYMMDD");
    if value.len() != 8 || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| value.get(range).and_then(|s| s.parse().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(4..6), number(6..8)) else {
        return Err(invalid());
    };
    let year = i32::try_from(year).map_err(|_| invalid())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(invalid)
}

fn parse_weekday_code(code: &str) -> Option<Weekday> {
    Weekday::ALL.into_iter().find(|day| day.rrule_code().eq_ignore_ascii_case(code))
}

/// Either a plain list of days (weekly) or a single day with a week number (monthly).
fn parse_byday(value: &str) -> Result<ByDay, String> {
    let invalid = || format!("BYDAY={value} is not supported");
    let mut days = Vec::new();
    let mut nth = None;
    for item in value.split(',').map(str::trim) {
        let code_start = item.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(invalid)?;
        let (ordinal, code) = item.split_at(code_start);
        let weekday = parse_weekday_code(code).ok_or_else(invalid)?;
        if ordinal.is_empty() {
            days.push(weekday);
        } else {
            let week: i64 = ordinal.parse().map_err(|_| invalid())?;
            if nth.replace(NthWeekdayInput { week, weekday }).is_some() {
                return Err(invalid());
            }
        }
    }
    match nth {
        None => Ok(ByDay::Days(days)),
        Some(nth) if days.is_empty() => Ok(ByDay::Nth(nth)),
        Some(_) => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::recurrence::test_support::{rule, valid_rule};
    use crate::domain::recurrence::{Basis, Recurrence};
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn rrule_text_matches_the_documented_examples() {
        let cases = [
            (
                json!({ "frequency": "weekly", "interval": 2, "weekdays": ["fri", "mon"] }),
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR",
            ),
            (
                json!({ "frequency": "monthly", "nthWeekday": { "week": -1, "weekday": "fri" } }),
                "FREQ=MONTHLY;BYDAY=-1FR",
            ),
            (
                json!({ "frequency": "monthly", "nthWeekday": { "week": 2, "weekday": "tue" } }),
                "FREQ=MONTHLY;BYDAY=2TU",
            ),
            (json!({ "frequency": "daily", "count": 10 }), "FREQ=DAILY;COUNT=10"),
            (json!({ "frequency": "yearly", "until": "2027-06-30" }), "FREQ=YEARLY;UNTIL=20270630"),
        ];
        for (wire, expected) in cases {
            let parsed = rule(wire);
            assert_eq!(parsed.to_rrule(), expected);
            assert_eq!(Recurrence::from_rrule(expected, parsed.basis()), Ok(parsed));
        }
    }

    #[test]
    fn from_rrule_takes_the_basis_from_its_own_column() {
        let parsed = Recurrence::from_rrule("FREQ=DAILY", Basis::Completion);
        assert_eq!(parsed.map(|r| r.basis()), Ok(Basis::Completion));
    }

    #[test]
    fn from_rrule_accepts_equivalent_spellings() {
        let expected = rule(json!({
            "frequency": "weekly", "interval": 3, "weekdays": ["mon", "fri"], "count": 4
        }));
        for text in [
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR;COUNT=4",
            "COUNT=4;BYDAY=FR,MO;FREQ=WEEKLY;INTERVAL=3",
            "RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR;COUNT=4;WKST=MO",
            "freq=weekly;interval=3;byday=mo,fr;count=4;",
        ] {
            assert_eq!(Recurrence::from_rrule(text, Basis::DueDate), Ok(expected.clone()), "{text}");
        }
        let explicit_interval = Recurrence::from_rrule("FREQ=MONTHLY;INTERVAL=1;BYDAY=+2TU", Basis::DueDate);
        assert_eq!(explicit_interval.map(|r| r.to_rrule()), Ok("FREQ=MONTHLY;BYDAY=2TU".to_owned()));
    }

    #[test]
    fn from_rrule_rejects_what_it_cannot_represent() {
        for text in [
            "",
            "INTERVAL=2",
            "FREQ=HOURLY",
            "FREQ=DAILY;FREQ=WEEKLY",
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=DAILY;INTERVAL=-2",
            "FREQ=DAILY;INTERVAL=x",
            "FREQ=MONTHLY;BYMONTHDAY=15",
            "FREQ=WEEKLY;WKST=SU",
            "FREQ=WEEKLY;BYDAY=MO,MO",
            "FREQ=WEEKLY;BYDAY=2MO",
            "FREQ=MONTHLY;BYDAY=5TU",
            "FREQ=MONTHLY;BYDAY=2TU,3TU",
            "FREQ=MONTHLY;BYDAY=2TU,FR",
            "FREQ=DAILY;BYDAY=MO",
            "FREQ=DAILY;UNTIL=20270630T000000Z",
            "FREQ=DAILY;UNTIL=20270230",
            "FREQ=DAILY;UNTIL=20270630;COUNT=3",
            "FREQ=DAILY;COUNT=99999999999999999999",
            "FREQ",
        ] {
            assert!(Recurrence::from_rrule(text, Basis::DueDate).is_err(), "{text}");
        }
    }

    proptest! {
        #[test]
        fn rrule_round_trip_is_lossless(rule in valid_rule()) {
            prop_assert_eq!(Recurrence::from_rrule(&rule.to_rrule(), rule.basis()), Ok(rule));
        }
    }
}
