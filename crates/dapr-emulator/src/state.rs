//! The in-memory broker: an append-only log per topic, the app's subscriptions with their
//! consumer positions, the running delivery workers, and what became of each delivery.
//!
//! One `std::sync::Mutex` guards it all. It is never held across an `.await`, and every
//! operation is a few map look-ups, so a finer-grained design would buy nothing.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, VecDeque},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::body::Bytes;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use events::dapr::Subscription;
use reqwest::Url;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    delivery::{self, Job},
};

/// `(pubsub name, topic)`.
pub(crate) type TopicKey = (String, String);

/// One message the broker accepted, as a test sees it.
#[derive(Debug, Clone)]
pub struct PublishedMessage {
    pub pubsub: String,
    pub topic: String,
    /// Position in the topic's log, like an offset on a single-partition Kafka topic.
    pub offset: u64,
    /// The exact bytes stored in the broker and delivered to subscribers.
    pub body: Bytes,
    /// `body` parsed, for assertions; `None` when the body is not JSON (a raw payload).
    pub cloud_event: Option<Value>,
    /// The `metadata.*` query parameters of the publish call, prefix removed.
    pub metadata: BTreeMap<String, String>,
    /// The headers of the publish call (empty for a dead-letter copy).
    pub headers: HeaderMap,
    /// Published with `metadata.rawPayload=true`.
    pub raw_payload: bool,
    /// For a dead-letter copy, the topic the original came from.
    pub dead_letter_of: Option<String>,
    pub published_at: DateTime<Utc>,
}

impl PublishedMessage {
    /// The CloudEvent `id`.
    pub fn id(&self) -> Option<&str> {
        self.cloud_event.as_ref()?.get("id")?.as_str()
    }

    /// The CloudEvent `data`.
    pub fn data(&self) -> Option<&Value> {
        self.cloud_event.as_ref()?.get("data")
    }

    /// The Kafka key: `partitionKey`, or `__key` which sets it too (§1.2).
    pub fn partition_key(&self) -> Option<&str> {
        self.metadata.get("partitionKey").or_else(|| self.metadata.get("__key")).map(String::as_str)
    }
}

/// How the delivery of one message to the app ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The app answered SUCCESS (or 2xx with an empty or unrecognised body).
    Success,
    /// The app answered DROP.
    Dropped,
    /// The app answered 404: acknowledged without a dead-letter copy, as daprd does up to 1.16
    /// (1.17 treats it as DROP).
    NotFound,
    /// Every attempt of the retry policy failed.
    RetriesExhausted,
    /// The CloudEvent's `expiration` had passed.
    Expired,
    /// No routing rule matched and the subscription has no default route.
    Unroutable,
    /// The sidecar could not process the message: not a CloudEvent, a bad `rawPayload` value in
    /// the subscription, or a routing expression that failed to evaluate.
    Undeliverable(String),
}

/// What became of one message on one subscription, once the sidecar was done with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub pubsub: String,
    pub topic: String,
    pub offset: u64,
    pub message_id: Option<String>,
    /// The app path it was posted to, once routing chose one.
    pub route: Option<String>,
    /// HTTP requests made to the app, redeliveries included.
    pub attempts: u32,
    pub outcome: DeliveryOutcome,
    /// Where a copy was re-published, if it went to a dead-letter topic.
    pub dead_letter_topic: Option<String>,
    /// Why the last failed attempt failed.
    pub last_error: Option<String>,
}

pub(crate) struct Shared {
    pub config: Config,
    pub http: reqwest::Client,
    /// The app's instances; empty when the emulator only publishes.
    pub app_urls: Vec<Url>,
    broker_down: AtomicBool,
    /// Partition keys whose messages the broker refuses, while the rest go through.
    refused_keys: Mutex<BTreeSet<String>>,
    state: Mutex<State>,
    /// Bumped on every change, so tests can wait for a condition without sleeping.
    changes: watch::Sender<()>,
}

#[derive(Default)]
struct State {
    topics: BTreeMap<TopicKey, TopicLog>,
    subscriptions: BTreeMap<TopicKey, Arc<Subscription>>,
    /// Kept only with `Config::keep_history`.
    deliveries: Vec<DeliveryRecord>,
    /// Present while the sidecar runs.
    consumer: Option<Consumer>,
}

