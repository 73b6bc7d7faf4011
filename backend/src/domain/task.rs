//! The fields of a task as parsed values: if one of these exists, it is valid.

use std::collections::HashMap;

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use events::ReminderSpec;

use super::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let title = raw.trim();
        if title.is_empty() {
            return Err(FieldError::new("title", "must not be empty"));
        }
        if title.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new("title", format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        if title.chars().any(char::is_control) {
            return Err(FieldError::new("title", "must be a single line without control characters"));
        }
        Ok(Self(title.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// How long a task is expected to take, in whole minutes: at least one, at most a day. The
/// daily plan fits estimated tasks into what is left of the working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate(u16);

impl Estimate {
    pub const MAX_MINUTES: u16 = 1440;

    pub fn parse(minutes: i64) -> Result<Self, FieldError> {
        u16::try_from(minutes).ok().filter(|m| (1..=Self::MAX_MINUTES).contains(m)).map(Self).ok_or_else(
            || FieldError::new("estimateMinutes", format!("must be between 1 and {}", Self::MAX_MINUTES)),
        )
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

/// Optional free text. Blank text means "no description", so clearing the field in a form and
/// sending `null` end up the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDescription(String);

impl TaskDescription {
    pub const MAX_CHARS: usize = 5000;

    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        if raw.trim().is_empty() {
            return Ok(None);
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "description",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Some(Self(raw.to_owned())))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Up to 20 tags of 1–50 characters, unique ignoring case, in the order the user gave them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    pub const MAX_TAGS: usize = 20;
    pub const MAX_CHARS: usize = 50;

    pub fn parse(raw: &[String]) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if raw.len() > Self::MAX_TAGS {
            errors.push(FieldError::new("tags", format!("must have at most {} tags", Self::MAX_TAGS)));
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut tags = Vec::with_capacity(raw.len());
        for (i, tag) in raw.iter().enumerate() {
            let field = format!("tags[{i}]");
            let tag = tag.trim();
            if tag.is_empty() {
                errors.push(FieldError::new(field, "must not be empty"));
            } else if tag.chars().count() > Self::MAX_CHARS {
                errors
                    .push(FieldError::new(field, format!("must be at most {} characters", Self::MAX_CHARS)));
            } else if tag.chars().any(char::is_control) {
                errors.push(FieldError::new(field, "must not contain control characters"));
            } else if let Some(first) = seen.insert(Self::key(tag), i) {
                errors.push(FieldError::new(field, format!("repeats tags[{first}] (tags ignore case)")));
            } else {
                tags.push(tag.to_owned());
            }
        }
        if errors.is_empty() { Ok(Self(tags)) } else { Err(errors) }
    }

    /// The case-folded form stored beside each tag for filtering.
    pub fn key(tag: &str) -> String {
        tag.to_lowercase()
    }

    /// Whether two tags are the same tag: tags ignore case.
    pub fn same(a: &str, b: &str) -> bool {
        Self::key(a) == Self::key(b)
    }

    pub fn keys(&self) -> Vec<String> {
        self.0.iter().map(|t| Self::key(t)).collect()
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

/// Parses a due time: an RFC 3339 instant, or a calendar date alone meaning the end of that
/// day in the user's time zone (what people mean by "due Friday").
pub fn parse_due(field: &str, raw: &str, tz: Tz) -> Result<DateTime<Utc>, FieldError> {
    match DateInput::parse(raw) {
        Some(DateInput::Instant(at)) => in_supported_range(field, at),
        Some(DateInput::Date(date)) => in_supported_range(field, end_of_day(date, tz)),
        None => Err(FieldError::new(
            field,
            "must be an RFC 3339 date-time (2026-12-01T17:00:00+01:00) or a date (2026-12-01)",
        )),
    }
}

/// A point in time as the API takes it: an RFC 3339 instant, or a calendar date alone, whose
/// instant the caller picks (a due date is the end of that day, a list bound its start or end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateInput {
    Instant(DateTime<Utc>),
    Date(NaiveDate),
}

impl DateInput {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
            return Some(Self::Instant(at.with_timezone(&Utc)));
        }
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().map(Self::Date)
    }
}

/// A recurring task counts its occurrences from its due date, so it must have one.
pub fn check_recurrence_is_dated(recurring: bool, due: Option<DateTime<Utc>>) -> Result<(), FieldError> {
    if recurring && due.is_none() {
        return Err(FieldError::new("recurrence", "needs a due date: set dueAt as well"));
    }
    Ok(())
}

/// Open and past its due time. (The task list's `overdue` filter says the same in SQL.)
pub fn is_overdue(
    due: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    completed_at.is_none() && due.is_some_and(|d| d < now)
}

/// The last second of `date` in `tz`.
pub fn end_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let end = date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
    match tz.from_local_datetime(&end) {
        LocalResult::Single(at) | LocalResult::Ambiguous(_, at) => at.with_timezone(&Utc),
        // No zone skips the last second of a day today, but fall back to the start of the
        // next day rather than fail if one ever does.
        LocalResult::None => start_of_day(date.checked_add_days(Days::new(1)).unwrap_or(date), tz),
    }
}

/// The first instant of `date` in `tz` (a DST change at midnight moves it, never removes it).
pub fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut at = date.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(found) = tz.from_local_datetime(&at).earliest() {
            return found.with_timezone(&Utc);
        }
        at += chrono::Duration::minutes(30);
    }
    Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))
}

