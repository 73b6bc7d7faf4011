//! Helpers shared by the tests of the recurrence module.

use crate::domain::recurrence::{
    Basis, Frequency, MAX_COUNT, MAX_INTERVAL, NthWeekdayInput, Occurrence, Recurrence, RecurrenceInput,
    Weekday,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

pub(super) fn input(value: serde_json::Value) -> RecurrenceInput {
    serde_json::from_value(value).expect("test input is well-formed JSON")
}

pub(super) fn rule(value: serde_json::Value) -> Recurrence {
    Recurrence::parse(input(value)).expect("test rule is valid")
}

pub(super) fn errors(value: serde_json::Value) -> Vec<(String, String)> {
    match Recurrence::parse(input(value)) {
        Ok(parsed) => panic!("expected errors, got {parsed:?}"),
        Err(errors) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
    }
}

pub(super) fn error(field: &str, message: &str) -> (String, String) {
    (field.to_owned(), message.to_owned())
}

pub(super) fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("test time exists exactly once")
        .with_timezone(&Utc)
}

pub(super) fn show(instant: Option<DateTime<Utc>>, tz: Tz) -> String {
    match instant {
        Some(instant) => instant.with_timezone(&tz).format("%Y-%m-%d %a %H:%M %Z").to_string(),
        None => "end".to_owned(),
    }
}

/// Due dates of the tasks after the first when each is completed on time.
pub(super) fn series(rule: &Recurrence, tz: Tz, start: DateTime<Utc>, tasks: u32) -> Vec<String> {
    let mut due = start;
    let mut shown = Vec::new();
    for number in 1..tasks {
        let ctx = Occurrence { series_start: start, due, completed_at: due, number, tz };
        let next = rule.next_due(&ctx);
        shown.push(show(next, tz));
        match next {
            Some(next) => due = next,
            None => break,
        }
    }
    shown
}

pub(super) fn completed(
    rule: &Recurrence,
    tz: Tz,
    due: DateTime<Utc>,
    completed_at: DateTime<Utc>,
) -> String {
    let ctx = Occurrence { series_start: due, due, completed_at, number: 1, tz };
    show(rule.next_due(&ctx), tz)
}

pub(super) const UTC: Tz = chrono_tz::UTC;

pub(super) const NEW_YORK: Tz = chrono_tz::America::New_York;

pub(super) const BERLIN: Tz = chrono_tz::Europe::Berlin;

pub(super) fn any_frequency() -> impl Strategy<Value = Frequency> {
    proptest::sample::select(vec![Frequency::Daily, Frequency::Weekly, Frequency::Monthly, Frequency::Yearly])
}

pub(super) fn any_weekday() -> impl Strategy<Value = Weekday> {
    proptest::sample::select(Weekday::ALL.to_vec())
}

pub(super) fn any_date() -> impl Strategy<Value = NaiveDate> {
    // 0001-01-01 to 9999-12-31, the range UNTIL can be written in.
    (1..=3_652_059i32).prop_map(|days| NaiveDate::from_num_days_from_ce_opt(days).unwrap_or(NaiveDate::MIN))
}

/// Any input that parses, covering each optional part.
pub(super) fn valid_input() -> impl Strategy<Value = RecurrenceInput> {
    let weekdays = proptest::sample::subsequence(Weekday::ALL.to_vec(), 0..=7).prop_shuffle();
    let week = proptest::sample::select(vec![1i64, 2, 3, 4, -1]);
    let nth = proptest::option::of((week, any_weekday()));
    let end = prop_oneof![
        Just((None, None)),
        any_date().prop_map(|date| (Some(date), None)),
        (1..=i64::from(MAX_COUNT)).prop_map(|count| (None, Some(count))),
    ];
    let basis = proptest::option::of(prop_oneof![Just(Basis::DueDate), Just(Basis::Completion)]);
    let interval = proptest::option::of(1..=i64::from(MAX_INTERVAL));
    (any_frequency(), interval, weekdays, nth, end, basis).prop_map(
        |(frequency, interval, weekdays, nth, (until, count), basis)| RecurrenceInput {
            frequency,
            interval,
            weekdays: (frequency == Frequency::Weekly && !weekdays.is_empty()).then_some(weekdays),
            nth_weekday: nth
                .filter(|_| frequency == Frequency::Monthly)
                .map(|(week, weekday)| NthWeekdayInput { week, weekday }),
            until,
            count,
            basis,
        },
    )
}

pub(super) fn valid_rule() -> impl Strategy<Value = Recurrence> {
    valid_input().prop_map(|input| match Recurrence::parse(input) {
        Ok(rule) => rule,
        Err(errors) => panic!("generated input is invalid: {errors:?}"),
    })
}

pub(super) fn any_tz() -> impl Strategy<Value = Tz> {
    proptest::sample::select(vec![
        chrono_tz::UTC,
        NEW_YORK,
        BERLIN,
        chrono_tz::Australia::Sydney,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Asia::Kolkata,
        chrono_tz::Pacific::Apia,
        chrono_tz::Pacific::Chatham,
        chrono_tz::America::Sao_Paulo,
        chrono_tz::America::St_Johns,
    ])
}

pub(super) fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 1970 to 2100, minute resolution.
    (0..68_000_000i64)
        .prop_map(|minutes| DateTime::from_timestamp(minutes * 60, 0).unwrap_or(DateTime::UNIX_EPOCH))
}
