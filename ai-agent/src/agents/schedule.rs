//! A user's working calendar and the choice of new due times: pure, so every rule (load,
//! zone, working hours, daylight-saving changes) is unit-tested without a database.
//!
//! Rules (specs/spec.md, "Reschedule proposals and the daily plan"):
//! - Working days come from the preference bitmask (Monday = bit 0); a user who set none is
//!   treated as working every day, so an overdue task still gets a proposal.
//! - A new due time keeps the task's local time of day when it lies within working hours, and
//!   is the start of working hours otherwise. The start, rather than "after the day's last
//!   task", because due times are deadlines, not appointments: the earliest working time is
//!   the one nobody misreads.
//! - The candidate days are the next [`HORIZON`] working days, today included when the slot
//!   is still ahead, so a proposal is never in the past. Each task goes to the least-loaded
//!   candidate (earliest on ties), and its estimate is added to that day, so a group spreads.

use std::collections::BTreeMap;

use crate::db::tasks::TaskRow;
use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, SecondsFormat, TimeDelta,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

/// How many working days a reschedule may spread over.
pub const HORIZON: usize = 5;
/// The weight of a task without an estimate, in minutes.
pub const DEFAULT_ESTIMATE_MINUTES: i64 = 30;
/// Every weekday, for a user who set no working days.
const EVERY_DAY: u8 = 0x7f;

/// The minutes a task is expected to take: its estimate, or [`DEFAULT_ESTIMATE_MINUTES`].
pub fn estimate(minutes: Option<i32>) -> i64 {
    minutes.map_or(DEFAULT_ESTIMATE_MINUTES, i64::from)
}

/// A user's working days and hours in their time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    days: u8,
    start: NaiveTime,
    end: NaiveTime,
    zone: Tz,
}

impl WorkingHours {
    /// From the preference columns. The database keeps `start < end` and the mask in 0..=127;
    /// a zone unknown to this build reads as UTC, as everywhere else in the agent.
    pub fn new(days: i16, start: NaiveTime, end: NaiveTime, time_zone: &str) -> Self {
        Self {
            days: u8::try_from(days).unwrap_or(0) & EVERY_DAY,
            start,
            end,
            zone: time_zone.parse().unwrap_or(Tz::UTC),
        }
    }

    /// The working calendar of `task`'s owner (the preference defaults when they have no row).
    pub fn of_owner(task: &TaskRow) -> Self {
        Self::new(task.work_days, task.work_start, task.work_end, &task.time_zone)
    }

    pub fn start(&self) -> NaiveTime {
        self.start
    }

    pub fn end(&self) -> NaiveTime {
        self.end
    }

    /// Whether `date` is one of the days the user set (no fallback: the daily plan uses this).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.days & (1 << date.weekday().num_days_from_monday()) != 0
    }

    /// `at` on the user's wall clock.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.zone).naive_local()
    }

    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        self.local(now).date()
    }

    /// A working day whose hours have begun and not ended: when the daily plan is due.
    pub fn is_working_now(&self, now: DateTime<Utc>) -> bool {
        let local = self.local(now);
        self.is_working_day(local.date()) && (self.start..self.end).contains(&local.time())
    }

    /// The instant the wall clock shows `time` on `date`. On a spring-forward day a time the
    /// clock skips is read with the offset before the gap, so 02:30 becomes 03:30 (as late
    /// after the gap as it was meant after its start); on a fall-back day the repeated hour's
    /// first occurrence is the one meant.
    pub fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
            LocalResult::None => {
                let before = self.zone.offset_from_utc_datetime(&(local - TimeDelta::days(1))).fix();
                Utc.from_utc_datetime(&(local - TimeDelta::seconds(i64::from(before.local_minus_utc()))))
            }
        }
    }

    /// The time of day a new due time keeps: the old one's, when it lies within working hours.
    pub fn kept_time(&self, due: Option<DateTime<Utc>>) -> NaiveTime {
        due.map(|due| self.local(due).time())
            .filter(|time| (self.start..self.end).contains(time))
            .unwrap_or(self.start)
    }

    /// Working minutes left today from `now` (all of them before the start, none after the end).
    pub fn minutes_left(&self, now: DateTime<Utc>) -> i64 {
        let today = self.today(now);
        let from = now.max(self.at(today, self.start));
        (self.at(today, self.end) - from).num_minutes().max(0)
    }

    /// The days a task may move to, in order: working days from today on (every day for a
    /// user who set none), today only if `time` is still ahead on it.
    pub fn candidate_days(&self, now: DateTime<Utc>, time: NaiveTime) -> Vec<NaiveDate> {
        let days = if self.days == 0 { EVERY_DAY } else { self.days };
        let today = self.today(now);
        today
            .iter_days()
            .filter(|date| days & (1 << date.weekday().num_days_from_monday()) != 0)
            .filter(|date| *date != today || self.at(*date, time) > now)
            .take(HORIZON)
            .collect()
    }
}