/// Whether `at` lies in the years a task's times may have.
pub fn is_supported_time(at: DateTime<Utc>) -> bool {
    (1970..=9999).contains(&chrono::Datelike::year(&at))
}

fn in_supported_range(field: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    if is_supported_time(at) {
        Ok(at)
    } else {
        Err(FieldError::new(field, "must be between the years 1970 and 9999"))
    }
}

/// A task's reminder settings: at most five, each an offset before the due time or an
/// absolute time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reminders(Vec<ReminderSpec>);

impl Reminders {
    pub const MAX: usize = 5;
    /// Four weeks: further ahead is a calendar entry, not a reminder.
    pub const MAX_OFFSET_MINUTES: u32 = 40_320;

    pub fn parse(raw: Vec<ReminderSpec>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if raw.len() > Self::MAX {
            errors.push(FieldError::new("reminders", format!("must have at most {} reminders", Self::MAX)));
        }
        for (i, reminder) in raw.iter().enumerate() {
            if let ReminderSpec::Offset { offset_minutes } = reminder
                && *offset_minutes > Self::MAX_OFFSET_MINUTES
            {
                errors.push(FieldError::new(
                    format!("reminders[{i}].offsetMinutes"),
                    format!("must be between 0 and {}", Self::MAX_OFFSET_MINUTES),
                ));
            }
            if raw[..i].contains(reminder) {
                errors.push(FieldError::new(format!("reminders[{i}]"), "repeats an earlier reminder"));
            }
        }
        // Events carry instants at millisecond precision; keep the same here so a reminder
        // read back from storage compares equal to the one that was sent.
        let raw = raw
            .into_iter()
            .map(|r| match r {
                ReminderSpec::At { at } => ReminderSpec::At { at: events::truncate_to_millis(at) },
                offset @ ReminderSpec::Offset { .. } => offset,
            })
            .collect();
        if errors.is_empty() { Ok(Self(raw)) } else { Err(errors) }
    }

    /// Reminders as the task keeps them: a task with a due time and no reminder gets the
    /// user's default offset, so every dated task reminds unless the user chose otherwise.
    #[must_use]
    pub fn effective(self, due: Option<DateTime<Utc>>, default_offset_minutes: u32) -> Self {
        if self.0.is_empty() && due.is_some() {
            Self(vec![ReminderSpec::Offset { offset_minutes: default_offset_minutes }])
        } else {
            self
        }
    }

    /// When the reminders of a task due at `due` are still to fire: a completed task reminds
    /// no more.
    pub fn pending_fire_times(&self, due: Option<DateTime<Utc>>, completed: bool) -> Vec<DateTime<Utc>> {
        if completed { Vec::new() } else { self.fire_times(due) }
    }

    /// When each reminder fires, for a task due at `due`; offsets need a due time.
    pub fn fire_times(&self, due: Option<DateTime<Utc>>) -> Vec<DateTime<Utc>> {
        let mut times: Vec<_> = self
            .0
            .iter()
            .filter_map(|r| match r {
                ReminderSpec::Offset { offset_minutes } => {
                    due.map(|d| d - chrono::Duration::minutes(i64::from(*offset_minutes)))
                }
                ReminderSpec::At { at } => Some(*at),
            })
            .collect();
        times.sort();
        times.dedup();
        times
    }

    pub fn as_slice(&self) -> &[ReminderSpec] {
        &self.0
    }

