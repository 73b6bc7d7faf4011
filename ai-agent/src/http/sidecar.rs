//! The routes the Dapr sidecar calls: `GET /dapr/subscribe` (§2) and the deliveries (§3).

use axum::{Json, body::Bytes, extract::State, http::HeaderMap};
use events::{
    DEAD_LETTER_TOPIC, TOPIC,
    dapr::{DeliveryResponse, Subscription},
};

use super::AppState;
use crate::consumer;

/// Where `tasks-lifecycle` events are delivered.
pub const TASK_EVENTS_ROUTE: &str = "/events/tasks-lifecycle";
/// Where the dead-letter topic's messages are delivered.
pub const DEAD_LETTERS_ROUTE: &str = "/events/dead-letters";

/// The subscriptions on `pubsub`: the task events, dead-lettered to `tasks-lifecycle-dlq`, and
/// that dead-letter topic itself (which has no dead-letter topic of its own: a message that
/// cannot even be recorded is retried, never bounced in a loop).
///
/// `rawPayload` is spelled out as the string `"false"` (metadata values must be strings, §2.2):
/// with raw payloads the sidecar would invent a new CloudEvent id per delivery, and the
/// de-duplication relies on that id being the publisher's (§3.2).
pub fn subscriptions(pubsub: &str) -> Vec<Subscription> {
    let with_cloud_events = |mut subscription: Subscription| {
        subscription.metadata.insert("rawPayload".to_owned(), "false".to_owned());
        subscription
    };
    vec![
        with_cloud_events(
            Subscription::new(pubsub, TOPIC, TASK_EVENTS_ROUTE).with_dead_letter_topic(DEAD_LETTER_TOPIC),
        ),
        with_cloud_events(Subscription::new(pubsub, DEAD_LETTER_TOPIC, DEAD_LETTERS_ROUTE)),
    ]
}

pub async fn get_subscriptions(State(state): State<AppState>) -> Json<Vec<Subscription>> {
    Json(subscriptions(&state.config.pubsub_name))
}

/// A `tasks-lifecycle` delivery. The body is read as bytes: the sidecar sends
/// `application/cloudevents+json`, which axum's JSON extractor would refuse (§3.1).
pub async fn receive_task_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Json<DeliveryResponse> {
    let traceparent = headers.get("traceparent").and_then(|value| value.to_str().ok());
    let status =
        consumer::receive_task_event(&state.db, &state.registry, &state.settings, &body, traceparent).await;
    Json(status.into())
}

/// A dead-letter topic delivery: recorded in `dead_letter` and acknowledged.
pub async fn receive_dead_letter(State(state): State<AppState>, body: Bytes) -> Json<DeliveryResponse> {
    Json(consumer::receive_dead_letter(&state.db, &body).await.into())
}
