//! A series as a calendar event's RRULE, for the calendar feed.
//!
//! The feed shows the series' open task as an event starting at its due time in the user's
//! zone (`DTSTART;TZID=…`) and lets the calendar app list the tasks after it. That is exact only
//! where RFC 5545 lists the same dates [`Recurrence::next_due`] would; where it would not, the
//! feed shows the open task alone rather than dates that will never be due. Those cases:
//! - the completion basis: the next due date depends on when the task is done;
//! - a due date the rule does not fall on (the user moved this task): RFC 5545 leaves such a
//!   DTSTART's recurrence set undefined, while the series goes on from the moved date;
//! - a due time pushed by a spring-forward gap: the tasks after it return to the series' time,
//!   which one DTSTART cannot say.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{Basis, End, Frequency, Occurrence, Recurrence, local_time::intended_local_due};
use crate::domain::task::end_of_day;

/// Where the open task of a series stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOccurrence {
    /// Due date of the first task of the series (its day of month is the series' intent).
    pub series_start: DateTime<Utc>,
    /// Due date of the open task: the event's DTSTART.
    pub due: DateTime<Utc>,
    /// Its position in the series; 1 for the first.
    pub number: u32,
    /// The user's time zone, in which DTSTART is written.
    pub tz: Tz,
}

impl Recurrence {
    /// The RRULE value (without `RRULE:`) of an event that starts at `open.due` in `open.tz`
    /// and repeats as the series' remaining tasks fall due; `None` when the open task is the
    /// only one to show (the series ends with it, or it cannot be written as a rule, see the
    /// module documentation).
    #[must_use]
    pub fn calendar_rule(&self, open: &OpenOccurrence) -> Option<String> {
        if self.basis == Basis::Completion {
            return None;
        }
        let local_due = open.due.with_timezone(&open.tz).naive_local();
        let ctx = Occurrence {
            series_start: open.series_start,
            due: open.due,
            completed_at: open.due,
            number: open.number,
            tz: open.tz,
        };
        if intended_local_due(&ctx) != local_due {
            return None;
        }
        let date = local_due.date();
        let intent = open.series_start.with_timezone(&open.tz).date_naive();
        let mut parts = vec![format!("FREQ={}", self.frequency.rrule_name())];
        if self.interval != 1 {
            parts.push(format!("INTERVAL={}", self.interval));
        }
        match self.frequency {
            Frequency::Daily => {}
            Frequency::Weekly => {
                if !self.weekdays.is_empty() {
                    if !self.weekdays.iter().any(|&day| chrono::Weekday::from(day) == date.weekday()) {
                        return None;
                    }
                    let days: Vec<&str> = self.weekdays.iter().map(|day| day.rrule_code()).collect();
                    parts.push(format!("BYDAY={}", days.join(",")));
                }
            }
            Frequency::Monthly => match self.nth_weekday {
                Some(nth) => {
                    let week = nth.week.number();
                    let on_rule = chrono::Weekday::from(nth.weekday) == date.weekday()
                        && if week > 0 {
                            (date.day() - 1) / 7 + 1 == u32::from(week.unsigned_abs())
                        } else {
                            date.day() + 7 > days_in_month(date)
                        };
                    if !on_rule {
                        return None;
                    }
                    parts.push(format!("BYDAY={week}{}", nth.weekday.rrule_code()));
                }
                None => parts.push(on_day_or_month_end(date, intent.day())?),
            },
            Frequency::Yearly => {
                if date.month() != intent.month() {
                    return None;
                }
                parts.push(format!("BYMONTH={}", intent.month()));
                parts.push(on_day_or_month_end(date, intent.day())?);
            }
        }
        match self.end {
            End::Never => {}
            End::Until(until) => {
                if until <= date {
                    return None;
                }
                // With a zoned DTSTART, RFC 5545 wants UNTIL as a UTC instant: the end of the
                // last local day keeps a task due on that day.
                parts.push(format!("UNTIL={}", end_of_day(until, open.tz).format("%Y%m%dT%H%M%SZ")));
            }
            End::Count(count) => {
                // The calendar counts from DTSTART, the open task; the series from its first.
                let left = count.checked_sub(open.number)?;
                if left == 0 {
                    return None;
                }
                parts.push(format!("COUNT={}", left + 1));
            }
        }
        Some(parts.join(";"))
    }
}

/// The month-day part of a rule on day `intent` of the month, clamped to the month's end as
/// [`Recurrence::next_due`] does (BYSETPOS=-1 over the 28th up to the intended day); `None`
/// when `date` is not on it.
fn on_day_or_month_end(date: NaiveDate, intent: u32) -> Option<String> {
    if date.day() != intent.min(days_in_month(date)) {
        return None;
    }
    Some(if intent <= 28 {
        format!("BYMONTHDAY={intent}")
    } else {
        let days: Vec<String> = (28..=intent).map(|day| day.to_string()).collect();
        format!("BYMONTHDAY={};BYSETPOS=-1", days.join(","))
    })
}