    pub fn into_inner(self) -> Vec<ReminderSpec> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(TaskTitle::parse("  Buy milk ").unwrap().as_str(), "Buy milk");
        assert!(TaskTitle::parse("   ").is_err());
        assert!(TaskTitle::parse(&"x".repeat(200)).is_ok());
        assert!(TaskTitle::parse(&"x".repeat(201)).is_err());
        assert!(TaskTitle::parse("two\nlines").is_err());
    }

    #[test]
    fn blank_description_means_none() {
        assert_eq!(TaskDescription::parse("  ").unwrap(), None);
        assert!(TaskDescription::parse(&"é".repeat(5000)).unwrap().is_some());
        assert!(TaskDescription::parse(&"é".repeat(5001)).is_err());
    }

    #[test]
    fn tags_are_unique_ignoring_case_and_name_the_offending_index() {
        let errors = Tags::parse(&["Work".into(), "home".into(), "work".into()]).unwrap_err();
        assert_eq!(errors, vec![FieldError::new("tags[2]", "repeats tags[0] (tags ignore case)")]);
        let tags = Tags::parse(&["Work".into(), " Home ".into()]).unwrap();
        assert_eq!(tags.as_slice(), ["Work", "Home"]);
        assert_eq!(tags.keys(), ["work", "home"]);
        assert!(Tags::same("Work", "wORK") && !Tags::same("work", "home"));
    }

    #[test]
    fn tags_bound_count_and_length() {
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).unwrap_err().iter().any(|e| e.field == "tags"));
        let errors = Tags::parse(&[String::new(), "x".repeat(51)]).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["tags[0]", "tags[1]"]);
    }

    #[test]
    fn a_date_alone_is_the_end_of_that_day_in_the_users_zone() {
        let due = parse_due("dueAt", "2026-03-08", Tz::America__New_York).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-03-09T03:59:59+00:00");
        let due = parse_due("dueAt", "2026-12-01", Tz::UTC).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-12-01T23:59:59+00:00");
    }

    #[test]
    fn an_instant_keeps_its_offset_and_garbage_names_the_field() {
        let due = parse_due("dueAt", "2026-12-01T17:00:00+01:00", Tz::UTC).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-12-01T16:00:00+00:00");
        assert_eq!(parse_due("dueAt", "next friday", Tz::UTC).unwrap_err().field, "dueAt");
        assert!(parse_due("dueAt", "0001-01-01T00:00:00Z", Tz::UTC).is_err());
    }

    #[test]
    fn a_recurring_task_needs_a_due_date_and_an_overdue_one_is_open() {
        let due = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        assert_eq!(check_recurrence_is_dated(true, None).unwrap_err().field, "recurrence");
        assert!(
            check_recurrence_is_dated(true, Some(due)).is_ok()
                && check_recurrence_is_dated(false, None).is_ok()
        );
        let later = due + chrono::Duration::minutes(1);
        assert!(is_overdue(Some(due), None, later));
        assert!(!is_overdue(Some(due), Some(later), later) && !is_overdue(Some(due), None, due));
        assert!(!is_overdue(None, None, later));
    }

    #[test]
    fn a_completed_task_has_no_reminders_to_fire() {
        let due = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let reminders = Reminders::default().effective(Some(due), 30);
        assert_eq!(reminders.pending_fire_times(Some(due), false), reminders.fire_times(Some(due)));
        assert!(reminders.pending_fire_times(Some(due), true).is_empty());
    }

    #[test]
    fn reminders_are_bounded_and_unique() {
        let six = vec![ReminderSpec::Offset { offset_minutes: 1 }; 6];
        assert!(Reminders::parse(six).is_err());
        let errors = Reminders::parse(vec![ReminderSpec::Offset { offset_minutes: 50_000 }]).unwrap_err();
        assert_eq!(errors[0].field, "reminders[0].offsetMinutes");
    }

    #[test]
    fn a_dated_task_without_reminders_gets_the_default_offset() {
        let due = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let reminders = Reminders::default().effective(Some(due), 30);
        assert_eq!(reminders.fire_times(Some(due)), vec![due - chrono::Duration::minutes(30)]);
        assert!(Reminders::default().effective(None, 30).as_slice().is_empty());
    }

    #[test]
    fn fire_times_are_sorted_and_distinct() {
        let due = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let at = due - chrono::Duration::minutes(10);
        let reminders = Reminders::parse(vec![
            ReminderSpec::Offset { offset_minutes: 10 },
            ReminderSpec::Offset { offset_minutes: 60 },
            ReminderSpec::At { at },
        ])
        .unwrap();
        assert_eq!(reminders.fire_times(Some(due)), vec![due - chrono::Duration::minutes(60), at]);
    }
}
