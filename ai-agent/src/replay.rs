//! Replaying dead letters once whatever made them fail is fixed (a bug deployed away, a
//! database back). Each letter goes through the same consumer as a live delivery, so the
//! event-id de-duplication makes a replay idempotent: an event that was in fact processed
//! before changes nothing, and a letter replayed twice is skipped the second time.

use events::dapr::DeliveryStatus;
use sqlx::PgPool;

use crate::{config::Settings, consumer, db, registry::Registry};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Processed now (or found already processed) and marked replayed.
    pub replayed: u64,
    /// Still impossible to process (malformed, unknown version): left for inspection.
    pub still_failing: u64,
    /// The replay stopped early because processing failed transiently; run it again later.
    pub interrupted: bool,
}

pub async fn replay_dead_letters(
    pool: &PgPool,
    registry: &Registry,
    settings: &Settings,
) -> sqlx::Result<ReplayReport> {
    let mut report = ReplayReport::default();
    for (id, payload) in db::dead_letters::pending(pool, 10_000).await? {
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        match consumer::receive_task_event(pool, registry, settings, &body, None).await {
            DeliveryStatus::Success => {
                db::dead_letters::mark_replayed(pool, id).await?;
                report.replayed += 1;
            }
            DeliveryStatus::Drop => report.still_failing += 1,
            DeliveryStatus::Retry => {
                report.interrupted = true;
                break;
            }
        }
    }
    Ok(report)
}
