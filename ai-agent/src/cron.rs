//! The cron safety net: each assistant's pass on a schedule (tokio-cron-scheduler).
//!
//! Events cover what users do; the passes cover what time does (a task becoming overdue, a
//! reminder coming due) and anything an event missed. Every replica schedules every job; each
//! pass's transaction-scoped advisory lock (or, for reminders, `skip locked`) lets one replica
//! do the work while the others skip their turn. Within a process a tick is skipped while the
//! previous one of the same job still runs, since the scheduler itself would overlap them.

use std::{sync::Arc, time::Instant};

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use croner::parser::{CronParser, Seconds};
use sqlx::PgPool;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

use crate::{
    agents::{self, PassOutcome, PassReport, Resume},
    config::{AgentConfig, Settings},
    db,
    error::Result,
};

/// The scheduled jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronJob {
    Overdue,
    Prioritization,
    Reminders,
    Housekeeping,
    DailyPlan,
}

impl CronJob {
    pub const ALL: [Self; 5] =
        [Self::Overdue, Self::Prioritization, Self::Reminders, Self::Housekeeping, Self::DailyPlan];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::Prioritization => "prioritization",
            Self::Reminders => "reminders",
            Self::Housekeeping => "housekeeping",
            Self::DailyPlan => "daily_plan",
        }
    }

    fn schedule(self, config: &AgentConfig) -> &str {
        match self {
            Self::Overdue => &config.overdue_schedule,
            Self::Prioritization => &config.priority_schedule,
            Self::Reminders => &config.reminder_schedule,
            Self::Housekeeping => &config.housekeeping_schedule,
            Self::DailyPlan => &config.daily_plan_schedule,
        }
    }

    /// One pass of this job at the current time, continuing a tick's scan after `resume`
    /// (the previous pass's [`PassReport::resume_after`]).
    pub async fn run_once(
        self,
        pool: &PgPool,
        settings: &Settings,
        resume: Option<Resume>,
    ) -> Result<PassOutcome> {
        let now = Utc::now();
        match self {
            Self::Overdue => {
                let after = match resume {
                    Some(Resume::Due(point)) => Some(point),
                    _ => None,
                };
                agents::overdue::sweep_once(pool, settings, now, after).await
            }
            Self::DailyPlan => {
                let after = match resume {
                    Some(Resume::User(user)) => Some(user),
                    _ => None,
                };
                agents::daily_plan::pass_once(pool, settings, now, after).await
            }
            Self::Prioritization => agents::prioritization::pass_once(pool, settings, now).await,
            Self::Reminders => agents::reminders::fire_due_once(pool, settings, now).await,
            Self::Housekeeping => agents::housekeeping::run_once(pool, settings, now).await,
        }
    }
}

/// Schedules every job and runs them until `shutdown`; an invalid schedule fails at once.
pub async fn run(
    pool: PgPool,
    settings: Arc<Settings>,
    config: AgentConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut scheduler = JobScheduler::new().await.context("cannot create the cron scheduler")?;
    for job in CronJob::ALL {
        let schedule = job.schedule(&config).to_owned();
        let invalid = || format!("invalid schedule `{schedule}` for the {} job", job.name());
        let periods = Arc::new(parse_schedule(&schedule).with_context(invalid)?);
        let running = Arc::new(tokio::sync::Mutex::new(()));
        let (pool, settings, shutdown) = (pool.clone(), Arc::clone(&settings), shutdown.clone());
        let cron_job = Job::new_async(schedule.as_str(), move |_, _| {
            let (pool, settings, shutdown, running, periods) = (
                pool.clone(),
                Arc::clone(&settings),
                shutdown.clone(),
                Arc::clone(&running),
                Arc::clone(&periods),
            );
            Box::pin(async move {
                let Ok(_running) = running.try_lock_owned() else {
                    tracing::debug!(
                        job = job.name(),
                        "the previous pass is still running; skipping this tick"
                    );
                    return;
                };
                if !claim_tick(job, &pool, &periods).await {
                    return;
                }
                // An interrupted pass rolls back; its rows wait for the next process.
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tick(job, &pool, &settings) => {}
                }
            })
        })
        .with_context(invalid)?;
        scheduler.add(cron_job).await.with_context(|| format!("cannot schedule the {} job", job.name()))?;
    }
    scheduler.start().await.context("cannot start the cron scheduler")?;
    tracing::info!("cron passes scheduled");
    shutdown.cancelled().await;
    scheduler.shutdown().await.context("the cron scheduler did not stop cleanly")?;
    tracing::info!("cron passes stopped");
    Ok(())
}

/// A schedule as the scheduler reads it (seconds first, day of month and weekday both apply).
fn parse_schedule(schedule: &str) -> anyhow::Result<croner::Cron> {
    Ok(CronParser::builder().seconds(Seconds::Required).dom_and_dow(true).build().parse(schedule)?)
}

/// Whether this replica runs the tick that just fired: the first replica to claim the tick's
/// period does, once. Reminders are not claimed: their passes share a burst between replicas
/// (`skip locked`), which is what keeps everyone's 9:00 reminders on time.
async fn claim_tick(job: CronJob, pool: &PgPool, periods: &croner::Cron) -> bool {
    if job == CronJob::Reminders {
        return true;
    }
    let period = match period_of(periods, Utc::now()) {
        Ok(period) => period,
        Err(e) => {
            tracing::warn!(job = job.name(), error.message = %e, "cannot name this tick's period; running it");
            return true;
        }
    };
    match db::cron::claim_period(pool, job.name(), period).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::debug!(job = job.name(), %period, "another replica ran this period");
            false
        }
        Err(e) => {
            tracing::warn!(job = job.name(), error.message = %e, "cannot claim this tick; the next tick retries");
            false
        }
    }
}

