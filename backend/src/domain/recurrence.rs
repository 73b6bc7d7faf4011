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

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Days, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldError;

/// The largest accepted `interval`.
pub const MAX_INTERVAL: u32 = 999;
/// The largest accepted `count`.
pub const MAX_COUNT: u32 = 1000;

/// How often a task repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Frequency {
    const ALL: [Self; 4] = [Self::Daily, Self::Weekly, Self::Monthly, Self::Yearly];

    fn rrule_name(self) -> &'static str {
        match self {
            Self::Daily => "DAILY",
            Self::Weekly => "WEEKLY",
            Self::Monthly => "MONTHLY",
            Self::Yearly => "YEARLY",
        }
    }
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

    fn days_from_monday(self) -> u32 {
        chrono::Weekday::from(self).num_days_from_monday()
    }

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

/// The local calendar date of a due instant. Together with the series id it identifies an
/// occurrence, so a retried completion cannot create the next task twice.
pub fn occurrence_date(due: DateTime<Utc>, tz: Tz) -> NaiveDate {
    due.with_timezone(&tz).date_naive()
}

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
            Some(nth) => match WeekOfMonth::from_number(nth.week) {
                Some(week) => Some(NthWeekday { week, weekday: nth.weekday }),
                None => {
                    errors.push(FieldError::new(
                        "recurrence.nthWeekday.week",
                        "must be 1, 2, 3, 4, or -1 for the last week of the month",
                    ));
                    None
                }
            },
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

    pub fn frequency(&self) -> Frequency {
        self.frequency
    }

    /// Every this many periods; 1 to [`MAX_INTERVAL`].
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// The chosen weekdays of a weekly rule, Monday first; empty when the rule repeats on the
    /// weekday of the due date (and always for other frequencies).
    pub fn weekdays(&self) -> &[Weekday] {
        &self.weekdays
    }

    pub fn nth_weekday(&self) -> Option<NthWeekday> {
        self.nth_weekday
    }

    /// Last local date (inclusive) a task of the series may be due on.
    pub fn until(&self) -> Option<NaiveDate> {
        match self.end {
            End::Until(until) => Some(until),
            End::Never | End::Count(_) => None,
        }
    }

    /// Total number of tasks in the series, the first included.
    pub fn count(&self) -> Option<u32> {
        match self.end {
            End::Count(count) => Some(count),
            End::Never | End::Until(_) => None,
        }
    }

    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The RFC 5545 RRULE value (without the `RRULE:` property name) stored in the database.
    /// The basis is not part of it.
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

    /// When the task after the one described by `ctx` is due, or `None` when the series ends.
    ///
    /// With [`Basis::DueDate`] this is one step from the due date even if that is still in the
    /// past, so a user who falls behind sees the next task as overdue rather than skipped.
    pub fn next_due(&self, ctx: &Occurrence) -> Option<DateTime<Utc>> {
        if let End::Count(count) = self.end
            && ctx.number >= count
        {
            return None;
        }
        let due = intended_local_due(ctx);
        let time_of_day = due.time();
        let intent = ctx.series_start.with_timezone(&ctx.tz).date_naive();
        let mut date = match self.basis {
            Basis::DueDate => due.date(),
            Basis::Completion => ctx.completed_at.with_timezone(&ctx.tz).date_naive(),
        };
        // Each step moves to a later date, so the first step normally lands after the
        // completion; the bound only guards against a time zone table doing something no
        // real one does.
        for _ in 0..MAX_STEPS {
            date = self.step(date, intent)?;
            if let End::Until(until) = self.end
                && date > until
            {
                return None;
            }
            let next = resolve_local(date.and_time(time_of_day), ctx.tz)?;
            if self.basis == Basis::DueDate || next > ctx.completed_at {
                return Some(next);
            }
        }
        None
    }

    /// The next date of the rule strictly after `from`. `None` only when the calendar runs out.
    fn step(&self, from: NaiveDate, intent: NaiveDate) -> Option<NaiveDate> {
        let periods = u64::from(self.interval);
        match self.frequency {
            Frequency::Daily => from.checked_add_days(Days::new(periods)),
            Frequency::Weekly => {
                let Some(first_chosen) = self.weekdays.first() else {
                    return from.checked_add_days(Days::new(7 * periods));
                };
                let today = from.weekday().num_days_from_monday();
                let later_this_week =
                    self.weekdays.iter().map(|day| day.days_from_monday()).find(|&day| day > today);
                match later_this_week {
                    Some(day) => from.checked_add_days(Days::new(u64::from(day - today))),
                    None => {
                        let monday = from.checked_sub_days(Days::new(u64::from(today)))?;
                        let offset = 7 * periods + u64::from(first_chosen.days_from_monday());
                        monday.checked_add_days(Days::new(offset))
                    }
                }
            }
            Frequency::Monthly => {
                let (year, month) = add_months(from.year(), from.month(), self.interval)?;
                match self.nth_weekday {
                    None => clamped_date(year, month, intent.day()),
                    Some(nth) => nth_weekday_of_month(year, month, nth),
                }
            }
            Frequency::Yearly => {
                let year = from.year().checked_add(i32::try_from(self.interval).ok()?)?;
                clamped_date(year, intent.month(), intent.day())
            }
        }
    }

    /// A short English description such as "Every 2 weeks on Mon, Fri".
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

