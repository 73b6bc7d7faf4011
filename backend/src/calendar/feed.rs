//! The feed's calendar (RFC 5545): one event per open task with a due time.
//!
//! - A task that does not repeat is an event at its due instant, written in UTC (exact, and no
//!   time zone table needed).
//! - The open task of a series is an event in the user's zone (`DTSTART;TZID=…`) with the
//!   series' RRULE: "every day at 09:00" stays at 09:00 across DST changes, which only a zoned
//!   start says. A series RRULE cannot state exactly shows the open task alone (see
//!   [`Recurrence::calendar_rule`]). The zone's VTIMEZONE comes with it.
//! - Completed tasks and tasks without a due date are not in the feed: it shows what is still
//!   to do and when.
//!
//! Tasks have due instants, never date-only due dates, so every event is timed. It lasts
//! [`EVENT_MINUTES`] and is transparent, so a task does not show the user as busy.

use chrono::{DateTime, Days, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use uuid::Uuid;

use super::ics::Ics;
use crate::domain::{
    Priority,
    recurrence::{OpenOccurrence, Recurrence},
};

/// The calendar's name in calendar apps, and the domain part of event UIDs.
pub const CALENDAR_NAME: &str = "Todo";
const UID_DOMAIN: &str = "todo.app";
/// How long a task's event lasts: long enough to be visible in a day view.
pub const EVENT_MINUTES: u32 = 30;
/// How often calendar apps are asked to fetch the feed again (RFC 7986 REFRESH-INTERVAL, and
/// the `X-PUBLISHED-TTL` older clients read).
const REFRESH: &str = "PT1H";
/// Years of the zone's transitions the VTIMEZONE lists after the earliest zoned event. Calendar
/// apps that know the IANA zone name (the TZID) use their own table; this one serves the rest.
const VTIMEZONE_YEARS: u64 = 10;

/// What the feed shows of a task.
#[derive(Debug, Clone)]
pub struct FeedTask {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub due_at: DateTime<Utc>,
    /// The task's series, when it repeats.
    pub series: Option<Series>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub rule: Recurrence,
    pub start: DateTime<Utc>,
    /// The task's position in it; 1 for the first.
    pub number: u32,
}

/// The whole calendar for tasks of a user in zone `tz`.
#[must_use]
pub fn render(tasks: &[FeedTask], tz: Tz) -> String {
    let mut ics = Ics::default();
    ics.raw("BEGIN", "VCALENDAR");
    ics.raw("VERSION", "2.0");
    ics.text("PRODID", "-//Todo//Calendar feed//EN");
    ics.raw("CALSCALE", "GREGORIAN");
    ics.raw("METHOD", "PUBLISH");
    ics.text("NAME", CALENDAR_NAME);
    ics.text("X-WR-CALNAME", CALENDAR_NAME);
    ics.raw("REFRESH-INTERVAL;VALUE=DURATION", REFRESH);
    ics.raw("X-PUBLISHED-TTL", REFRESH);
    let events: Vec<(&FeedTask, Option<String>)> = tasks
        .iter()
        .map(|task| {
            let rule = task.series.as_ref().and_then(|series| {
                series.rule.calendar_rule(&OpenOccurrence {
                    series_start: series.start,
                    due: task.due_at,
                    number: series.number,
                    tz,
                })
            });
            (task, rule)
        })
        .collect();
    if let Some(earliest) =
        events.iter().filter(|(_, rule)| rule.is_some()).map(|(task, _)| task.due_at).min()
    {
        vtimezone(&mut ics, tz, earliest);
    }
    for (task, rule) in events {
        event(&mut ics, task, rule.as_deref(), tz);
    }
    ics.raw("END", "VCALENDAR");
    ics.finish()
}

fn event(ics: &mut Ics, task: &FeedTask, rule: Option<&str>, tz: Tz) {
    ics.raw("BEGIN", "VEVENT");
    ics.text("UID", &format!("{}@{UID_DOMAIN}", task.id));
    ics.raw("DTSTAMP", &utc(task.updated_at));
    ics.raw("LAST-MODIFIED", &utc(task.updated_at));
    match rule {
        Some(rule) => {
            let local = task.due_at.with_timezone(&tz).format("%Y%m%dT%H%M%S");
            ics.raw(&format!("DTSTART;TZID={}", tz.name()), &local.to_string());
            ics.raw("RRULE", rule);
        }
        None => ics.raw("DTSTART", &utc(task.due_at)),
    }
    ics.raw("DURATION", &format!("PT{EVENT_MINUTES}M"));
    ics.text("SUMMARY", &task.title);
    if let Some(description) = &task.description {
        ics.text("DESCRIPTION", description);
    }
    ics.raw("PRIORITY", priority(task.priority));
    if !task.tags.is_empty() {
        ics.text_list("CATEGORIES", task.tags.iter().map(String::as_str));
    }
    ics.raw("TRANSP", "TRANSPARENT");
    ics.raw("END", "VEVENT");
}

/// RFC 5545 priorities run from 1 (highest) to 9 (lowest); 1, 5 and 9 are what calendar apps
/// show as high, medium and low, and "high" sits between urgent and medium.
fn priority(priority: Priority) -> &'static str {
    match priority {
        Priority::Urgent => "1",
        Priority::High => "3",
        Priority::Medium => "5",
        Priority::Low => "9",
    }
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The VTIMEZONE of `tz` (§3.6.5): its offset at `from` and each change of offset in the
/// following [`VTIMEZONE_YEARS`], one observance per change.
fn vtimezone(ics: &mut Ics, tz: Tz, from: DateTime<Utc>) {
    ics.raw("BEGIN", "VTIMEZONE");
    ics.text("TZID", tz.name());
    let start = from - TimeDelta::days(1);
    let until = start.checked_add_days(Days::new(VTIMEZONE_YEARS * 365)).unwrap_or(start);
    let offset_at = |at: DateTime<Utc>| tz.offset_from_utc_datetime(&at.naive_utc());
    let first = offset_at(start);
    observance(ics, start, first.fix().local_minus_utc(), first);
    let mut day = start;
    while day < until {
        let next = day + TimeDelta::days(1);
        let before = offset_at(day).fix().local_minus_utc();
        if offset_at(next).fix().local_minus_utc() != before {
            // The first second with the new offset.
            let (mut low, mut high) = (day, next);
            while high - low > TimeDelta::seconds(1) {
                let mid = low + (high - low) / 2;
                if offset_at(mid).fix().local_minus_utc() == before {
                    low = mid;
                } else {
                    high = mid;
                }
            }
            observance(ics, high, before, offset_at(high));
        }
        day = next;
    }
    ics.raw("END", "VTIMEZONE");
}

/// One STANDARD or DAYLIGHT observance starting at `at`, whose DTSTART is local time in the
/// offset before it (§3.6.5).
fn observance(ics: &mut Ics, at: DateTime<Utc>, from_seconds: i32, to: <Tz as TimeZone>::Offset) {
    let kind = if to.dst_offset().is_zero() { "STANDARD" } else { "DAYLIGHT" };
    let local = at.naive_utc() + TimeDelta::seconds(i64::from(from_seconds));
    ics.raw("BEGIN", kind);
    ics.raw("DTSTART", &local.format("%Y%m%dT%H%M%S").to_string());
    ics.raw("TZOFFSETFROM", &utc_offset(from_seconds));
    ics.raw("TZOFFSETTO", &utc_offset(to.fix().local_minus_utc()));
    if let Some(name) = to.abbreviation() {
        ics.text("TZNAME", name);
    }
    ics.raw("END", kind);
}

/// `+hhmm`, or `+hhmmss` for the odd historical offset with seconds.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (hours, minutes, rest) = (s / 3600, s / 60 % 60, s % 60);
    if rest == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{rest:02}")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use icalendar::parser::{Component, read_calendar, unfold};
    use serde_json::json;

    use super::*;
    use crate::domain::recurrence::RecurrenceInput;

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn task(title: &str, due_at: DateTime<Utc>) -> FeedTask {
        FeedTask {
            id: Uuid::now_v7(),
            title: title.to_owned(),
            description: None,
            priority: Priority::Medium,
            tags: Vec::new(),
            due_at,
            series: None,
            updated_at: Utc.with_ymd_and_hms(2027, 1, 2, 3, 4, 5).unwrap(),
        }
    }

    fn prop<'a>(component: &'a Component<'a>, name: &str) -> String {
        let property = component.find_prop(name).unwrap_or_else(|| panic!("{name} missing"));
        property.val.clone().unescape_text().as_str().to_owned()
    }

    #[test]
    fn a_plain_task_is_a_utc_event_without_a_time_zone() {
        let mut one =
            task("Dentist; bring card, \\ and notes", Utc.with_ymd_and_hms(2027, 3, 1, 8, 30, 0).unwrap());
        one.description = Some("line one\nline two".to_owned());
        one.priority = Priority::Urgent;
        one.tags = vec!["health".to_owned(), "a,b".to_owned()];
        let text = render(&[one.clone()], BERLIN);
        let unfolded = unfold(&text);
        let calendar = read_calendar(&unfolded).unwrap();
        assert!(calendar.components.iter().all(|c| c.name != "VTIMEZONE"), "no zoned event, no VTIMEZONE");
        let event = &calendar.components[0];
        assert_eq!(event.name, "VEVENT");
        assert_eq!(prop(event, "UID"), format!("{}@todo.app", one.id));
        assert_eq!(prop(event, "SUMMARY"), one.title);
        assert_eq!(prop(event, "DESCRIPTION"), "line one\nline two");
        assert_eq!(prop(event, "DTSTART"), "20270301T083000Z");
        assert_eq!(prop(event, "DTSTAMP"), "20270102T030405Z");
        assert_eq!(prop(event, "DURATION"), "PT30M");
        assert_eq!(prop(event, "PRIORITY"), "1");
        assert_eq!(event.find_prop("CATEGORIES").unwrap().val.as_str(), "health,a\\,b");
        assert!(event.find_prop("RRULE").is_none());
    }

    #[test]
    fn a_series_is_a_zoned_event_with_its_rule_and_the_zone_table() {
        let start = BERLIN.with_ymd_and_hms(2027, 1, 4, 9, 0, 0).unwrap().with_timezone(&Utc);
        let input: RecurrenceInput = serde_json::from_value(json!({"frequency": "weekly"})).unwrap();
        let mut weekly = task("Standup", start);
        weekly.series = Some(Series { rule: Recurrence::parse(input).unwrap(), start, number: 1 });
        let unfolded = unfold(&render(&[weekly], BERLIN));
        let calendar = read_calendar(&unfolded).unwrap();
        let zone = calendar.components.iter().find(|c| c.name == "VTIMEZONE").expect("a VTIMEZONE");
        assert_eq!(prop(zone, "TZID"), "Europe/Berlin");
        let observances: Vec<(String, String, String, String)> = zone
            .components
            .iter()
            .take(3)
            .map(|o| (o.name.to_string(), prop(o, "DTSTART"), prop(o, "TZOFFSETFROM"), prop(o, "TZOFFSETTO")))
            .collect();
        let row =
            |kind: &str, at: &str, from: &str, to: &str| (kind.into(), at.into(), from.into(), to.into());
        assert_eq!(
            observances,
            vec![
                row("STANDARD", "20270103T090000", "+0100", "+0100"),
                row("DAYLIGHT", "20270328T020000", "+0100", "+0200"),
                row("STANDARD", "20271031T030000", "+0200", "+0100"),
            ]
        );
        let event = calendar.components.iter().find(|c| c.name == "VEVENT").unwrap();
        let dtstart = event.find_prop("DTSTART").unwrap();
        assert_eq!(dtstart.val.as_str(), "20270104T090000");
        assert_eq!(dtstart.params[0].key, "TZID");
        assert_eq!(dtstart.params[0].val.as_ref().unwrap().as_str(), "Europe/Berlin");
        assert_eq!(prop(event, "RRULE"), "FREQ=WEEKLY");
    }

    #[test]
    fn a_zone_without_changes_has_one_observance() {
        let start = Utc.with_ymd_and_hms(2027, 1, 4, 9, 0, 0).unwrap();
        let input: RecurrenceInput = serde_json::from_value(json!({"frequency": "daily"})).unwrap();
        let mut daily = task("Stretch", start);
        daily.series = Some(Series { rule: Recurrence::parse(input).unwrap(), start, number: 1 });
        let text = render(&[daily], chrono_tz::Asia::Kolkata);
        assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Kolkata\r\nBEGIN:STANDARD\r\nDTSTART:20270103T143000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nTZNAME:IST\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"), "{text}");
    }

    #[test]
    fn offsets_are_written_as_rfc_5545_utc_offsets() {
        assert_eq!(utc_offset(3600), "+0100");
        assert_eq!(utc_offset(-(3 * 3600 + 30 * 60)), "-0330");
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(-(17 * 60 + 30)), "-001730");
    }
}
