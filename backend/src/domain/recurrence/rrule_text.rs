//! The stored form of a rule: RFC 5545 RRULE text. Writing it is ours (the crate's own text puts
//! the parts in another order and writes UNTIL as an instant); reading it is the `rrule` crate's,
//! behind checks for what the crate lets through.

use rrule::{NWeekday, RRule, Unvalidated};

use super::{Basis, End, Frequency, NthWeekdayInput, Recurrence, RecurrenceInput, Weekday};

impl Frequency {
    pub(super) fn rrule_name(self) -> &'static str {
        match self {
            Self::Daily => "DAILY",
            Self::Weekly => "WEEKLY",
            Self::Monthly => "MONTHLY",
            Self::Yearly => "YEARLY",
        }
    }
}

impl Weekday {
    pub(super) fn rrule_code(self) -> &'static str {
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
        let parsed: RRule<Unvalidated> =
            vetted(text)?.parse().map_err(|error| format!("invalid RRULE `{rrule}`: {error}"))?;
        Self::parse(wire_form(&parsed, basis)?).map_err(|errors| {
            let problems: Vec<String> =
                errors.iter().map(|error| format!("{} {}", error.field, error.message)).collect();
            format!("invalid RRULE `{rrule}`: {}", problems.join("; "))
        })
    }
}

/// The strictness the crate lacks, checked before its parser sees the text, which comes out
/// as plain `NAME=VALUE` parts without the whitespace tolerated around them. Without these
/// checks the crate would read a rule this module cannot represent as one it can, and tasks
/// would fall due on other days than the stored text says:
/// - parts other than FREQ, INTERVAL, BYDAY, UNTIL, COUNT and WKST: the crate knows BYMONTH,
///   BYSETPOS and others, and an empty one (`BYMONTH=`) leaves no trace in what it returns;
/// - a sign on INTERVAL or COUNT, which the grammar has none of but Rust's number parser takes;
/// - UNTIL as a DATE-TIME: this module's end is a day (see [`Recurrence::to_rrule`]);
/// - FREQ and WKST beyond ASCII letters: the crate upper-cases with Unicode rules, which turn
///   other letters into ASCII ones, and it would read a `:` as the end of a property name;
/// - BYDAY items, see [`vetted_byday_item`].
fn vetted(text: &str) -> Result<String, String> {
    let mut parts = Vec::new();
    for part in text.split(';').map(str::trim).filter(|part| !part.is_empty()) {
        let (name, value) =
            part.split_once('=').ok_or_else(|| format!("RRULE part `{part}` is not NAME=VALUE"))?;
        let name = name.trim().to_ascii_uppercase();
        let value = value.trim();
        let value = match name.as_str() {
            "FREQ" | "WKST" if value.bytes().all(|byte| byte.is_ascii_alphabetic()) => value.to_owned(),
            "INTERVAL" | "COUNT" if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) => {
                value.to_owned()
            }
            // Read as midnight UTC only so that the crate checks the date: a bare DATE it reads in
            // the server's own time zone. The date is taken back out in `wire_form`.
            "UNTIL" if value.len() == 8 && value.bytes().all(|byte| byte.is_ascii_digit()) => {
                format!("{value}T000000Z")
            }
            "BYDAY" => value.split(',').map(vetted_byday_item).collect::<Result<Vec<_>, _>>()?.join(","),
            "FREQ" | "WKST" | "INTERVAL" | "COUNT" | "UNTIL" => {
                return Err(format!("{name}={value} is not supported"));
            }
            _ => return Err(format!("RRULE part {name} is not supported")),
        };
        parts.push(format!("{name}={value}"));
    }
    Ok(parts.join(";"))
}

/// A BYDAY item is a two-letter day code after an optional ordinal. The crate reads an ordinal
/// it cannot parse as none at all, so `0MO`, `xMO` or `99999MO` would become "every Monday";
/// here a written ordinal must be a non-zero whole number the crate can hold (a leading `+` is
/// RFC 5545's own spelling). Checking for ASCII first also keeps the crate from slicing the text
/// inside a character, which panics.
fn vetted_byday_item(item: &str) -> Result<&str, String> {
    let item = item.trim();
    let split = item.len().checked_sub(2).filter(|_| item.is_ascii());
    let ordinal = split.and_then(|split| item.get(..split));
    match ordinal {
        Some("") => Ok(item),
        Some(ordinal) if ordinal.parse::<i16>().is_ok_and(|week| week != 0) => Ok(item),
        _ => Err(format!("BYDAY item `{item}` is not supported")),
    }
}

/// The crate's reading of the text as this module's wire form, refusing what the wire form has
/// no place for.
fn wire_form(rule: &RRule<Unvalidated>, basis: Basis) -> Result<RecurrenceInput, String> {
    let frequency = match rule.get_freq() {
        rrule::Frequency::Daily => Frequency::Daily,
        rrule::Frequency::Weekly => Frequency::Weekly,
        rrule::Frequency::Monthly => Frequency::Monthly,
        rrule::Frequency::Yearly => Frequency::Yearly,
        other => return Err(format!("FREQ={other} is not supported")),
    };
    if rule.get_week_start() != chrono::Weekday::Mon {
        return Err(format!("WKST={} is not supported; weeks start on MO", rule.get_week_start()));
    }
    let mut weekdays = Vec::new();
    let mut nth = Vec::new();
    for day in rule.get_by_weekday() {
        match *day {
            NWeekday::Every(day) => weekdays.push(Weekday::from(day)),
            NWeekday::Nth(week, day) => nth.push(NthWeekdayInput { week: week.into(), weekday: day.into() }),
        }
    }
    // One n-th weekday for a monthly rule, or plain days for a weekly one, never both.
    let nth_weekday = match nth[..] {
        [] => None,
        [one] if weekdays.is_empty() => Some(one),
        _ => return Err("BYDAY with an ordinal must be its only day".to_owned()),
    };
    Ok(RecurrenceInput {
        frequency,
        interval: Some(rule.get_interval().into()),
        weekdays: (!weekdays.is_empty()).then_some(weekdays),
        nth_weekday,
        until: rule.get_until().map(chrono::DateTime::date_naive),
        count: rule.get_count().map(i64::from),
        basis: Some(basis),
    })
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