/// What a day already holds: open tasks due on it, and their estimated minutes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DayLoad {
    pub tasks: u32,
    pub minutes: i64,
}

/// A user's load per local date.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Load(BTreeMap<NaiveDate, DayLoad>);

impl Load {
    /// From open tasks' due times and estimates, bucketed by the user's local date.
    pub fn of_tasks(
        hours: &WorkingHours,
        tasks: impl IntoIterator<Item = (DateTime<Utc>, Option<i32>)>,
    ) -> Self {
        let mut load = Self::default();
        for (due, minutes) in tasks {
            load.add(hours.local(due).date(), estimate(minutes));
        }
        load
    }

    pub fn add(&mut self, date: NaiveDate, minutes: i64) {
        let day = self.0.entry(date).or_default();
        day.tasks += 1;
        day.minutes += minutes;
    }

    pub fn on(&self, date: NaiveDate) -> DayLoad {
        self.0.get(&date).copied().unwrap_or_default()
    }
}

/// A task to place: its current due time and estimated minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToPlace {
    pub due_at: Option<DateTime<Utc>>,
    pub minutes: i64,
}

/// Where one task goes, and the candidate days' loads when it was placed (the facts its
/// reason names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
    pub seen: Vec<(NaiveDate, DayLoad)>,
}

/// Places `tasks` in order, each on its least-loaded candidate day (earliest on ties), adding
/// it to `load` so the next one sees it.
pub fn spread(
    hours: &WorkingHours,
    load: &mut Load,
    now: DateTime<Utc>,
    tasks: &[ToPlace],
) -> Vec<Placement> {
    tasks
        .iter()
        .map(|task| {
            let time = hours.kept_time(task.due_at);
            let candidates = hours.candidate_days(now, time);
            let seen: Vec<_> = candidates.iter().map(|date| (*date, load.on(*date))).collect();
            // Never empty: a user without working days counts every day.
            let date = seen
                .iter()
                .min_by_key(|(date, day)| (day.minutes, *date))
                .map_or_else(|| hours.today(now), |(date, _)| *date);
            load.add(date, task.minutes);
            Placement { date, at: hours.at(date, time), seen }
        })
        .collect()
}

/// The PATCH body moving a task to `at` (RFC 3339, UTC).
pub fn due_at_change(at: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({ "dueAt": at.to_rfc3339_opts(SecondsFormat::Secs, true) })
}

/// "Mon 8 Dec 10:00" in the user's zone: a due time inside a reason.
pub fn when(hours: &WorkingHours, at: DateTime<Utc>) -> String {
    hours.local(at).format("%a %-d %b %H:%M").to_string()
}

/// "Tue 9 Dec, 10:00" in the user's zone.
pub fn day_and_time(hours: &WorkingHours, at: DateTime<Utc>) -> String {
    hours.local(at).format("%a %-d %b, %H:%M").to_string()
}

/// "Tue 9 Dec".
pub fn day(date: NaiveDate) -> String {
    date.format("%a %-d %b").to_string()
}

