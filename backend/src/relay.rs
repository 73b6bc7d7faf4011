//! The outbox relay: publishes committed events to the Dapr sidecar, in order, at least once.
//!
//! Each pass runs in one transaction that holds a transaction-scoped advisory lock, so with
//! several replicas exactly one publishes at a time, and each user's rows (the partition key)
//! go out in `outbox_id` order. Rows
//! are marked published in the same transaction after the sidecar accepted them; a crash in
//! between publishes them again with the same CloudEvent id, which consumers de-duplicate.
//! The relay wakes on the `outbox_inserted` notification sent at commit and polls as a
//! fallback, so a lost notification (or a pooler that drops LISTEN) only delays an event.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use events::client::{DaprClient, OutgoingMessage, PublishError};
use futures::{StreamExt, stream};
use sqlx::{PgPool, postgres::PgListener};
use tokio_util::sync::CancellationToken;

use crate::db::{self, outbox::PendingEvent};

#[derive(Debug)]
pub enum RelayOutcome {
    /// Published this many events; the backlog may hold more.
    Published(usize),
    /// Nothing was waiting.
    Idle,
    /// Another replica holds the relay lock.
    Busy,
    /// The sidecar refused or could not be reached after `published` events; the rest wait.
    Stalled { published: usize, error: PublishError },
}

/// What became of one partition key's events in a pass: the rows that went out, and the row
/// that failed (with why), after which that key's later rows wait.
struct KeyOutcome {
    published: Vec<i64>,
    failure: Option<(i64, PublishError)>,
}

pub struct Relay {
    pub db: PgPool,
    pub dapr: DaprClient,
    pub pubsub: String,
    pub batch_size: u32,
}

impl Relay {
    /// One pass: publish up to a batch of waiting events. Events of one user (the partition
    /// key, the only order Kafka keeps) go out one after another in commit order, stopping at
    /// that user's first failure; different users' events go out concurrently, so one slow
    /// call does not hold up everyone and the relay keeps pace with the API.
    #[tracing::instrument(name = "relay_pass", skip_all)]
    pub async fn relay_once(&self) -> sqlx::Result<RelayOutcome> {
        let mut tx = self.db.begin().await?;
        if !db::outbox::try_lock_relay(&mut tx).await? {
            return Ok(RelayOutcome::Busy);
        }
        let pending = db::outbox::unpublished(&mut tx, self.batch_size).await?;
        if pending.is_empty() {
            return Ok(RelayOutcome::Idle);
        }
        let total = pending.len();
        let mut by_key: Vec<Vec<PendingEvent>> = Vec::new();
        let mut slot_of: HashMap<uuid::Uuid, usize> = HashMap::new();
        for event in pending {
            let slot = *slot_of.entry(event.user_id).or_insert_with(|| {
                by_key.push(Vec::new());
                by_key.len() - 1
            });
            by_key[slot].push(event);
        }
        // Futures built in a plain loop rather than a closure over `self`: the closure form
        // trips the compiler's higher-ranked `Send` inference for the spawned relay task.
        let mut calls = Vec::with_capacity(by_key.len());
        for events in by_key {
            calls.push(self.publish_in_order(events));
        }
        let results: Vec<KeyOutcome> =
            stream::iter(calls).buffer_unordered(Self::CONCURRENT_KEYS).collect().await;
        let mut published = Vec::with_capacity(total);
        let mut first_failure = None;
        for KeyOutcome { published: done, failure } in results {
            published.extend(done);
            if let Some((outbox_id, error)) = failure {
                db::outbox::record_failure(&mut tx, outbox_id, &error.to_string()).await?;
                first_failure.get_or_insert(error);
            }
        }
        db::outbox::mark_published(&mut tx, &published).await?;
        tx.commit().await?;
        Ok(match first_failure {
            None => RelayOutcome::Published(published.len()),
            Some(error) => RelayOutcome::Stalled { published: published.len(), error },
        })
    }

