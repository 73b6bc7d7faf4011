//! The outbox relay: publishes committed events to the Dapr sidecar, in order, at least once.
//!
//! Each pass runs in one transaction that holds a transaction-scoped advisory lock, so with
//! several replicas exactly one publishes at a time, and each user's rows (the partition key)
//! go out in `outbox_id` order as they become visible. A task's changes commit in that order
//! (its row lock, held to commit, orders them); two writes of one user that overlap in time
//! (the ai-agent's announcement and the user's next change) may commit out of id order, and
//! the later-committed one then goes out later. Rows
//! are marked published in the same transaction after the sidecar accepted them; a crash in
//! between publishes them again with the same CloudEvent id, which consumers de-duplicate.
//! The API wakes the relay after each change it commits; the relay also polls, for events
//! written elsewhere (the ai-agent's, or another replica's while that replica's relay was
//! busy). Commits do not NOTIFY: PostgreSQL serialises commits that do.
//!
//! Events go to the sidecar in bulk calls (§1.5 of the Dapr contract), many users' events in
//! one call, but never two events of the same user in one call: see [`Relay::publish_lane`].
//!
//! In the transaction that marks a batch published, the relay also announces the batch to the
//! users' open tabs (one `user_stream` notification per ~8 kB, see [`crate::stream`]), so a
//! tab hears of a change when the assistants do.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use events::client::{BulkPublishError, DaprClient, OutgoingMessage, PublishError};
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
    /// The broker refused `refused` events (`parked` of them for good); the rest went out.
    /// Each refused event and its user's later ones wait a growing delay; others go on.
    Refused { published: usize, refused: usize, parked: usize, error: PublishError },
    /// The sidecar could not be reached or refused a call whole after `published` events; the
    /// rest wait, and the relay backs off.
    Stalled { published: usize, error: PublishError },
}

/// When the relay looks for events: see [`Relay::run`].
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Between passes when nothing wakes the relay.
    pub poll_interval: Duration,
    /// Least time from one pass's start to the next one's when a change wakes the relay.
    pub min_pass_interval: Duration,
}

/// What happens to an event the broker refuses, while the sidecar works for the others.
#[derive(Debug, Clone, Copy)]
pub struct RefusalPolicy {
    /// Wait before the first retry; doubled after each further refusal.
    pub first_retry: Duration,
    /// Longest wait between retries.
    pub max_retry: Duration,
    /// Refusals after which the row is parked (`outbox_events_parked_total`, `backend
    /// replay-parked`).
    pub park_after: u32,
}

/// What became of one lane's events in a pass: the rows that went out, and for each user that
/// hit a failure, the row that failed (with why), after which that user's later rows wait.
/// `refused` rows reached the broker, which refused them; `failed` rows did not get that far.
#[derive(Default)]
struct LaneOutcome {
    published: Vec<i64>,
    failed: Vec<(i64, String)>,
    refused: Vec<(i64, String)>,
    first_error: Option<PublishError>,
    first_refusal: Option<PublishError>,
}

pub struct Relay {
    pub db: PgPool,
    pub dapr: DaprClient,
    pub pubsub: String,
    pub batch_size: u32,
    pub refusals: RefusalPolicy,
}