fn days_in_month(date: NaiveDate) -> u32 {
    let (year, month) =
        if date.month() == 12 { (date.year() + 1, 1) } else { (date.year(), date.month() + 1) };
    NaiveDate::from_ymd_opt(year, month, 1).and_then(|first| first.pred_opt()).map_or(31, |last| last.day())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rrule::RRuleSet;
    use serde_json::json;

    use super::*;
    use crate::domain::recurrence::test_support::{at, rule, series, show};

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn open(start: DateTime<Utc>, due: DateTime<Utc>, number: u32) -> OpenOccurrence {
        OpenOccurrence { series_start: start, due, number, tz: BERLIN }
    }

    /// The dates a calendar app lists for the event, read by the `rrule` crate from the same
    /// DTSTART;TZID and RRULE lines the feed writes.
    fn calendar_dates(due: DateTime<Utc>, rrule: &str, limit: u16) -> Vec<String> {
        let local = due.with_timezone(&BERLIN).format("%Y%m%dT%H%M%S");
        let text = format!("DTSTART;TZID=Europe/Berlin:{local}\nRRULE:{rrule}");
        let set: RRuleSet = text.parse().expect("the rule parses");
        set.all(limit)
            .dates
            .into_iter()
            .skip(1)
            .map(|date| show(Some(date.with_timezone(&Utc)), BERLIN))
            .collect()
    }

    /// Each rule's calendar dates are the due dates of the series' next tasks, across DST
    /// changes, month ends and the series' end.
    #[test]
    fn the_calendar_lists_the_dates_the_series_falls_due_on() {
        let cases = [
            (json!({"frequency": "daily"}), at(BERLIN, 2027, 3, 25, 9, 0)),
            (
                json!({"frequency": "weekly", "interval": 2, "weekdays": ["mon", "thu"]}),
                at(BERLIN, 2027, 3, 22, 7, 30),
            ),
            (json!({"frequency": "weekly"}), at(BERLIN, 2027, 10, 28, 23, 30)),
            (json!({"frequency": "monthly"}), at(BERLIN, 2027, 1, 31, 18, 0)),
            (json!({"frequency": "monthly", "interval": 3}), at(BERLIN, 2027, 1, 30, 18, 0)),
            (
                json!({"frequency": "monthly", "nthWeekday": {"week": -1, "weekday": "fri"}}),
                at(BERLIN, 2027, 1, 29, 12, 0),
            ),
            (
                json!({"frequency": "monthly", "nthWeekday": {"week": 2, "weekday": "tue"}}),
                at(BERLIN, 2027, 1, 12, 12, 0),
            ),
            (json!({"frequency": "yearly"}), at(BERLIN, 2028, 2, 29, 8, 0)),
            (json!({"frequency": "daily", "count": 5}), at(BERLIN, 2027, 3, 26, 9, 0)),
            (json!({"frequency": "weekly", "until": "2027-04-19"}), at(BERLIN, 2027, 3, 1, 9, 0)),
        ];
        for (value, start) in cases {
            let rule = rule(value.clone());
            let expected = series(&rule, BERLIN, start, 12);
            let expected: Vec<String> = expected.into_iter().filter(|shown| shown != "end").collect();
            let text = rule.calendar_rule(&open(start, start, 1)).expect("a rule");
            assert_eq!(calendar_dates(start, &text, 12), expected, "{value} as {text}");
        }
    }

    #[test]
    fn a_later_task_of_the_series_counts_what_is_left_and_keeps_the_series_intent() {
        let start = at(BERLIN, 2027, 1, 31, 9, 0);
        let monthly = rule(json!({"frequency": "monthly", "count": 4}));
        // The second task was clamped to 28 February; the third is due on 31 March.
        let second = at(BERLIN, 2027, 2, 28, 9, 0);
        assert_eq!(
            monthly.calendar_rule(&open(start, second, 2)).as_deref(),
            Some("FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=3")
        );
        assert_eq!(
            monthly.calendar_rule(&open(start, at(BERLIN, 2027, 4, 30, 9, 0), 4)),
            None,
            "the last task"
        );
    }

    #[test]
    fn series_a_calendar_cannot_list_exactly_show_the_open_task_alone() {
        let start = at(BERLIN, 2027, 1, 31, 9, 0);
        let by_completion = rule(json!({"frequency": "daily", "basis": "completion"}));
        assert_eq!(by_completion.calendar_rule(&open(start, start, 1)), None);
        let moved = at(BERLIN, 2027, 2, 15, 9, 0);
        assert_eq!(rule(json!({"frequency": "monthly"})).calendar_rule(&open(start, moved, 2)), None);
        let mondays = rule(json!({"frequency": "weekly", "weekdays": ["mon"]}));
        assert_eq!(mondays.calendar_rule(&open(start, start, 1)), None, "31 January 2027 is a Sunday");
        // 02:30 on 28 March 2027 does not exist in Berlin: that task is due at 03:30, the next
        // ones at 02:30 again.
        let gap_start = at(BERLIN, 2027, 3, 27, 2, 30);
        let pushed = BERLIN.with_ymd_and_hms(2027, 3, 28, 3, 30, 0).unwrap().with_timezone(&Utc);
        assert_eq!(rule(json!({"frequency": "daily"})).calendar_rule(&open(gap_start, pushed, 2)), None);
    }

    #[test]
    fn until_is_the_end_of_the_last_local_day_in_utc() {
        let start = at(BERLIN, 2027, 7, 1, 9, 0);
        let rule = rule(json!({"frequency": "daily", "until": "2027-07-10"}));
        assert_eq!(
            rule.calendar_rule(&open(start, start, 1)).as_deref(),
            Some("FREQ=DAILY;UNTIL=20270710T215959Z")
        );
    }
}
