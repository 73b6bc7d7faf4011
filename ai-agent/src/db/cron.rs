//! Cron periods: which replica runs a scheduled tick.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Claims `period` (a tick's scheduled time) for `job`; `true` for exactly one caller per job
/// and period, `false` for the others and for periods older than one already claimed.
pub async fn claim_period(db: impl PgExecutor<'_>, job: &str, period: DateTime<Utc>) -> sqlx::Result<bool> {
    let claimed: Option<i32> = sqlx::query_scalar(
        "insert into cron_period (job, period) values ($1, $2)
         on conflict (job) do update set period = excluded.period
             where cron_period.period < excluded.period
         returning 1",
    )
    .bind(job)
    .bind(period)
    .fetch_optional(db)
    .await?;
    Ok(claimed.is_some())
}
