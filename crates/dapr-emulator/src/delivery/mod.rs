//! Sidecar → app delivery (§3) with the inbound retry policy (§4) and the dead-letter topic.

mod answer;
mod routing;

use std::{collections::BTreeMap, sync::Arc};

use axum::body::Bytes;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use events::dapr::{API_TOKEN_HEADER, CLOUDEVENTS_CONTENT_TYPE, DEFAULT_CLOUDEVENT_TYPE, Subscription};
use reqwest::{
    Url,
    header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue},
};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use self::answer::Answer;
use crate::{
    state::{DeliveryOutcome, DeliveryRecord, PublishedMessage, Shared, TopicKey},
    trace,
};

/// One message for one subscription.
pub(crate) struct Job {
    pub key: TopicKey,
    /// Position in the topic log.
    pub index: usize,
    pub message: Arc<PublishedMessage>,
    pub subscription: Arc<Subscription>,
}

/// Starts a worker that delivers its jobs one at a time, in order: the emulator's partition.
pub(crate) fn spawn_worker(shared: Arc<Shared>, cancel: CancellationToken) -> mpsc::UnboundedSender<Job> {
    let (sender, mut jobs) = mpsc::unbounded_channel::<Job>();
    tokio::spawn(async move {
        loop {
            let job = tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                job = jobs.recv() => match job {
                    Some(job) => job,
                    None => return,
                },
            };
            // Cancelling mid-delivery leaves the job unsettled, so a restart delivers it again.
            let record = tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                record = deliver(&shared, &job) => record,
            };
            tracing::info!(
                topic = %record.topic,
                offset = record.offset,
                id = record.message_id.as_deref().unwrap_or_default(),
                attempts = record.attempts,
                outcome = ?record.outcome,
                dead_letter_topic = record.dead_letter_topic.as_deref().unwrap_or_default(),
                "delivery finished"
            );
            shared.settle(&job, record);
        }
    });
    sender
}

/// What one pass of the sidecar's handler decided (§3.3).
enum Verdict {
    /// Acknowledge; no dead-letter copy.
    Ack(DeliveryOutcome),
    /// Acknowledge, after copying to the dead-letter topic if there is one.
    AckToDeadLetter(DeliveryOutcome),
    /// The handler failed: dead-letter topic if there is one, otherwise the component retries.
    Fail(DeliveryOutcome),
}

async fn deliver(shared: &Arc<Shared>, job: &Job) -> DeliveryRecord {
    let mut record = DeliveryRecord {
        pubsub: job.key.0.clone(),
        topic: job.key.1.clone(),
        offset: job.message.offset,
        message_id: job.message.id().map(str::to_owned),
        route: None,
        attempts: 0,
        outcome: DeliveryOutcome::Success,
        dead_letter_topic: None,
        last_error: None,
    };
    loop {
        let (outcome, failed) = match handle_once(shared, job, &mut record).await {
            Verdict::Ack(outcome) => {
                record.outcome = outcome;
                return record;
            }
            Verdict::AckToDeadLetter(outcome) => (outcome, false),
            Verdict::Fail(outcome) => (outcome, true),
        };
        record.outcome = outcome;
        match job.subscription.dead_letter_topic.as_deref() {
            Some(topic) => match shared.dead_letter(job, topic) {
                Ok(()) => {
                    record.dead_letter_topic = Some(topic.to_owned());
                    return record;
                }
                // Since 1.15 a failed dead-letter publish is returned to the component, which
                // redelivers the message rather than losing it.
                Err(_) => {
                    record.last_error =
                        Some(format!("publishing to dead-letter topic {topic} failed: broker down"));
                }
            },
            None if !failed => return record,
            None => {}
        }
        match shared.config.redelivery_interval {
            Some(interval) => tokio::time::sleep(interval).await,
            None => return record,
        }
    }
}

