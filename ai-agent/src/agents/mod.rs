//! The assistants. Each reacts to events (through handlers in the [`Registry`]) and also runs a
//! cron pass, a one-step function that the `cron` module schedules and the tests call directly:
//!
//! - [`overdue`]: proposes a new due time for open tasks past theirs (one grouped proposal
//!   for a user's several) and announces `tasks.overdue`;
//! - [`daily_plan`]: proposes the day's tasks when a user's working day starts;
//! - [`prioritization`]: advises a higher priority for tasks due soon, warns about overload,
//!   and asks about tasks nobody touched for two weeks;
//! - [`reminders`]: fires the reminders the backend scheduled and announces `tasks.reminder`;
//! - [`housekeeping`]: expires old suggestions and forgets old processed event ids.
//!
//! [`schedule`] holds the working-calendar rules both the overdue proposals and the daily plan
//! use. Every suggestion goes through [`propose`], which applies the per-user gate (assistants
//! on, kind not paused by the user's dismissals, hourly limit) and the de-duplication key in
//! one statement.

pub mod daily_plan;
pub mod housekeeping;
pub mod overdue;
pub mod prioritization;
pub mod reminders;
pub mod schedule;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use events::{EventPayload, EventType, TaskEvent};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    db,
    error::Result,
    registry::{EventContext, EventHandler, Reaction, Registry},
    suggestion::{Inserted, Kind, NewSuggestion},
};

/// The assistants' limits live with the rest of the configuration; every pass takes them.
pub use crate::config::Settings;

impl Registry {
    /// The assistants' reactions, one line per reaction. Defined here rather than in
    /// `registry`, so the plumbing knows nothing of the agents it runs.
    pub fn standard() -> Self {
        use EventType::{Completed, Created, Deleted, Incomplete, Updated};
        let mut registry = Self::new();
        registry
            .register(&[Created, Updated, Incomplete], overdue::FlagIfOverdue)
            .register(&[Created, Updated], prioritization::AdviseOnChange)
            .register(&[Completed, Deleted], DismissWhenDone);
        // `tasks.overdue` and `tasks.reminder` are the agents' own announcements coming back
        // through the subscription: no handler, so they are acknowledged and can never loop.
        registry
    }
}

/// How a cron pass went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassOutcome {
    Ran(PassReport),
    /// Another replica holds this job's lock and is running the same pass.
    Busy,
}

impl PassOutcome {
    /// The report, or `None` when the pass was skipped.
    pub fn report(self) -> Option<PassReport> {
        match self {
            Self::Ran(report) => Some(report),
            Self::Busy => None,
        }
    }
}

/// What one cron pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    /// Candidates the pass looked at: tasks, users, or claimed reminders.
    pub examined: usize,
    pub suggestions_created: usize,
    /// Not created because the user turned the assistants off, paused the kind by dismissing
    /// it repeatedly, or hit the hourly limit.
    pub suggestions_suppressed: usize,
    /// Events written to the outbox (`tasks.overdue`, `tasks.reminder`).
    pub events_published: usize,
    pub suggestions_expired: usize,
    pub processed_events_purged: usize,
    /// Where the next pass of the same tick starts its scan (the overdue sweep and the daily
    /// plan, after a full batch); `None` starts from the beginning.
    pub resume_after: Option<Resume>,
}

impl PassReport {
    fn absorb(&mut self, reaction: Reaction) {
        self.suggestions_created += reaction.suggestions_created as usize;
        self.suggestions_suppressed += reaction.suggestions_suppressed as usize;
        self.events_published += reaction.events_published as usize;
    }

    /// True when the pass changed something, so a full batch is worth following up at once.
    pub fn made_progress(&self) -> bool {
        self.suggestions_created
            + self.events_published
            + self.suggestions_expired
            + self.processed_events_purged
            > 0
    }
}

/// A place in a keyset scan, for the next pass of the same tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// The overdue sweep's `(due_at, task_id)` order.
    Due(db::tasks::ScanPoint),
    /// The daily plan's user order.
    User(Uuid),
}

/// Where a suggestion or event came from: a delivered event or a cron pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a> {
    pub source_event: Option<&'a str>,
    pub correlation_id: &'a str,
    pub traceparent: Option<&'a str>,
}

impl<'a> Origin<'a> {
    pub fn of_event(event: &'a TaskEvent, ctx: &EventContext<'a>) -> Self {
        Self {
            source_event: Some(ctx.event_id),
            correlation_id: &event.correlation_id,
            traceparent: ctx.traceparent,
        }
    }

    pub fn of_pass(correlation_id: &'a str) -> Self {
        Self { source_event: None, correlation_id, traceparent: None }
    }
}

/// A fresh correlation id for one cron pass, shared by everything it creates, so its
/// suggestions and events can be traced back to the pass's log line.
pub(crate) fn pass_correlation_id(job: &str) -> String {
    format!("ai-agent.{job}.{}", Uuid::now_v7())
}