/// Positions (`cursor`, `in_flight`, a job's `index`) are offsets in the whole log; `messages`
/// and `settled` hold the part from offset `first` on. Without `Config::keep_history`, settled
/// messages at the front are forgotten, so a long local run does not keep every event.
#[derive(Default)]
struct TopicLog {
    messages: VecDeque<Arc<PublishedMessage>>,
    /// Offset of `messages[0]`.
    first: usize,
    /// Next message to hand to a worker: the consumer group's position.
    cursor: usize,
    /// Per message: done with (acked), so never handed out again.
    settled: VecDeque<bool>,
    /// Handed to a worker but not settled; redelivered after a restart (at least once).
    in_flight: BTreeSet<usize>,
}

impl TopicLog {
    fn end(&self) -> usize {
        self.first + self.messages.len()
    }

    /// Forgets the settled messages at the front that the consumer has passed.
    fn forget_settled(&mut self) {
        while self.first < self.cursor && self.settled.front() == Some(&true) {
            self.messages.pop_front();
            self.settled.pop_front();
            self.first += 1;
        }
    }
}

struct Consumer {
    cancel: CancellationToken,
    /// One sequential worker per `(pubsub, topic, partition key)`, standing in for a partition.
    workers: HashMap<(String, String, String), mpsc::UnboundedSender<Job>>,
}

/// The broker refused a write because of an injected outage.
#[derive(Debug)]
pub(crate) struct BrokerDown;

