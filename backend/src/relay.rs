//! The outbox relay: publishes committed events to the Dapr sidecar, in order, at least once.
//!
//! Each pass runs in one transaction that holds a transaction-scoped advisory lock, so with
//! several replicas exactly one publishes at a time, and each user's rows (the partition key)
//! go out in `outbox_id` order. Rows
//! are marked published in the same transaction after the sidecar accepted them; a crash in
//! between publishes them again with the same CloudEvent id, which consumers de-duplicate.
//! The API wakes the relay after each change it commits; the relay also polls, for events
//! written elsewhere (the ai-agent's, or another replica's while that replica's relay was
//! busy). Commits do not NOTIFY: PostgreSQL serialises commits that do.
//!
//! In the transaction that marks a batch published, the relay also announces the batch to the
//! users' open tabs (one `user_stream` notification per ~8 kB, see [`crate::stream`]), so a
//! tab hears of a change when the assistants do.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use events::client::{DaprClient, OutgoingMessage, PublishError};
use futures::StreamExt;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    db::{self, outbox::PendingEvent},
    stream::{self, Announcement},
};

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
        let mut by_key: Vec<Vec<&PendingEvent>> = Vec::new();
        let mut slot_of: HashMap<uuid::Uuid, usize> = HashMap::new();
        for event in &pending {
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
            futures::stream::iter(calls).buffer_unordered(Self::CONCURRENT_KEYS).collect().await;
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
        let published_ids: HashSet<i64> = published.iter().copied().collect();
        let updates: Vec<Announcement> = pending
            .iter()
            .filter(|event| published_ids.contains(&event.outbox_id))
            .flat_map(announcements_of)
            .collect();
        db::outbox::announce(&mut tx, stream::CHANNEL, &stream::announcements(&updates)).await?;
        tx.commit().await?;
        Ok(match first_failure {
            None => RelayOutcome::Published(published.len()),
            Some(error) => RelayOutcome::Stalled { published: published.len(), error },
        })
    }

    /// Publish calls in flight at once, one per partition key.
    const CONCURRENT_KEYS: usize = 32;

    /// Publishes one key's events in order; returns those that went out and the first failure.
    async fn publish_in_order(&self, events: Vec<&PendingEvent>) -> KeyOutcome {
        let mut done = Vec::with_capacity(events.len());
        for event in events {
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

    /// How soon a pass that found another replica relaying tries again: that replica may have
    /// read the backlog before this one's change committed.
    const BUSY_RETRY: Duration = Duration::from_millis(20);

    /// Relays until `shutdown`: a pass whenever `wake` fires, every `poll_interval` otherwise.
    pub async fn run(self, wake: Arc<Notify>, poll_interval: Duration, shutdown: CancellationToken) {
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
            let wait = match self.relay_once().await {
                Ok(RelayOutcome::Published(n)) => {
                    backoff.recovered(n);
                    if n >= self.batch_size as usize { Duration::ZERO } else { poll_interval }
                }
                Ok(RelayOutcome::Idle) => poll_interval,
                Ok(RelayOutcome::Busy) => Self::BUSY_RETRY.min(poll_interval),
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
                () = wake.notified(), if !backoff.is_failing() => {}
            }
        }
        tracing::info!("outbox relay stopped");
    }
}

/// What a published event tells its user's tabs: that a task changed, and for a fired
/// reminder also what the reminder toast shows.
fn announcements_of(event: &PendingEvent) -> Vec<Announcement> {
    let mut updates = vec![Announcement {
        user_id: event.user_id,
        event: "task",
        data: json!({ "eventType": event.event_type, "taskId": event.task_id }),
    }];
    if event.event_type == events::EventType::Reminder.as_str() {
        let title: String = event
            .payload
            .get("title")
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        updates.push(Announcement {
            user_id: event.user_id,
            event: "reminder",
            data: json!({ "taskId": event.task_id, "title": title, "dueAt": event.payload.get("dueDate") }),
        });
    }
    updates
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