/// "25 minutes ago", "3 hours ago", "1 day ago".
pub fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let elapsed = now - then;
    let (n, unit) = if elapsed.num_days() >= 1 {
        (elapsed.num_days(), "day")
    } else if elapsed.num_hours() >= 1 {
        (elapsed.num_hours(), "hour")
    } else {
        (elapsed.num_minutes().max(1), "minute")
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// "Tuesday has 1 task, Wednesday 4, Thursday 0": the first three candidate days' loads.
pub fn loads(seen: &[(NaiveDate, DayLoad)]) -> String {
    seen.iter()
        .take(3)
        .enumerate()
        .map(|(i, (date, day))| match i {
            0 => format!(
                "{} has {} task{}",
                date.format("%A"),
                day.tasks,
                if day.tasks == 1 { "" } else { "s" }
            ),
            _ => format!("{} {}", date.format("%A"), day.tasks),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "2 h 15 min", "45 min".
pub fn duration(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The next quarter hour strictly after `now`: a proposed time a user can read at a glance.
pub fn next_quarter_hour(now: DateTime<Utc>) -> DateTime<Utc> {
    let into = i64::from(now.minute() % 15) * 60 + i64::from(now.second());
    let whole = now - TimeDelta::seconds(into) - TimeDelta::nanoseconds(i64::from(now.nanosecond()));
    whole + TimeDelta::minutes(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid")
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("RFC 3339")
    }

    fn office(zone: &str) -> WorkingHours {
        WorkingHours::new(31, time(9, 0), time(17, 0), zone)
    }

    #[test]
    fn working_days_follow_the_bitmask_with_monday_first() {
        let hours = WorkingHours::new(0b000_0101, time(9, 0), time(17, 0), "UTC");
        // 7 Dec 2026 is a Monday.
        assert!(hours.is_working_day(date(2026, 12, 7)));
        assert!(!hours.is_working_day(date(2026, 12, 8)));
        assert!(hours.is_working_day(date(2026, 12, 9)));
        assert!(!office("UTC").is_working_day(date(2026, 12, 12)), "Saturday");
    }

    #[test]
    fn the_working_day_starts_and_ends_on_the_users_clock() {
        let paris = office("Europe/Paris");
        assert!(!paris.is_working_now(utc("2026-12-07T07:59:00Z")), "08:59 in Paris");
        assert!(paris.is_working_now(utc("2026-12-07T08:00:00Z")), "09:00 in Paris");
        assert!(!paris.is_working_now(utc("2026-12-07T16:00:00Z")), "17:00 ends it");
        assert!(!paris.is_working_now(utc("2026-12-12T10:00:00Z")), "a Saturday");
        assert_eq!(paris.minutes_left(utc("2026-12-07T14:30:00Z")), 90);
        assert_eq!(paris.minutes_left(utc("2026-12-07T06:00:00Z")), 480, "the whole day before it starts");
    }

    #[test]
    fn a_time_skipped_by_spring_forward_lands_after_the_gap() {
        // Berlin skips 02:00–03:00 on 28 March 2027.
        let berlin = office("Europe/Berlin");
        let at = berlin.at(date(2027, 3, 28), time(2, 30));
        assert_eq!(at, utc("2027-03-28T01:30:00Z"));
        assert_eq!(berlin.local(at).time(), time(3, 30));
    }

    #[test]
    fn a_repeated_fall_back_hour_means_its_first_occurrence() {
        // Berlin shows 02:00–03:00 twice on 31 October 2027: first CEST (+2), then CET (+1).
        let berlin = office("Europe/Berlin");
        assert_eq!(berlin.at(date(2027, 10, 31), time(2, 30)), utc("2027-10-31T00:30:00Z"));
        assert_eq!(berlin.at(date(2027, 10, 31), time(10, 0)), utc("2027-10-31T09:00:00Z"));
    }

    #[test]
    fn quarter_hour_zones_keep_the_wall_clock_time() {
        let kathmandu = office("Asia/Kathmandu");
        let due = utc("2026-12-07T04:15:00Z"); // 10:00 at +05:45
        assert_eq!(kathmandu.kept_time(Some(due)), time(10, 0));
        let placed = spread(
            &kathmandu,
            &mut Load::default(),
            utc("2026-12-08T06:00:00Z"),
            &[ToPlace { due_at: Some(due), minutes: 30 }],
        );
        // Tuesday 11:45 local: 10:00 has passed, so Wednesday.
        assert_eq!(placed[0].date, date(2026, 12, 9));
        assert_eq!(placed[0].at, utc("2026-12-09T04:15:00Z"));
    }

    #[test]
    fn the_time_of_day_is_kept_within_working_hours_else_the_start() {
        let hours = office("Europe/Paris");
        assert_eq!(hours.kept_time(Some(utc("2026-12-07T13:30:00Z"))), time(14, 30));
        assert_eq!(hours.kept_time(Some(utc("2026-12-07T20:00:00Z"))), time(9, 0), "21:00 is after hours");
        assert_eq!(hours.kept_time(Some(utc("2026-12-07T16:00:00Z"))), time(9, 0), "the end is not within");
        assert_eq!(hours.kept_time(None), time(9, 0));
    }

    #[test]
    fn candidates_skip_days_off_and_today_once_its_slot_has_passed() {
        let hours = office("UTC");
        // Friday 11 Dec 2026, 10:30.
        let now = utc("2026-12-11T10:30:00Z");
        assert_eq!(
            hours.candidate_days(now, time(9, 0)),
            [
                date(2026, 12, 14),
                date(2026, 12, 15),
                date(2026, 12, 16),
                date(2026, 12, 17),
                date(2026, 12, 18)
            ]
        );
        assert_eq!(hours.candidate_days(now, time(15, 0))[..2], [date(2026, 12, 11), date(2026, 12, 14)]);
        let never = WorkingHours::new(0, time(9, 0), time(17, 0), "UTC");
        assert_eq!(never.candidate_days(now, time(9, 0))[0], date(2026, 12, 12), "no days set: every day");
    }

    #[test]
    fn a_group_spreads_least_loaded_first_and_never_piles_onto_tomorrow() {
        let hours = office("UTC");
        // Monday 7 Dec, 18:00: Tuesday already holds 4 tasks, Wednesday 1.
        let now = utc("2026-12-07T18:00:00Z");
        let busy = (0..4)
            .map(|_| (utc("2026-12-08T11:00:00Z"), None))
            .chain([(utc("2026-12-09T11:00:00Z"), Some(60))]);
        let mut load = Load::of_tasks(&hours, busy);
        let due = Some(utc("2026-12-07T10:00:00Z"));
        let tasks = [ToPlace { due_at: due, minutes: 30 }; 6];
        let placed = spread(&hours, &mut load, now, &tasks);
        let days: Vec<u32> = placed.iter().map(|p| p.date.day()).collect();
        assert_eq!(
            days,
            [10, 11, 14, 10, 11, 14],
            "Thursday, Friday and Monday are empty; Wednesday (60 min) and Tuesday (120) stay as they are"
        );
        assert!(placed.iter().all(|p| p.at > now && hours.local(p.at).time() == time(10, 0)));
        assert_eq!(placed[0].seen[0], (date(2026, 12, 8), DayLoad { tasks: 4, minutes: 120 }));
        assert_eq!(load.on(date(2026, 12, 10)), DayLoad { tasks: 2, minutes: 60 });
        assert_eq!(loads(&placed[0].seen), "Tuesday has 4 tasks, Wednesday 1, Thursday 0");
    }

    #[test]
    fn ties_go_to_the_earliest_day() {
        let hours = office("UTC");
        let now = utc("2026-12-07T08:00:00Z");
        let placed = spread(&hours, &mut Load::default(), now, &[ToPlace { due_at: None, minutes: 30 }]);
        assert_eq!(placed[0].at, utc("2026-12-07T09:00:00Z"), "today, still ahead");
    }

    #[test]
    fn facts_read_as_people_say_them() {
        let now = utc("2026-12-09T10:30:00Z");
        assert_eq!(ago(now, utc("2026-12-08T10:00:00Z")), "1 day ago");
        assert_eq!(ago(now, utc("2026-12-09T07:00:00Z")), "3 hours ago");
        assert_eq!(ago(now, utc("2026-12-09T10:29:30Z")), "1 minute ago");
        assert_eq!(day_and_time(&office("Europe/Paris"), utc("2026-12-09T09:00:00Z")), "Wed 9 Dec, 10:00");
        assert_eq!(duration(135), "2 h 15 min");
        assert_eq!(duration(45), "45 min");
        assert_eq!(duration(120), "2 h");
        assert_eq!(next_quarter_hour(utc("2026-12-09T10:31:12.5Z")), utc("2026-12-09T10:45:00Z"));
        assert_eq!(next_quarter_hour(utc("2026-12-09T10:30:00Z")), utc("2026-12-09T10:45:00Z"));
    }
}