/// Writes `suggestion` through the per-user gate and counts the result into a [`Reaction`].
pub(crate) async fn propose(
    conn: &mut PgConnection,
    suggestion: &NewSuggestion,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(Inserted, Reaction)> {
    let inserted = db::suggestions::insert(
        conn,
        suggestion,
        now,
        now + settings.suggestion_ttl,
        settings.suggestions_per_hour,
    )
    .await?;
    Ok((inserted, reaction_to(suggestion.kind, inserted)))
}

/// What became of one suggestion, counted into a [`Reaction`] and the metrics; shared by
/// [`propose`] and the batch writers so both count alike.
pub(crate) fn reaction_to(kind: Kind, inserted: Inserted) -> Reaction {
    let mut reaction = Reaction::default();
    match inserted {
        Inserted::Created(_) => {
            reaction.suggestions_created = 1;
            // Counted when written: a transaction that later rolls back (then redelivered)
            // counts again, so this may run slightly ahead of the table.
            metrics::counter!("agent_suggestions_created_total", "kind" => kind.as_str()).increment(1);
        }
        Inserted::Disabled | Inserted::RateLimited | Inserted::BackedOff => {
            reaction.suggestions_suppressed = 1;
            let reason = match inserted {
                Inserted::Disabled => "disabled",
                Inserted::BackedOff => "backed_off",
                _ => "rate_limited",
            };
            metrics::counter!("agent_suggestions_suppressed_total", "reason" => reason).increment(1);
        }
        Inserted::Duplicate => {}
    }
    reaction
}

/// The user's time zone (UTC if it is unknown to this build).
pub(crate) fn zone(time_zone: &str) -> Tz {
    time_zone.parse().unwrap_or(Tz::UTC)
}

/// An instant as the user reads it: in their time zone (UTC if it is unknown to this build).
pub(crate) fn local_time(at: DateTime<Utc>, time_zone: &str) -> String {
    at.with_timezone(&zone(time_zone)).format("%a %-d %b %Y, %H:%M %Z").to_string()
}

/// The user's calendar day around `at`, as `[start, end)` instants. A midnight that the zone
/// skips (a daylight-saving jump at 00:00) starts the day at the first instant after it.
pub(crate) fn local_day(at: DateTime<Utc>, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = at.with_timezone(&zone).date_naive();
    let start_of = |date: chrono::NaiveDate| {
        let midnight = date.and_time(chrono::NaiveTime::MIN);
        midnight
            .and_local_timezone(zone)
            .earliest()
            .or_else(|| (midnight + chrono::TimeDelta::hours(1)).and_local_timezone(zone).earliest())
            .map_or_else(|| midnight.and_utc(), |local| local.with_timezone(&Utc))
    };
    (start_of(day), start_of(day + chrono::TimeDelta::days(1)))
}

/// A completed (or deleted) task needs no more advice: its open suggestions of every kind are
/// dismissed, and its open items (of a grouped proposal or a daily plan) skipped, which
/// resolves a suggestion left with none. (A deleted task's suggestions and items are already
/// gone with it, by cascade; the handler resolves the groups this emptied, and still runs the
/// rest, so a future soft delete is covered.)
pub struct DismissWhenDone;

#[async_trait]
impl EventHandler for DismissWhenDone {
    fn name(&self) -> &'static str {
        "dismiss_when_done"
    }

    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &TaskEvent,
        ctx: &EventContext<'_>,
    ) -> Result<Reaction> {
        const TASK_KINDS: &[Kind] =
            &[Kind::Overdue, Kind::ScheduleAdjustment, Kind::Priority, Kind::Stale, Kind::Reminder];
        let mut dismissed =
            db::suggestions::dismiss_open_for_task(conn, event.task_id, TASK_KINDS, None, ctx.now).await?;
        db::suggestions::skip_open_items(conn, event.task_id, None, ctx.now).await?;
        if matches!(event.payload, EventPayload::Deleted { .. }) {
            dismissed += db::suggestions::resolve_emptied(conn, event.user_id, ctx.now).await?;
        }
        Ok(Reaction { suggestions_dismissed: count(dismissed), ..Reaction::default() })
    }
}

/// Row counts into the `u32`s of a [`Reaction`]; a handler never touches four billion rows.
pub(crate) fn count(rows: u64) -> u32 {
    u32::try_from(rows).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn local_time_uses_the_users_zone_and_falls_back_to_utc() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 9, 30, 0).single().expect("valid");
        assert_eq!(local_time(at, "Europe/Paris"), "Sat 28 Nov 2026, 10:30 CET");
        assert_eq!(local_time(at, "Not/AZone"), "Sat 28 Nov 2026, 09:30 UTC");
    }

    #[test]
    fn a_local_day_runs_from_midnight_to_midnight_in_the_users_zone() {
        let at = Utc.with_ymd_and_hms(2026, 12, 9, 23, 30, 0).single().expect("valid");
        let (start, end) = local_day(at, zone("Europe/Paris"));
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 12, 9, 23, 0, 0).single().expect("valid"));
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 12, 10, 23, 0, 0).single().expect("valid"));
    }

    #[test]
    fn the_standard_registry_ignores_the_agents_own_events() {
        let registry = Registry::standard();
        assert!(registry.handlers(EventType::Overdue).is_empty());
        assert!(registry.handlers(EventType::Reminder).is_empty());
        assert!(!registry.handlers(EventType::Created).is_empty());
        assert!(format!("{registry:?}").contains("tasks.created"));
    }
}
