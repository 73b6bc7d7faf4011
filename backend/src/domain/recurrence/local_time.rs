//! The user's wall clock: which instant a local date and time of day names, around DST changes
//! and skipped days.
//!
//! This policy is ours rather than the `rrule` crate's, which is only asked for dates: the crate
//! drops a date on which neither the task's time nor local midnight is a single instant (a day
//! skipped by the time zone, a DST change at midnight) where a task should move to the next
//! day, and it knows nothing of the series' own time of day that a task pushed by a
//! spring-forward gap returns to.

use chrono::{DateTime, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::Occurrence;

/// The local calendar date of a due instant. Together with the series id it identifies an
/// occurrence, so a retried completion cannot create the next task twice.
#[must_use]
pub fn occurrence_date(due: DateTime<Utc>, tz: Tz) -> NaiveDate {
    due.with_timezone(&tz).date_naive()
}

/// The local date and wall-clock time the task being completed was meant to be due at. That is
/// the due's own, except when a spring-forward gap pushed it off the series' time of day (02:30
/// became 03:30): then the series' time, or every later task would stay an hour late. A due
/// that differs from the series for any other reason was edited by the user, and the edit wins.
pub(super) fn intended_local_due(ctx: &Occurrence) -> NaiveDateTime {
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
pub(super) fn resolve_local(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
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
    use crate::domain::recurrence::test_support::{BERLIN, NEW_YORK, UTC, at, rule, series, show};
    use crate::domain::recurrence::{Occurrence, occurrence_date};
    use chrono::{NaiveDate, TimeDelta};
    use serde_json::json;

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
}