impl Shared {
    pub fn new(config: Config, http: reqwest::Client, app_urls: Vec<Url>) -> Arc<Self> {
        Arc::new(Self {
            config,
            http,
            app_urls,
            broker_down: AtomicBool::new(false),
            refused_keys: Mutex::default(),
            state: Mutex::new(State::default()),
            changes: watch::Sender::new(()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters to a test double; keep serving rather than poisoning every later call.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        self.changes.send_replace(());
    }

    pub fn watch(&self) -> watch::Receiver<()> {
        self.changes.subscribe()
    }

    pub fn is_broker_down(&self) -> bool {
        self.broker_down.load(Ordering::SeqCst)
    }

    pub fn set_broker_down(&self, down: bool) {
        self.broker_down.store(down, Ordering::SeqCst);
    }

    /// True when the broker would refuse a message with this Kafka key right now.
    pub fn refuses(&self, key: Option<&str>) -> bool {
        self.is_broker_down()
            || key.is_some_and(|key| {
                self.refused_keys.lock().unwrap_or_else(PoisonError::into_inner).contains(key)
            })
    }

    pub fn set_key_refused(&self, key: &str, refused: bool) {
        let mut keys = self.refused_keys.lock().unwrap_or_else(PoisonError::into_inner);
        if refused {
            keys.insert(key.to_owned());
        } else {
            keys.remove(key);
        }
    }

    /// Appends to the topic's log, assigns the offset, and hands the message to subscribers.
    pub fn append(self: &Arc<Self>, mut message: PublishedMessage) -> Arc<PublishedMessage> {
        let mut state = self.lock();
        let key = (message.pubsub.clone(), message.topic.clone());
        let log = state.topics.entry(key).or_default();
        message.offset = log.end() as u64;
        let message = Arc::new(message);
        if self.config.keep_history || !self.app_urls.is_empty() {
            log.messages.push_back(Arc::clone(&message));
            log.settled.push_back(false);
            self.pump(&mut state);
        } else {
            // No app will ever consume it and nothing reads the history: count it, keep nothing
            // (a publisher-only process under load would otherwise grow without end).
            log.first += 1;
            log.cursor = log.first;
        }
        drop(state);
        self.notify();
        message
    }

    /// Re-publishes a message to a dead-letter topic: same bytes, and as metadata everything the
    /// consumer reported with the original (its `__*` coordinates and its headers), as daprd
    /// re-publishes the consumed message (§3.3).
    pub fn dead_letter(self: &Arc<Self>, job: &Job, topic: &str) -> Result<(), BrokerDown> {
        if self.is_broker_down() {
            return Err(BrokerDown);
        }
        let original = &job.message;
        let metadata = delivery::consumer_metadata(original);
        self.append(PublishedMessage {
            pubsub: original.pubsub.clone(),
            topic: topic.to_owned(),
            offset: 0,
            body: original.body.clone(),
            cloud_event: original.cloud_event.clone(),
            metadata,
            headers: HeaderMap::new(),
            raw_payload: original.raw_payload,
            dead_letter_of: Some(original.topic.clone()),
            published_at: Utc::now(),
        });
        Ok(())
    }

    pub fn published(&self, topic: &str) -> Vec<PublishedMessage> {
        self.lock()
            .topics
            .iter()
            .filter(|((_, t), _)| t == topic)
            .flat_map(|(_, log)| log.messages.iter().map(|m| PublishedMessage::clone(m)))
            .collect()
    }

    pub fn deliveries(&self, topic: &str) -> Vec<DeliveryRecord> {
        self.lock().deliveries.iter().filter(|record| record.topic == topic).cloned().collect()
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.lock().subscriptions.values().map(|s| Subscription::clone(s)).collect()
    }

    /// Replaces the app's subscriptions. Positions are kept per topic, like a consumer group's
    /// committed offsets, so re-discovery does not redeliver what was already handled.
    pub fn set_subscriptions(self: &Arc<Self>, subscriptions: Vec<Subscription>) {
        let mut state = self.lock();
        state.subscriptions = subscriptions
            .into_iter()
            .map(|s| ((s.pubsubname.clone(), s.topic.clone()), Arc::new(s)))
            .collect();
        self.pump(&mut state);
        drop(state);
        self.notify();
    }

    /// Starts delivering; returns the token that stops this run's background work.
    pub fn start_consumer(self: &Arc<Self>) -> CancellationToken {
        let mut state = self.lock();
        if let Some(consumer) = &state.consumer {
            return consumer.cancel.clone();
        }
        let cancel = CancellationToken::new();
        state.consumer = Some(Consumer { cancel: cancel.clone(), workers: HashMap::new() });
        self.pump(&mut state);
        cancel
    }

    /// Stops every worker. Messages they had not settled go back to the log's position, so the
    /// next start delivers them again (at-least-once, like uncommitted Kafka offsets).
    pub fn stop_consumer(&self) {
        let mut state = self.lock();
        if let Some(consumer) = state.consumer.take() {
            consumer.cancel.cancel();
        }
        for log in state.topics.values_mut() {
            if let Some(&first) = log.in_flight.first() {
                log.cursor = log.cursor.min(first);
            }
            log.in_flight.clear();
        }
    }

    /// Records the end of a delivery and acknowledges the message.
    pub fn settle(&self, job: &Job, record: DeliveryRecord) {
        let keep_history = self.config.keep_history;
        let mut state = self.lock();
        if let Some(log) = state.topics.get_mut(&job.key) {
            if let Some(settled) = job.index.checked_sub(log.first).and_then(|i| log.settled.get_mut(i)) {
                *settled = true;
            }
            log.in_flight.remove(&job.index);
            if !keep_history {
                log.forget_settled();
            }
        }
        if keep_history {
            state.deliveries.push(record);
        }
        drop(state);
        self.notify();
    }

    /// Hands every unsent message of a subscribed topic to its key's worker.
    fn pump(self: &Arc<Self>, state: &mut State) {
        let State { topics, subscriptions, consumer, .. } = state;
        let Some(consumer) = consumer else {
            return;
        };
        for (key, subscription) in subscriptions.iter() {
            let Some(log) = topics.get_mut(key) else {
                continue;
            };
            for index in log.cursor.max(log.first)..log.end() {
                if log.settled[index - log.first] {
                    continue;
                }
                log.in_flight.insert(index);
                consumer.dispatch(
                    self,
                    Job {
                        key: key.clone(),
                        index,
                        message: Arc::clone(&log.messages[index - log.first]),
                        subscription: Arc::clone(subscription),
                    },
                );
            }
            log.cursor = log.end();
        }
    }
}

impl Consumer {
    fn dispatch(&mut self, shared: &Arc<Shared>, job: Job) {
        let worker = (
            job.key.0.clone(),
            job.key.1.clone(),
            job.message.partition_key().unwrap_or_default().to_owned(),
        );
        let sender = self
            .workers
            .entry(worker)
            .or_insert_with(|| delivery::spawn_worker(Arc::clone(shared), self.cancel.clone()));
        // A send only fails once the worker has stopped, which happens only after `cancel`;
        // the message stays in flight and is redelivered by the next start.
        let _ = sender.send(job);
    }
}
