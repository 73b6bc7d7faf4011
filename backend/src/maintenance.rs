//! Periodic clean-up: published outbox rows past their retention, expired sessions and
//! idempotency keys, and rate-limit windows and sign-in failures that have run out.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::db;

/// One clean-up pass; returns the number of rows removed.
pub async fn purge_once(db: &PgPool, outbox_retention: Duration) -> sqlx::Result<u64> {
    let cutoff = chrono::Utc::now()
        - chrono::Duration::from_std(outbox_retention).unwrap_or(chrono::Duration::days(7));
    let mut removed = 0;
    loop {
        let n = db::outbox::purge_published(db, cutoff).await?;
        removed += n;
        if n == 0 {
            break;
        }
    }
    removed += db::sessions::purge_expired(db).await?;
    removed += db::idempotency::purge_expired(db).await?;
    removed += db::rate_limits::purge_expired(db).await?;
    removed += db::chat_usage::purge_expired(db).await?;
    removed += db::chat::purge_expired_turns(db).await?;
    Ok(removed)
}

pub async fn run(db: PgPool, outbox_retention: Duration, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_hours(1));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = every.tick() => {}
        }
        match purge_once(&db, outbox_retention).await {
            Ok(removed) => tracing::info!(removed, "housekeeping done"),
            Err(e) => tracing::warn!(error.message = %e, "housekeeping failed; retrying in an hour"),
        }
    }
}