impl Relay {
    /// One pass: publish up to a batch of waiting events. Events of one user (the partition
    /// key, the only order Kafka keeps) go out one after another in commit order, stopping at
    /// that user's first failure; different users' events share bulk calls, and lanes of
    /// different users run concurrently, so one slow call does not hold up everyone and the
    /// relay keeps pace with the API.
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
        let mut by_key: Vec<VecDeque<&PendingEvent>> = Vec::new();
        let mut slot_of: HashMap<uuid::Uuid, usize> = HashMap::new();
        for event in &pending {
            let slot = *slot_of.entry(event.user_id).or_insert_with(|| {
                by_key.push(VecDeque::new());
                by_key.len() - 1
            });
            by_key[slot].push_back(event);
        }
        // Futures built in a plain loop rather than a closure over `self`: the closure form
        // trips the compiler's higher-ranked `Send` inference for the spawned relay task.
        let mut lanes = Vec::new();
        let mut keys = by_key.into_iter();
        loop {
            let lane: Vec<VecDeque<&PendingEvent>> = keys.by_ref().take(Self::KEYS_PER_LANE).collect();
            if lane.is_empty() {
                break;
            }
            lanes.push(self.publish_lane(lane));
        }
        let results: Vec<LaneOutcome> =
            futures::stream::iter(lanes).buffer_unordered(Self::CONCURRENT_LANES).collect().await;
        let mut published = Vec::with_capacity(total);
        let (mut first_failure, mut first_refusal) = (None, None);
        let (mut refused, mut parked) = (0, 0);
        let policy = self.refusals;
        for lane in results {
            published.extend(lane.published);
            for (outbox_id, error) in lane.failed {
                db::outbox::record_failure(&mut tx, outbox_id, &error).await?;
            }
            for (outbox_id, error) in lane.refused {
                refused += 1;
                let was_parked = db::outbox::record_refusal(
                    &mut tx,
                    outbox_id,
                    &error,
                    policy.first_retry,
                    policy.max_retry,
                    policy.park_after,
                )
                .await?;
                if was_parked {
                    parked += 1;
                    tracing::error!(outbox.id = outbox_id, error.message = %error, refusals = policy.park_after,
                        "the broker keeps refusing an event; parked it (replay with `backend replay-parked`)");
                }
            }
            first_failure = first_failure.or(lane.first_error);
            first_refusal = first_refusal.or(lane.first_refusal);
        }
        metrics::counter!("outbox_events_parked_total").increment(parked as u64);
        db::outbox::mark_published(&mut tx, &published).await?;
        let published_ids: HashSet<i64> = published.iter().copied().collect();
        let updates: Vec<Announcement> = pending
            .iter()
            .filter(|event| published_ids.contains(&event.outbox_id))
            .flat_map(announcements_of)
            .collect();
        db::outbox::announce(&mut tx, stream::CHANNEL, &stream::announcements(&updates)).await?;
        tx.commit().await?;
        Ok(match (first_failure, first_refusal) {
            (Some(error), _) => RelayOutcome::Stalled { published: published.len(), error },
            (None, Some(error)) => {
                RelayOutcome::Refused { published: published.len(), refused, parked, error }
            }
            (None, None) => RelayOutcome::Published(published.len()),
        })
    }

    /// Users per lane, so at most this many entries per bulk call: each lane has one event of
    /// each of its users in flight at a time.
    const KEYS_PER_LANE: usize = 32;

    /// Lanes publishing at once.
    const CONCURRENT_LANES: usize = 8;

    /// Publishes the events of a lane's users in rounds: each round one bulk call per topic
    /// with the next event of every user still going, the next round after the sidecar
    /// answered. A user whose entry failed stops there; the others go on.
    ///
    /// At most one event per user per call, although Kafka writes the entries of one call in
    /// order (sarama's `SendMessages` queues them in order, and a partition's messages go out
    /// in that order): not when one fails. A message that failed can be followed in the log by
    /// a later message of its key that succeeded (another of up to five produce requests in
    /// flight, or a message queued behind the failed one's retries), and publishing the failed
    /// one again would then put it after its successor. daprd's fallback for components without
    /// native bulk publish sends the entries concurrently, in no order at all. Waiting for each
    /// event's answer before its user's next one is what kept single publishes in order too.
    async fn publish_lane(&self, mut lane: Vec<VecDeque<&PendingEvent>>) -> LaneOutcome {
        let mut outcome = LaneOutcome::default();
        loop {
            let mut by_topic: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (user, events) in lane.iter().enumerate() {
                if let Some(event) = events.front() {
                    by_topic.entry(event.topic.as_str()).or_default().push(user);
                }
            }
            if by_topic.is_empty() {
                return outcome;
            }
            for (topic, users) in by_topic {
                let round: Vec<&PendingEvent> =
                    users.iter().filter_map(|&user| lane[user].front().copied()).collect();
                let ok = self.publish_round(topic, &round, &mut outcome).await;
                for (user, ok) in users.into_iter().zip(ok) {
                    if ok {
                        lane[user].pop_front();
                    } else {
                        lane[user].clear();
                    }
                }
            }
        }
    }

    /// One bulk call; records in `outcome` what went out and what failed, and returns whether
    /// each event went out.
    async fn publish_round(
        &self,
        topic: &str,
        round: &[&PendingEvent],
        outcome: &mut LaneOutcome,
    ) -> Vec<bool> {
        let owned: Vec<(String, String)> =
            round.iter().map(|event| (event.event_id.to_string(), event.user_id.to_string())).collect();
        let messages: Vec<OutgoingMessage<'_>> = round
            .iter()
            .zip(&owned)
            .map(|(event, (id, partition_key))| OutgoingMessage {
                id,
                event_type: &event.event_type,
                partition_key,
                correlation_id: Some(&event.correlation_id),
                traceparent: event.traceparent.as_deref(),
                data: &event.payload,
            })
            .collect();
        let started = Instant::now();
        let result = self.dapr.publish_bulk(&self.pubsub, topic, &messages).await;
        metrics::histogram!("outbox_publish_duration_seconds").record(started.elapsed().as_secs_f64());
        let ok: Vec<bool> =
            owned.iter().map(|(id, _)| result.as_ref().err().is_none_or(|e| !e.has_failed(id))).collect();
        let sent = ok.iter().filter(|&&ok| ok).count();
        metrics::counter!("outbox_events_published_total").increment(sent as u64);
        for (event, &ok) in round.iter().zip(&ok) {
            if ok {
                tracing::debug!(event.id = %event.event_id, event.type = %event.event_type, correlation_id = %event.correlation_id, "event published");
                outcome.published.push(event.outbox_id);
            }
        }
        if let Err(error) = result {
            let message = error.error().to_string();
            let kind = if error.error().is_retryable() { "unavailable" } else { "rejected" };
            metrics::counter!("outbox_publish_failures_total", "kind" => kind)
                .increment((round.len() - sent) as u64);
            // Entries the broker itself refused are that event's problem; a call that failed
            // whole is the sidecar's, and says nothing about the events in it.
            let by_broker = matches!(error, BulkPublishError::Partial { .. });
            let (rows, first) = if by_broker {
                (&mut outcome.refused, &mut outcome.first_refusal)
            } else {
                (&mut outcome.failed, &mut outcome.first_error)
            };
            for (event, &ok) in round.iter().zip(&ok) {
                if !ok {
                    rows.push((event.outbox_id, message.clone()));
                }
            }
            first.get_or_insert_with(|| error.into_error());
        }
        ok
    }

    /// How often the backlog gauges are refreshed: often enough for a scrape every 15 s, rarely
    /// enough that a busy relay does not count the backlog on every pass.
    const GAUGE_EVERY: Duration = Duration::from_secs(1);

    /// Sets `outbox_backlog_events` and `outbox_oldest_unpublished_age_seconds`; left as they
    /// were when the database cannot be reached (the relay's own warning says so).
    async fn sample_backlog(&self) {
        if let Ok(backlog) = db::outbox::backlog(&self.db).await {
            metrics::gauge!("outbox_backlog_events").set(backlog.unpublished as f64);
            metrics::gauge!("outbox_parked_events").set(backlog.parked as f64);
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
    ///
    /// A wake starts a pass at once unless the last one started less than `min_pass_interval`
    /// ago; then the pass waits for the interval to end. Under a steady stream of changes each
    /// pass then carries the changes of that interval rather than one or two: a pass costs
    /// PostgreSQL a transaction of five statements whatever it carries, and at one pass per
    /// change the relay took as much of the database as the ai-agent. A lone change still goes
    /// out at once.
    pub async fn run(self, wake: Arc<Notify>, pacing: Pacing, shutdown: CancellationToken) {
        let mut backoff = Backoff::new();
        let mut gauges_sampled: Option<Instant> = None;
        let poll_interval = pacing.poll_interval;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            if gauges_sampled.is_none_or(|t| t.elapsed() >= Self::GAUGE_EVERY) {
                gauges_sampled = Some(Instant::now());
                self.sample_backlog().await;
            }
            let pass_started = tokio::time::Instant::now();
            let wait = match self.relay_once().await {
                Ok(RelayOutcome::Published(n)) => {
                    backoff.recovered(n);
                    if n >= self.batch_size as usize { Duration::ZERO } else { poll_interval }
                }
                Ok(RelayOutcome::Refused { published, refused, parked, error }) => {
                    // The sidecar works: no backoff. The refused users wait on their own.
                    backoff.recovered(published);
                    tracing::warn!(error.message = %error, published, refused, parked,
                        "the broker refused events; their users' events wait for a retry, the others went out");
                    poll_interval
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
                () = wake.notified(), if !backoff.is_failing() => {
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep_until(pass_started + pacing.min_pass_interval) => {}
                    }
                }
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