async fn handle_once(shared: &Arc<Shared>, job: &Job, record: &mut DeliveryRecord) -> Verdict {
    let subscription = &job.subscription;
    let raw = match raw_payload_subscription(subscription) {
        Ok(raw) => raw,
        Err(reason) => return Verdict::Fail(DeliveryOutcome::Undeliverable(reason)),
    };
    let (body, event) = if raw {
        synthesize_cloud_event(&job.message)
    } else {
        match serde_json::from_slice::<Value>(&job.message.body) {
            Ok(event @ Value::Object(_)) => (job.message.body.clone(), event),
            _ => {
                return Verdict::Fail(DeliveryOutcome::Undeliverable(
                    "the message is not a CloudEvent JSON object".into(),
                ));
            }
        }
    };

    if has_expired(&event, Utc::now()) {
        return Verdict::AckToDeadLetter(DeliveryOutcome::Expired);
    }
    let path = match routing::route(subscription, &event) {
        Ok(Some(path)) => routing::clean_path(&path),
        Ok(None) => return Verdict::AckToDeadLetter(DeliveryOutcome::Unroutable),
        Err(reason) => return Verdict::Fail(DeliveryOutcome::Undeliverable(reason)),
    };
    record.route = Some(path.clone());
    let Some(url) = app_url(shared, &job.message, &path) else {
        return Verdict::Fail(DeliveryOutcome::Undeliverable(format!("no app URL to deliver {path} to")));
    };
    let headers = delivery_headers(shared, &job.message, &event);

    let policy = shared.config.retry;
    for attempt in 0..=policy.max_retries {
        if attempt > 0 {
            tokio::time::sleep(policy.interval).await;
        }
        record.attempts += 1;
        match post(shared, url.clone(), headers.clone(), body.clone()).await {
            Answer::Success => return Verdict::Ack(DeliveryOutcome::Success),
            Answer::Drop => {
                tracing::warn!(topic = %record.topic, offset = record.offset, "the app dropped the message");
                return Verdict::AckToDeadLetter(DeliveryOutcome::Dropped);
            }
            // daprd up to 1.16 (ours is 1.16.5) acks a 404 without a dead-letter copy; 1.17
            // made it a DROP (§0).
            Answer::NotFound => {
                tracing::error!(topic = %record.topic, offset = record.offset, "the app answered 404");
                return Verdict::Ack(DeliveryOutcome::NotFound);
            }
            Answer::Retry(reason) => record.last_error = Some(reason),
        }
    }
    Verdict::Fail(DeliveryOutcome::RetriesExhausted)
}

async fn post(shared: &Shared, url: Url, headers: HeaderMap, body: Bytes) -> Answer {
    // No client timeout: Dapr's app channel has none either (§3.1).
    let response = match shared.http.post(url).headers(headers).body(body).send().await {
        Ok(response) => response,
        Err(e) => return Answer::Retry(format!("the app is unreachable: {e}")),
    };
    let status = response.status();
    match response.bytes().await {
        Ok(body) => answer::classify(status, &body),
        Err(e) => Answer::Retry(format!("reading the app's answer failed: {e}")),
    }
}

/// The instance that owns the message's partition key, as Kafka assigns each partition to one
/// member of the consumer group; messages without a key go to the first.
fn app_url(shared: &Shared, message: &PublishedMessage, path: &str) -> Option<Url> {
    let instances = shared.app_urls.len().max(1);
    let owner = message.partition_key().map_or(0, |key| {
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(key, &mut hasher);
        usize::try_from(std::hash::Hasher::finish(&hasher) % instances as u64).unwrap_or(0)
    });
    let base = shared.app_urls.get(owner)?;
    Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/'))).ok()
}