const MAX_STEPS: usize = 1000;

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

/// The year and month `months` months after the given one.
fn add_months(year: i32, month: u32, months: u32) -> Option<(i32, u32)> {
    let index = i64::from(year) * 12 + i64::from(month) - 1 + i64::from(months);
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    Some((year, month))
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (next_year, next_month) = add_months(year, month, 1)?;
    NaiveDate::from_ymd_opt(next_year, next_month, 1)?.pred_opt()
}

/// The given day of the month, or the month's last day when it is shorter.
fn clamped_date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let last = last_day_of_month(year, month)?;
    NaiveDate::from_ymd_opt(year, month, day.min(last.day()))
}

fn nth_weekday_of_month(year: i32, month: u32, nth: NthWeekday) -> Option<NaiveDate> {
    let target = nth.weekday.days_from_monday();
    let first_to_fourth = |weeks_before: u32| {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let to_target = (target + 7 - first.weekday().num_days_from_monday()) % 7;
        first.checked_add_days(Days::new(u64::from(to_target + 7 * weeks_before)))
    };
    match nth.week {
        WeekOfMonth::First => first_to_fourth(0),
        WeekOfMonth::Second => first_to_fourth(1),
        WeekOfMonth::Third => first_to_fourth(2),
        WeekOfMonth::Fourth => first_to_fourth(3),
        WeekOfMonth::Last => {
            let last = last_day_of_month(year, month)?;
            let back = (last.weekday().num_days_from_monday() + 7 - target) % 7;
            last.checked_sub_days(Days::new(u64::from(back)))
        }
    }
}

/// The local date and wall-clock time the task being completed was meant to be due at. That is
/// the due's own, except when a spring-forward gap pushed it off the series' time of day (02:30
/// became 03:30): then the series' time, or every later task would stay an hour late. A due
/// that differs from the series for any other reason was edited by the user, and the edit wins.
fn intended_local_due(ctx: &Occurrence) -> NaiveDateTime {
    let due = ctx.due.with_timezone(&ctx.tz).naive_local();
    let series_time = ctx.series_start.with_timezone(&ctx.tz).time();
    if due.time() == series_time {
        return due;
    }
    // A gap that straddles midnight pushes the due onto the next day.
    [Some(due.date()), due.date().pred_opt()]
        .into_iter()
        .flatten()
        .map(|date| date.and_time(series_time))
        .find(|intended| {
            ctx.tz.from_local_datetime(intended).earliest().is_none()
                && resolve_local(*intended, ctx.tz) == Some(ctx.due)
        })
        .unwrap_or(due)
}