/// The scheduled time of the tick that fired at `now`: the schedule's latest occurrence at or
/// before it. Schedules count whole seconds, but the search keeps `now`'s fraction, which
/// would give each replica's tick a period of its own; so it starts from the whole second.
fn period_of(
    periods: &croner::Cron,
    now: DateTime<Utc>,
) -> std::result::Result<DateTime<Utc>, croner::errors::CronError> {
    periods.find_previous_occurrence(&now.trunc_subsecs(0), true)
}

/// One scheduled tick: passes until the backlog is smaller than a batch, so a backlog (10,000
/// tasks falling overdue at once) is handled within the tick, not a few batches per tick. Each
/// pass is its own bounded transaction holding one connection, so the other jobs and the
/// deliveries keep the rest of the pool.
pub async fn tick(job: CronJob, pool: &PgPool, settings: &Settings) {
    let mut resume = None;
    loop {
        let started = Instant::now();
        let report = match job.run_once(pool, settings, resume).await {
            Ok(PassOutcome::Ran(report)) => report,
            Ok(PassOutcome::Busy) => {
                tracing::debug!(job = job.name(), "another replica is running this pass");
                return;
            }
            Err(e) => {
                metrics::counter!("agent_cron_pass_failures_total", "job" => job.name()).increment(1);
                if e.is_transient() {
                    tracing::warn!(job = job.name(), error.message = %e, "cron pass failed; the next tick retries");
                } else {
                    tracing::error!(job = job.name(), error.message = %e, error.cause_chain = ?e,
                        "cron pass failed; the next tick retries");
                }
                return;
            }
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        metrics::histogram!("agent_cron_pass_duration_seconds", "job" => job.name())
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("agent_cron_rows_examined_total", "job" => job.name())
            .increment(u64::try_from(report.examined).unwrap_or(0));
        macro_rules! log_pass {
            ($level:ident) => {
                tracing::$level!(
                    job = job.name(),
                    examined = report.examined,
                    suggestionsCreated = report.suggestions_created,
                    suggestionsSuppressed = report.suggestions_suppressed,
                    eventsPublished = report.events_published,
                    suggestionsExpired = report.suggestions_expired,
                    processedEventsPurged = report.processed_events_purged,
                    processingDurationMs = duration_ms,
                    "cron pass finished"
                )
            };
        }
        if report.made_progress() {
            log_pass!(info);
        } else {
            log_pass!(debug);
        }
        if !worth_another_pass(&report, settings) {
            return;
        }
        resume = report.resume_after;
    }
}

/// A pass that filled its batch and changed something leaves more behind; one that changed
/// nothing would find the same batch again, unless it resumes a keyset scan after it. The
/// daily plan's scan needs that: a batch of users with nothing that fits today changes
/// nothing, and the users after them must still get their plans.
fn worth_another_pass(report: &PassReport, settings: &Settings) -> bool {
    let full = i64::try_from(report.examined).unwrap_or(i64::MAX) >= settings.batch_size;
    full && (report.made_progress() || matches!(report.resume_after, Some(Resume::User(_))))
}

/// What [`drain`] did.
#[derive(Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrainReport {
    pub job: &'static str,
    pub passes: usize,
    pub examined: usize,
    pub suggestions_created: usize,
    pub events_published: usize,
    pub duration_ms: f64,
    /// The slowest single pass (one transaction).
    pub max_pass_ms: f64,
}

/// Runs `job`'s passes back to back until one finds less than a batch or changes nothing: what
/// the scheduled ticks would do over several ticks, at once.
pub async fn drain(job: CronJob, pool: &PgPool, settings: &Settings) -> Result<DrainReport> {
    let started = Instant::now();
    let mut drained = DrainReport { job: job.name(), ..DrainReport::default() };
    let mut resume = None;
    loop {
        let pass_started = Instant::now();
        let PassOutcome::Ran(report) = job.run_once(pool, settings, resume).await? else { break };
        drained.max_pass_ms = drained.max_pass_ms.max(pass_started.elapsed().as_secs_f64() * 1000.0);
        drained.passes += 1;
        drained.examined += report.examined;
        drained.suggestions_created += report.suggestions_created;
        drained.events_published += report.events_published;
        if !worth_another_pass(&report, settings) {
            break;
        }
        resume = report.resume_after;
    }
    drained.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(drained)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn ticks_of_one_period_on_different_replicas_name_the_same_period() {
        let periods = parse_schedule("*/4 * * * * *").unwrap();
        let fired: DateTime<Utc> = "2026-12-06T07:40:28.085Z".parse().unwrap();
        let later = fired + TimeDelta::milliseconds(1_400);
        let expected: DateTime<Utc> = "2026-12-06T07:40:28Z".parse().unwrap();
        assert_eq!(period_of(&periods, fired).unwrap(), expected);
        assert_eq!(period_of(&periods, later).unwrap(), expected);
        assert_eq!(
            period_of(&periods, expected + TimeDelta::seconds(4)).unwrap(),
            expected + TimeDelta::seconds(4)
        );
    }
}