    /// Publish calls in flight at once, one per partition key.
    const CONCURRENT_KEYS: usize = 32;

    /// Publishes one key's events in order; returns those that went out and the first failure.
    async fn publish_in_order(&self, events: Vec<PendingEvent>) -> KeyOutcome {
        let mut done = Vec::with_capacity(events.len());
        for event in &events {
            let id = event.event_id.to_string();
            let partition_key = event.user_id.to_string();
            let message = OutgoingMessage {
                id: &id,
                event_type: &event.event_type,
                partition_key: &partition_key,
                correlation_id: Some(&event.correlation_id),
                traceparent: event.traceparent.as_deref(),
                data: &event.payload,
            };
            let started = Instant::now();
            let result = self.dapr.publish(&self.pubsub, &event.topic, &message).await;
            metrics::histogram!("outbox_publish_duration_seconds").record(started.elapsed().as_secs_f64());
            match result {
                Ok(()) => {
                    metrics::counter!("outbox_events_published_total").increment(1);
                    tracing::debug!(event.id = %id, event.type = %event.event_type, correlation_id = %event.correlation_id, "event published");
                    done.push(event.outbox_id);
                }
                Err(error) => {
                    let kind = if error.is_retryable() { "unavailable" } else { "rejected" };
                    metrics::counter!("outbox_publish_failures_total", "kind" => kind).increment(1);
                    return KeyOutcome { published: done, failure: Some((event.outbox_id, error)) };
                }
            }
        }
        KeyOutcome { published: done, failure: None }
    }

    /// How often the backlog gauges are refreshed: often enough for a scrape every 15 s, rarely
    /// enough that a busy relay does not count the backlog on every pass.
    const GAUGE_EVERY: Duration = Duration::from_secs(1);

