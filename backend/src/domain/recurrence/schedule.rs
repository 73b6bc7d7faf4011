//! The next due date of a series.
//!
//! The `rrule` crate lists the calendar dates a rule falls on. What it cannot express, or what is
//! a product decision rather than RFC 5545, stays here, each marked where it happens: the series
//! count, the completion basis, whole-period steps, month-end clamping, `until` as a local day,
//! and years beyond the crate's range. The wall-clock instant of a date is `local_time`'s call.

use chrono::{DateTime, Datelike, Month, NaiveDate, NaiveTime, TimeZone, Utc};
use rrule::{NWeekday, RRule, RRuleSet, Unvalidated};

use super::local_time::{intended_local_due, resolve_local};
use super::{Basis, End, Frequency, Occurrence, Recurrence};

/// How many dates of the rule [`Recurrence::next_due`] looks at before giving up.
const MAX_STEPS: usize = 1000;

impl Recurrence {
    /// When the task after the one described by `ctx` is due, or `None` when the series ends.
    ///
    /// With [`Basis::DueDate`] this is one step from the due date even if that is still in the
    /// past, so a user who falls behind sees the next task as overdue rather than skipped.
    #[must_use]
    pub fn next_due(&self, ctx: &Occurrence) -> Option<DateTime<Utc>> {
        // The series count is ours: the crate counts the dates it lists from its start, but each
        // step starts afresh from the task just completed, whose place in the series is known.
        if let End::Count(count) = self.end
            && ctx.number >= count
        {
            return None;
        }
        let due = intended_local_due(ctx);
        let time_of_day = due.time();
        let intent = ctx.series_start.with_timezone(&ctx.tz).date_naive();
        // The completion basis is ours: RRULE has only a fixed start, so the rule is restarted
        // from the completion date and the first date whose instant follows the completion wins.
        let from = match self.basis {
            Basis::DueDate => due.date(),
            Basis::Completion => ctx.completed_at.with_timezone(&ctx.tz).date_naive(),
        };
        // Each date is later than the last, so the first one normally lands after the
        // completion; the bound only guards against a time zone table doing something no
        // real one does.
        for date in self.dates_after(from, intent)?.take(MAX_STEPS) {
            let date = date?;
            // `until` is a day on the user's calendar, not an instant, so it is compared here
            // with the local date rather than handed to the crate as an UNTIL instant.
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

    /// The dates of the rule after `from`, earliest first, where `intent` is the series' first
    /// date. An item is `None` where the calendar runs out.
    fn dates_after(
        &self,
        from: NaiveDate,
        intent: NaiveDate,
    ) -> Option<impl Iterator<Item = Option<NaiveDate>>> {
        let frame = Frame::around(from);
        let first = frame.enter(from)?;
        let start = rrule::Tz::UTC.from_utc_datetime(&first.and_time(NaiveTime::MIN));
        // Every rule built here is within RFC 5545's ranges, which is all the crate checks.
        let rule = self.crate_rule(intent)?.validate(start).ok()?;
        let frequency = self.frequency;
        let dates = RRuleSet::new(start)
            .rrule(rule)
            .into_iter()
            .map(|date| date.date_naive())
            .skip_while(move |&date| !in_a_later_period(frequency, first, date))
            .map(move |date| frame.leave(date));
        Some(dates)
    }

    /// The rule in the crate's terms, from DTSTART on.
    fn crate_rule(&self, intent: NaiveDate) -> Option<RRule<Unvalidated>> {
        let rule = match self.frequency {
            Frequency::Daily => RRule::new(rrule::Frequency::Daily),
            // Without chosen days the crate repeats on DTSTART's weekday: whole weeks.
            Frequency::Weekly => RRule::new(rrule::Frequency::Weekly)
                .by_weekday(self.weekdays.iter().map(|&day| NWeekday::Every(day.into())).collect()),
            Frequency::Monthly => match self.nth_weekday {
                Some(nth) => RRule::new(rrule::Frequency::Monthly)
                    .by_weekday(vec![NWeekday::Nth(nth.week.number().into(), nth.weekday.into())]),
                None => on_day_or_month_end(RRule::new(rrule::Frequency::Monthly), intent.day())?,
            },
            Frequency::Yearly => {
                let month = Month::try_from(u8::try_from(intent.month()).ok()?).ok()?;
                on_day_or_month_end(RRule::new(rrule::Frequency::Yearly).by_month(&[month]), intent.day())?
            }
        };
        Some(rule.interval(u16::try_from(self.interval).ok()?))
    }
}

/// Month-end clamping is ours: in RRULE a month without the day is skipped, but "every month on
/// the 31st" means the last day of the shorter months. Listing each day from the 28th (which every
/// month has) up to the intended one and keeping the last of them (BYSETPOS=-1) picks the intended
/// day where the month has it and the month's last day where it does not.
fn on_day_or_month_end(rule: RRule<Unvalidated>, day: u32) -> Option<RRule<Unvalidated>> {
    let day = i8::try_from(day).ok()?;
    Some(if day <= 28 {
        rule.by_month_day(vec![day])
    } else {
        rule.by_month_day((28..=day).collect()).by_set_pos(vec![-1])
    })
}

/// Whole-period steps are ours: RRULE lists every date from DTSTART on, but a monthly or yearly
/// task moves to the next period even when the current one still has a date ahead (a "31st"
/// task whose due date was moved to the 15th next falls due at the end of the following month).
/// A weekly rule with chosen days does move on within its week.
fn in_a_later_period(frequency: Frequency, from: NaiveDate, date: NaiveDate) -> bool {
    match frequency {
        Frequency::Daily | Frequency::Weekly => date > from,
        Frequency::Monthly => (date.year(), date.month()) > (from.year(), from.month()),
        Frequency::Yearly => date.year() > from.year(),
    }
}

/// Years beyond the crate's range are ours: it stops at the year 10,000, while a due date may
/// be near the year 9999 and a yearly rule may step 999 years. The Gregorian calendar repeats
/// every 400 years, weekdays included, so the crate works on dates moved by whole 400-year
/// cycles to a start in 2000–2399, and its dates are moved back.
#[derive(Debug, Clone, Copy)]
struct Frame {
    shift_days: i32,
}

impl Frame {
    const CYCLE_YEARS: i32 = 400;
    const CYCLE_DAYS: i32 = 146_097;

    fn around(date: NaiveDate) -> Self {
        let cycles = (date.year() - 2000).div_euclid(Self::CYCLE_YEARS);
        Self { shift_days: cycles * Self::CYCLE_DAYS }
    }

    fn enter(self, date: NaiveDate) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(date.num_days_from_ce().checked_sub(self.shift_days)?)
    }

    fn leave(self, date: NaiveDate) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(date.num_days_from_ce().checked_add(self.shift_days)?)
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::recurrence::test_support::{
        NEW_YORK, UTC, any_instant, any_tz, at, completed, rule, series, show, valid_rule,
    };
    use crate::domain::recurrence::{Basis, Occurrence, Recurrence};
    use chrono::{TimeDelta, TimeZone};
    use proptest::prelude::*;
    use serde_json::json;

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
