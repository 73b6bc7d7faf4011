//! Housekeeping: open suggestions past their `expires_at` become `expired`, and processed event
//! ids older than the retention are forgotten.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{PassOutcome, PassReport, Settings};
use crate::{
    consumer,
    db::{self, locks::JobLock},
    error::Result,
};

/// One housekeeping pass at `now`, at most a batch of each kind of row. Only one replica runs
/// it at a time; the others get [`PassOutcome::Busy`].
#[tracing::instrument(name = "housekeeping_pass", skip_all)]
pub async fn run_once(pool: &PgPool, settings: &Settings, now: DateTime<Utc>) -> Result<PassOutcome> {
    let mut tx = pool.begin().await?;
    if !db::locks::try_job_lock(&mut tx, JobLock::Housekeeping).await? {
        return Ok(PassOutcome::Busy);
    }
    let expired = db::suggestions::expire_open(&mut tx, now, settings.batch_size).await?;
    let purged = db::processed::purge(
        &mut *tx,
        &[consumer::CONSUMER, consumer::DEAD_LETTER_CONSUMER],
        now - settings.processed_event_retention,
        settings.batch_size,
    )
    .await?;
    tx.commit().await?;
    let (expired, purged) =
        (usize::try_from(expired).unwrap_or(usize::MAX), usize::try_from(purged).unwrap_or(usize::MAX));
    Ok(PassOutcome::Ran(PassReport {
        // Either kind filling its batch is a backlog worth another pass at once.
        examined: expired.max(purged),
        suggestions_expired: expired,
        processed_events_purged: purged,
        ..PassReport::default()
    }))
}