/// The instant a local wall-clock time names. A time skipped by a spring-forward gap is read
/// with the offset from before the gap, which moves it forward by the gap's length (02:30 in a
/// one-hour gap becomes 03:30): the task keeps its distance from the surrounding hours instead of
/// collapsing onto the end of the gap. A time repeated by a fall-back takes its first instance,
/// so the task is not due an hour later than the user expects.
fn resolve_local(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        MappedLocalTime::Single(instant) => Some(instant.with_timezone(&Utc)),
        MappedLocalTime::Ambiguous(first, second) => Some(first.min(second).with_timezone(&Utc)),
        MappedLocalTime::None => {
            // Read as UTC and moved back a day, the local time is earlier than any transition
            // that could have skipped it, because no offset reaches 24 hours.
            let probe = local.and_utc().checked_sub_signed(TimeDelta::days(1))?;
            let before_gap = tz.offset_from_utc_datetime(&probe.naive_utc()).fix();
            Some(local.checked_sub_offset(before_gap)?.and_utc())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn input(value: serde_json::Value) -> RecurrenceInput {
        serde_json::from_value(value).expect("test input is well-formed JSON")
    }

    fn rule(value: serde_json::Value) -> Recurrence {
        Recurrence::parse(input(value)).expect("test rule is valid")
    }

    fn errors(value: serde_json::Value) -> Vec<(String, String)> {
        match Recurrence::parse(input(value)) {
            Ok(parsed) => panic!("expected errors, got {parsed:?}"),
            Err(errors) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
        }
    }

    fn error(field: &str, message: &str) -> (String, String) {
        (field.to_owned(), message.to_owned())
    }

    fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("test time exists exactly once")
            .with_timezone(&Utc)
    }

    fn show(instant: Option<DateTime<Utc>>, tz: Tz) -> String {
        match instant {
            Some(instant) => instant.with_timezone(&tz).format("%Y-%m-%d %a %H:%M %Z").to_string(),
            None => "end".to_owned(),
        }
    }

    /// Due dates of the tasks after the first when each is completed on time.
    fn series(rule: &Recurrence, tz: Tz, start: DateTime<Utc>, tasks: u32) -> Vec<String> {
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

    fn completed(rule: &Recurrence, tz: Tz, due: DateTime<Utc>, completed_at: DateTime<Utc>) -> String {
        let ctx = Occurrence { series_start: due, due, completed_at, number: 1, tz };
        show(rule.next_due(&ctx), tz)
    }

    const UTC: Tz = chrono_tz::UTC;
    const NEW_YORK: Tz = chrono_tz::America::New_York;
    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    // --- parsing ---

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

    // --- RRULE ---

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

    // --- next due date ---

    #[test]
    fn daily_steps_interval_days_keeping_the_time_of_day() {
        let every_3_days = rule(json!({ "frequency": "daily", "interval": 3 }));
        assert_eq!(
            series(&every_3_days, UTC, at(UTC, 2026, 2, 26, 9, 0), 3),
            ["2026-03-01 Sun 09:00 UTC", "2026-03-04 Wed 09:00 UTC"]
        );
    }

    #[test]
    fn due_date_basis_steps_once_even_when_the_next_date_is_already_overdue() {
        let daily = rule(json!({ "frequency": "daily" }));
        let due = at(UTC, 2026, 1, 1, 9, 0);
        assert_eq!(completed(&daily, UTC, due, at(UTC, 2026, 1, 20, 18, 0)), "2026-01-02 Fri 09:00 UTC");
    }

    #[test]
    fn weekly_without_weekdays_steps_whole_weeks() {
        let fortnightly = rule(json!({ "frequency": "weekly", "interval": 2 }));
        assert_eq!(
            series(&fortnightly, UTC, at(UTC, 2026, 3, 4, 9, 0), 3),
            ["2026-03-18 Wed 09:00 UTC", "2026-04-01 Wed 09:00 UTC"]
        );
    }

    #[test]
    fn weekly_with_weekdays_moves_to_the_next_chosen_day_of_the_same_week() {
        let mon_wed_fri = rule(json!({ "frequency": "weekly", "weekdays": ["mon", "wed", "fri"] }));
        assert_eq!(
            series(&mon_wed_fri, UTC, at(UTC, 2026, 3, 2, 9, 0), 5),
            [
                "2026-03-04 Wed 09:00 UTC",
                "2026-03-06 Fri 09:00 UTC",
                "2026-03-09 Mon 09:00 UTC",
                "2026-03-11 Wed 09:00 UTC"
            ]
        );
    }

    #[test]
    fn weekly_every_2_weeks_skips_a_week_after_the_last_chosen_day() {
        let rule = rule(json!({ "frequency": "weekly", "interval": 2, "weekdays": ["mon", "fri"] }));
        assert_eq!(
            series(&rule, UTC, at(UTC, 2026, 3, 2, 9, 0), 5),
            [
                "2026-03-06 Fri 09:00 UTC",
                "2026-03-16 Mon 09:00 UTC",
                "2026-03-20 Fri 09:00 UTC",
                "2026-03-30 Mon 09:00 UTC"
            ]
        );
    }

    #[test]
    fn weekly_from_a_day_that_is_not_chosen_moves_to_the_next_chosen_one() {
        let rule = rule(json!({ "frequency": "weekly", "interval": 2, "weekdays": ["tue"] }));
        // Sunday ends the week, so the next Tuesday counted is the one two weeks on.
        assert_eq!(series(&rule, UTC, at(UTC, 2026, 3, 1, 9, 0), 2), ["2026-03-10 Tue 09:00 UTC"]);
        assert_eq!(series(&rule, UTC, at(UTC, 2026, 3, 2, 9, 0), 2), ["2026-03-03 Tue 09:00 UTC"]);
    }

    #[test]
    fn monthly_on_the_31st_clamps_to_the_end_of_february_and_returns_to_the_31st() {
        let monthly = rule(json!({ "frequency": "monthly" }));
        assert_eq!(
            series(&monthly, UTC, at(UTC, 2027, 1, 31, 9, 0), 5),
            [
                "2027-02-28 Sun 09:00 UTC",
                "2027-03-31 Wed 09:00 UTC",
                "2027-04-30 Fri 09:00 UTC",
                "2027-05-31 Mon 09:00 UTC"
            ]
        );
    }

    #[test]
    fn monthly_on_the_31st_clamps_to_february_29_in_a_leap_year() {
        let monthly = rule(json!({ "frequency": "monthly" }));
        assert_eq!(
            series(&monthly, UTC, at(UTC, 2028, 1, 31, 9, 0), 3),
            ["2028-02-29 Tue 09:00 UTC", "2028-03-31 Fri 09:00 UTC"]
        );
    }

    #[test]
    fn monthly_every_3_months_crosses_the_year_end() {
        let quarterly = rule(json!({ "frequency": "monthly", "interval": 3 }));
        assert_eq!(
            series(&quarterly, UTC, at(UTC, 2026, 11, 30, 9, 0), 3),
            ["2027-02-28 Sun 09:00 UTC", "2027-05-30 Sun 09:00 UTC"]
        );
    }

    #[test]
    fn monthly_on_the_second_tuesday() {
        let rule = rule(json!({
            "frequency": "monthly", "nthWeekday": { "week": 2, "weekday": "tue" }
        }));
        assert_eq!(
            series(&rule, UTC, at(UTC, 2026, 1, 13, 9, 0), 4),
            ["2026-02-10 Tue 09:00 UTC", "2026-03-10 Tue 09:00 UTC", "2026-04-14 Tue 09:00 UTC"]
        );
    }

    #[test]
    fn monthly_on_the_last_friday() {
        let rule = rule(json!({
            "frequency": "monthly", "nthWeekday": { "week": -1, "weekday": "fri" }
        }));
        assert_eq!(
            series(&rule, UTC, at(UTC, 2026, 1, 30, 9, 0), 4),
            ["2026-02-27 Fri 09:00 UTC", "2026-03-27 Fri 09:00 UTC", "2026-04-24 Fri 09:00 UTC"]
        );
    }

    #[test]
    fn monthly_nth_weekday_from_completion_counts_from_the_completion_month() {
        let rule = rule(json!({
            "frequency": "monthly", "basis": "completion",
            "nthWeekday": { "week": 1, "weekday": "mon" }
        }));
        let due = at(UTC, 2026, 1, 5, 9, 0);
        assert_eq!(completed(&rule, UTC, due, at(UTC, 2026, 2, 20, 12, 0)), "2026-03-02 Mon 09:00 UTC");
    }

    #[test]
    fn yearly_on_february_29_clamps_to_february_28_and_returns_in_leap_years() {
        let yearly = rule(json!({ "frequency": "yearly" }));
        assert_eq!(
            series(&yearly, UTC, at(UTC, 2024, 2, 29, 9, 0), 5),
            [
                "2025-02-28 Fri 09:00 UTC",
                "2026-02-28 Sat 09:00 UTC",
                "2027-02-28 Sun 09:00 UTC",
                "2028-02-29 Tue 09:00 UTC"
            ]
        );
    }

    #[test]
    fn completion_basis_counts_from_the_completion_date_keeping_the_due_time() {
        let every_3_days = rule(json!({ "frequency": "daily", "interval": 3, "basis": "completion" }));
        let due = at(UTC, 2026, 3, 2, 9, 0);
        assert_eq!(
            completed(&every_3_days, UTC, due, at(UTC, 2026, 3, 10, 22, 0)),
            "2026-03-13 Fri 09:00 UTC"
        );
        // Early completion pulls the next task earlier too.
        assert_eq!(
            completed(&every_3_days, UTC, due, at(UTC, 2026, 2, 27, 7, 0)),
            "2026-03-02 Mon 09:00 UTC"
        );
    }

    #[test]
    fn completion_basis_uses_the_completion_date_in_the_users_time_zone() {
        let daily = rule(json!({ "frequency": "daily", "basis": "completion" }));
        let due = at(NEW_YORK, 2026, 6, 1, 9, 0);
        // 23:30 in New York is already the next day in UTC.
        let completed_at = at(NEW_YORK, 2026, 6, 3, 23, 30);
        assert_eq!(completed(&daily, NEW_YORK, due, completed_at), "2026-06-04 Thu 09:00 EDT");
    }

    #[test]
    fn completion_basis_weekly_with_weekdays_uses_the_completion_week() {
        let rule = rule(json!({
            "frequency": "weekly", "interval": 2, "weekdays": ["mon", "thu"], "basis": "completion"
        }));
        let due = at(UTC, 2026, 3, 2, 9, 0);
        assert_eq!(completed(&rule, UTC, due, at(UTC, 2026, 3, 10, 8, 0)), "2026-03-12 Thu 09:00 UTC");
        assert_eq!(completed(&rule, UTC, due, at(UTC, 2026, 3, 13, 8, 0)), "2026-03-23 Mon 09:00 UTC");
    }

    #[test]
    fn completion_basis_monthly_keeps_the_series_day_of_month() {
        let monthly = rule(json!({ "frequency": "monthly", "basis": "completion" }));
        let start = at(UTC, 2026, 1, 31, 9, 0);
        let ctx = Occurrence {
            series_start: start,
            due: at(UTC, 2026, 2, 28, 9, 0),
            completed_at: at(UTC, 2026, 3, 3, 9, 0),
            number: 2,
            tz: UTC,
        };
        assert_eq!(show(monthly.next_due(&ctx), UTC), "2026-04-30 Thu 09:00 UTC");
    }

    #[test]
    fn until_is_inclusive_and_ends_the_series_after_it() {
        let daily = rule(json!({ "frequency": "daily", "interval": 2, "until": "2026-03-05" }));
        assert_eq!(
            series(&daily, UTC, at(UTC, 2026, 3, 1, 9, 0), 4),
            ["2026-03-03 Tue 09:00 UTC", "2026-03-05 Thu 09:00 UTC", "end"]
        );
    }

    #[test]
    fn until_compares_local_dates_not_utc_dates() {
        let daily = rule(json!({ "frequency": "daily", "until": "2026-06-02" }));
        // 22:00 in New York on the 2nd is already the 3rd in UTC, yet still within `until`.
        assert_eq!(
            series(&daily, NEW_YORK, at(NEW_YORK, 2026, 6, 1, 22, 0), 3),
            ["2026-06-02 Tue 22:00 EDT", "end"]
        );
    }

    #[test]
    fn count_ends_the_series_after_the_last_occurrence() {
        let three_times = rule(json!({ "frequency": "weekly", "count": 3 }));
        assert_eq!(
            series(&three_times, UTC, at(UTC, 2026, 3, 2, 9, 0), 4),
            ["2026-03-09 Mon 09:00 UTC", "2026-03-16 Mon 09:00 UTC", "end"]
        );
        let once = rule(json!({ "frequency": "daily", "count": 1 }));
        assert_eq!(series(&once, UTC, at(UTC, 2026, 3, 2, 9, 0), 2), ["end"]);
    }

    #[test]
    fn a_nine_am_task_stays_at_nine_across_the_march_change_in_new_york() {
        let daily = rule(json!({ "frequency": "daily" }));
        assert_eq!(
            series(&daily, NEW_YORK, at(NEW_YORK, 2026, 3, 7, 9, 0), 3),
            ["2026-03-08 Sun 09:00 EDT", "2026-03-09 Mon 09:00 EDT"]
        );
        let first = at(NEW_YORK, 2026, 3, 7, 9, 0);
        let ctx =
            Occurrence { series_start: first, due: first, completed_at: first, number: 1, tz: NEW_YORK };
        let gap = daily.next_due(&ctx).map(|next| next - first);
        assert_eq!(gap, Some(TimeDelta::hours(23)));
    }

    #[test]
    fn a_nine_am_task_stays_at_nine_across_the_november_change_in_new_york() {
        let weekly = rule(json!({ "frequency": "weekly" }));
        assert_eq!(
            series(&weekly, NEW_YORK, at(NEW_YORK, 2026, 10, 28, 9, 0), 3),
            ["2026-11-04 Wed 09:00 EST", "2026-11-11 Wed 09:00 EST"]
        );
    }

    #[test]
    fn a_task_at_0230_moves_forward_by_the_gap_on_the_spring_forward_day_only() {
        let daily = rule(json!({ "frequency": "daily" }));
        assert_eq!(
            series(&daily, NEW_YORK, at(NEW_YORK, 2026, 3, 7, 2, 30), 4),
            ["2026-03-08 Sun 03:30 EDT", "2026-03-09 Mon 02:30 EDT", "2026-03-10 Tue 02:30 EDT"]
        );
    }

    #[test]
    fn a_due_time_edited_by_the_user_is_kept_for_later_tasks() {
        let daily = rule(json!({ "frequency": "daily" }));
        let ctx = Occurrence {
            series_start: at(NEW_YORK, 2026, 3, 1, 2, 30),
            due: at(NEW_YORK, 2026, 3, 7, 3, 30),
            completed_at: at(NEW_YORK, 2026, 3, 7, 4, 0),
            number: 7,
            tz: NEW_YORK,
        };
        assert_eq!(show(daily.next_due(&ctx), NEW_YORK), "2026-03-08 Sun 03:30 EDT");
    }

    #[test]
    fn a_calendar_day_skipped_by_the_time_zone_moves_the_task_a_day_later() {
        // Samoa skipped 30 December 2011 when it moved across the date line.
        let apia = chrono_tz::Pacific::Apia;
        let daily = rule(json!({ "frequency": "daily" }));
        assert_eq!(
            series(&daily, apia, at(apia, 2011, 12, 29, 9, 0), 3),
            ["2011-12-31 Sat 09:00 +14", "2012-01-01 Sun 09:00 +14"]
        );
    }

    #[test]
    fn a_task_at_0130_on_the_fall_back_night_takes_the_first_0130() {
        let daily = rule(json!({ "frequency": "daily" }));
        let next = series(&daily, NEW_YORK, at(NEW_YORK, 2026, 10, 31, 1, 30), 2);
        assert_eq!(next, ["2026-11-01 Sun 01:30 EDT"]);
    }

    #[test]
    fn berlin_tasks_keep_their_wall_clock_time_through_both_changes() {
        let weekly = rule(json!({ "frequency": "weekly", "weekdays": ["sun"] }));
        assert_eq!(
            series(&weekly, BERLIN, at(BERLIN, 2026, 3, 22, 2, 30), 3),
            ["2026-03-29 Sun 03:30 CEST", "2026-04-05 Sun 02:30 CEST"]
        );
        assert_eq!(
            series(&weekly, BERLIN, at(BERLIN, 2026, 10, 18, 2, 30), 3),
            ["2026-10-25 Sun 02:30 CEST", "2026-11-01 Sun 02:30 CET"]
        );
    }

    #[test]
    fn occurrence_date_is_the_local_calendar_date() {
        let late_evening = at(NEW_YORK, 2026, 6, 1, 22, 0);
        assert_eq!(Some(occurrence_date(late_evening, NEW_YORK)), NaiveDate::from_ymd_opt(2026, 6, 1));
        assert_eq!(Some(occurrence_date(late_evening, UTC)), NaiveDate::from_ymd_opt(2026, 6, 2));
    }

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

    // --- properties ---

    fn any_frequency() -> impl Strategy<Value = Frequency> {
        proptest::sample::select(Frequency::ALL.to_vec())
    }

    fn any_weekday() -> impl Strategy<Value = Weekday> {
        proptest::sample::select(Weekday::ALL.to_vec())
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        // 0001-01-01 to 9999-12-31, the range UNTIL can be written in.
        (1..=3_652_059i32)
            .prop_map(|days| NaiveDate::from_num_days_from_ce_opt(days).unwrap_or(NaiveDate::MIN))
    }

    /// Any input that parses, covering each optional part.
    fn valid_input() -> impl Strategy<Value = RecurrenceInput> {
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

    fn valid_rule() -> impl Strategy<Value = Recurrence> {
        valid_input().prop_map(|input| match Recurrence::parse(input) {
            Ok(rule) => rule,
            Err(errors) => panic!("generated input is invalid: {errors:?}"),
        })
    }

    fn any_tz() -> impl Strategy<Value = Tz> {
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

    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 1970 to 2100, minute resolution.
        (0..68_000_000i64)
            .prop_map(|minutes| DateTime::from_timestamp(minutes * 60, 0).unwrap_or(DateTime::UNIX_EPOCH))
    }

    fn check_wire_round_trip(rule: Recurrence) -> Result<(), TestCaseError> {
        let fail = |e: serde_json::Error| TestCaseError::fail(e.to_string());
        let json = serde_json::to_value(RecurrenceInput::from(&rule)).map_err(fail)?;
        let back: RecurrenceInput = serde_json::from_value(json).map_err(fail)?;
        prop_assert_eq!(Recurrence::parse(back), Ok(rule));
        Ok(())
    }

    fn check_next_due(rule: &Recurrence, ctx: &Occurrence) -> Result<(), TestCaseError> {
        let Some(next) = rule.next_due(ctx) else { return Ok(()) };
        let tz = ctx.tz;
        let anchor = match rule.basis() {
            Basis::DueDate => ctx.due,
            Basis::Completion => ctx.completed_at,
        };
        prop_assert!(next > anchor, "{} is not after {}", show(Some(next), tz), show(Some(anchor), tz));

        // The wall-clock time is the due's (or the series' after a gap), except on a day where
        // that time does not exist.
        let times = [ctx.due.with_timezone(&tz).time(), ctx.series_start.with_timezone(&tz).time()];
        let local = next.with_timezone(&tz).naive_local();
        if !times.contains(&local.time()) {
            let dates = [Some(local.date()), local.date().pred_opt()];
            let skipped = dates.iter().flatten().any(|date| {
                times.iter().any(|time| tz.from_local_datetime(&date.and_time(*time)).earliest().is_none())
            });
            prop_assert!(skipped, "{} lost the time {}", show(Some(next), tz), times[0]);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn rrule_round_trip_is_lossless(rule in valid_rule()) {
            prop_assert_eq!(Recurrence::from_rrule(&rule.to_rrule(), rule.basis()), Ok(rule));
        }

        #[test]
        fn wire_round_trip_is_lossless(rule in valid_rule()) {
            check_wire_round_trip(rule)?;
        }

        #[test]
        fn next_due_is_strictly_after_the_anchor_instant_at_the_due_time_of_day(
            rule in valid_rule(),
            tz in any_tz(),
            series_start in any_instant(),
            days_since_start in 0..3_000i64,
            completion_offset_minutes in -100_000..100_000i64,
            number in 1..1_200u32,
        ) {
            let due = series_start + TimeDelta::days(days_since_start);
            let completed_at = due + TimeDelta::minutes(completion_offset_minutes);
            check_next_due(&rule, &Occurrence { series_start, due, completed_at, number, tz })?;
        }
    }
}