/// The subscription's `rawPayload` metadata; a value that is not a boolean is an error (§3.3).
fn raw_payload_subscription(subscription: &Subscription) -> Result<bool, String> {
    match subscription.metadata.get("rawPayload").map(String::as_str) {
        Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
        None | Some("" | "0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
        Some(other) => Err(format!("invalid rawPayload subscription metadata {other:?}")),
    }
}

/// For a `rawPayload` subscription the sidecar wraps the bytes itself, with a new id on every
/// delivery (§3.2), so such ids are useless for de-duplication.
fn synthesize_cloud_event(message: &PublishedMessage) -> (Bytes, Value) {
    let event = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "specversion": "1.0",
        "source": "Dapr",
        "type": DEFAULT_CLOUDEVENT_TYPE,
        "datacontenttype": "application/octet-stream",
        "data_base64": base64::engine::general_purpose::STANDARD.encode(&message.body),
        "topic": message.topic,
        "pubsubname": message.pubsub,
    });
    (Bytes::from(event.to_string()), event)
}

fn has_expired(event: &Value, now: DateTime<Utc>) -> bool {
    event
        .get("expiration")
        .and_then(Value::as_str)
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .is_some_and(|expiration| expiration < now)
}

/// Hop-by-hop and framing headers never copied from metadata (§3.1).
const STRIPPED: &[&str] = &[
    "connection",
    "content-length",
    "content-type",
    "host",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// What the Kafka consumer reports with a record (§3.1): its `__*` coordinates, then every
/// record header, which wins over a coordinate of the same name. A dead-letter copy carries
/// the original's coordinates as headers, so its `__topic`, `__partition`, `__offset` and
/// `__timestamp` still describe the original record, as with daprd.
pub(crate) fn consumer_metadata(message: &PublishedMessage) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::from([
        ("__topic".to_owned(), message.topic.clone()),
        ("__partition".to_owned(), "0".to_owned()),
        ("__offset".to_owned(), message.offset.to_string()),
        ("__timestamp".to_owned(), message.published_at.timestamp_millis().to_string()),
    ]);
    if let Some(key) = message.partition_key() {
        metadata.insert("__key".to_owned(), key.to_owned());
    }
    metadata.extend(message.metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
    metadata
}

/// The consumer's metadata as lowercased headers, then `pubsubname`, the trace context and the
/// app token (§3.1).
fn delivery_headers(shared: &Shared, message: &PublishedMessage, event: &Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (key, value) in consumer_metadata(message) {
        let name = key.to_ascii_lowercase();
        if STRIPPED.contains(&name.as_str()) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(name, value);
        }
    };
    set("pubsubname", &message.pubsub);
    if let Some(traceparent) = child_traceparent(event) {
        set("traceparent", &traceparent);
    }
    if let Some(token) = &shared.config.app_token {
        set(API_TOKEN_HEADER, token);
    }
    set(CONTENT_TYPE.as_str(), CLOUDEVENTS_CONTENT_TYPE);
    headers
}

/// The sidecar's callback span, under the CloudEvent's trace (§9.2).
fn child_traceparent(event: &Value) -> Option<String> {
    let parent = ["traceparent", "traceid"]
        .into_iter()
        .filter_map(|key| event.get(key)?.as_str())
        .find(|value| !value.is_empty())?;
    trace::child_of(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_traceparent_keeps_trace_and_flags_with_a_new_span() {
        let event = json!({
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        });
        let child = child_traceparent(&event).expect("valid parent");
        assert!(child.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
        assert!(child.ends_with("-01"));
        assert_ne!(child, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assert_eq!(child.len(), 55);
    }

    #[test]
    fn no_traceparent_without_a_valid_parent() {
        for event in [json!({ "traceparent": "" }), json!({ "traceparent": "garbage" }), json!({})] {
            assert_eq!(child_traceparent(&event), None);
        }
    }

    #[test]
    fn traceid_is_the_fallback_parent() {
        let event = json!({
            "traceparent": "",
            "traceid": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
        });
        assert!(child_traceparent(&event).is_some_and(|c| c.ends_with("-00")));
    }

    #[test]
    fn expiration_in_the_past_has_expired() {
        let now = Utc::now();
        let past = json!({ "expiration": "2000-01-01T00:00:00Z" });
        let future = json!({ "expiration": "2999-01-01T00:00:00Z" });
        assert!(has_expired(&past, now));
        assert!(!has_expired(&future, now));
        assert!(!has_expired(&json!({}), now));
    }
}