    /// Sets `outbox_backlog_events` and `outbox_oldest_unpublished_age_seconds`; left as they
    /// were when the database cannot be reached (the relay's own warning says so).
    async fn sample_backlog(&self) {
        if let Ok(backlog) = db::outbox::backlog(&self.db).await {
            metrics::gauge!("outbox_backlog_events").set(backlog.unpublished as f64);
            let age = backlog
                .oldest_created_at
                .map_or(0.0, |t| (chrono::Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
            metrics::gauge!("outbox_oldest_unpublished_age_seconds").set(age);
        }
    }

    /// Relays until `shutdown`. `listen_pool` must reach the database directly (not through a
    /// transaction-mode pooler) for the wake-up notifications to arrive.
    pub async fn run(self, listen_pool: PgPool, poll_interval: Duration, shutdown: CancellationToken) {
        let mut listener = connect_listener(&listen_pool, true).await;
        let mut backoff = Backoff::new();
        let mut gauges_sampled: Option<Instant> = None;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            if gauges_sampled.is_none_or(|t| t.elapsed() >= Self::GAUGE_EVERY) {
                gauges_sampled = Some(Instant::now());
                self.sample_backlog().await;
            }
            // A database that was down at start-up (or a lost connection) leaves the relay
            // polling; keep trying to get the commit notifications back.
            if listener.is_none() {
                listener = connect_listener(&listen_pool, false).await;
            }
            let wait = match self.relay_once().await {
                Ok(RelayOutcome::Published(n)) => {
                    backoff.recovered(n);
                    if n >= self.batch_size as usize { Duration::ZERO } else { poll_interval }
                }
                Ok(RelayOutcome::Idle | RelayOutcome::Busy) => poll_interval,
                Ok(RelayOutcome::Stalled { published, error }) => {
                    backoff.failed(published, &error);
                    backoff.delay()
                }
                Err(e) => {
                    tracing::warn!(error.message = %e, error.cause_chain = ?e, "outbox relay pass failed");
                    backoff.delay()
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
                // Only a healthy relay is woken early; a stalled one keeps its backoff.
                () = next_notification(listener.as_mut()), if !backoff.is_failing() => {}
            }
        }
        tracing::info!("outbox relay stopped");
    }
}

/// LISTENs for commit notifications; `None` (polling only) when the database cannot be
/// reached directly. Warns on the first failure only, since the relay retries every pass.
async fn connect_listener(pool: &PgPool, first_attempt: bool) -> Option<PgListener> {
    let connected = match PgListener::connect_with(pool).await {
        Ok(mut listener) => listener.listen("outbox_inserted").await.map(|()| listener),
        Err(e) => Err(e),
    };
    match connected {
        Ok(listener) => {
            if !first_attempt {
                tracing::info!("listening for outbox commits again");
            }
            Some(listener)
        }
        Err(e) if first_attempt => {
            tracing::warn!(error.message = %e, "cannot LISTEN for outbox commits; polling until it can");
            None
        }
        Err(_) => None,
    }
}

/// Waits for a commit notification; drains any others already queued, since one pass serves
/// them all. Without a listener it never completes and the poll interval rules.
async fn next_notification(listener: Option<&mut PgListener>) {
    let Some(listener) = listener else { return std::future::pending().await };
    match listener.recv().await {
        Ok(_) => while listener.next_buffered().is_some() {},
        // The listener reconnects on its next call; back off a little so a database outage
        // does not become a busy loop.
        Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
    }
}

/// Exponential backoff for an unreachable sidecar, with warnings limited to one per interval
/// so an outage does not flood the logs.
struct Backoff {
    failures: u32,
    first_failure: Option<Instant>,
    last_warning: Option<Instant>,
}

impl Backoff {
    const MIN: Duration = Duration::from_millis(100);
    // Low: the sidecar is on the same host, so a probe costs next to nothing, and a broker
    // outage of a few seconds must not leave events waiting half a minute once it is over.
    const MAX: Duration = Duration::from_secs(5);
    const WARN_EVERY: Duration = Duration::from_secs(30);

    fn new() -> Self {
        Self { failures: 0, first_failure: None, last_warning: None }
    }

    fn is_failing(&self) -> bool {
        self.failures > 0
    }

    fn delay(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.failures.saturating_sub(1).min(16));
        (Self::MIN * factor).min(Self::MAX)
    }

    fn failed(&mut self, published: usize, error: &PublishError) {
        self.failures += 1;
        let since = *self.first_failure.get_or_insert_with(Instant::now);
        let due = self.last_warning.is_none_or(|t| t.elapsed() >= Self::WARN_EVERY);
        if due {
            self.last_warning = Some(Instant::now());
            let outage_secs = since.elapsed().as_secs();
            if error.is_retryable() {
                tracing::warn!(error.message = %error, published, attempts = self.failures, outage_secs,
                    "Dapr sidecar unavailable; events wait in the outbox");
            } else {
                tracing::error!(error.message = %error, published, attempts = self.failures, outage_secs,
                    "Dapr sidecar refused an event (check the pub/sub component and token); events wait in the outbox");
            }
        }
    }

    fn recovered(&mut self, published: usize) {
        if let Some(since) = self.first_failure.take() {
            tracing::info!(
                published,
                outage_secs = since.elapsed().as_secs(),
                "Dapr sidecar reachable again; relaying the backlog"
            );
        }
        self.failures = 0;
        self.last_warning = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_tenth_of_a_second_up_to_five() {
        let mut b = Backoff::new();
        let mut delays = Vec::new();
        for _ in 0..12 {
            b.failures += 1;
            delays.push(b.delay());
        }
        assert_eq!(delays[0], Duration::from_millis(100));
        assert_eq!(delays[1], Duration::from_millis(200));
        assert_eq!(delays[5], Duration::from_millis(3200));
        assert_eq!(delays[6], Duration::from_secs(5));
        assert_eq!(delays[11], Duration::from_secs(5));
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
    }
}
