//! A scripted subscriber app and shortcuts for starting emulators and publishing.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::get,
};
use dapr_emulator::{Emulator, EmulatorBuilder, EmulatorHandle, RetryPolicy};
use events::{
    EventPayload, TaskEvent,
    client::{DaprClient, OutgoingMessage},
};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::watch};
use uuid::Uuid;

/// Generous: only reached when a test is about to fail anyway.
pub const WAIT: Duration = Duration::from_secs(10);

pub const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// One request the app received on a delivery route.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// How many times the same body arrived before this one.
    pub attempt: usize,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("delivered body is JSON")
    }
}

type Responder = Arc<dyn Fn(&Received) -> (StatusCode, String) + Send + Sync>;

struct Inner {
    subscriptions: Mutex<Value>,
    responder: Responder,
    required_token: Option<String>,
    only: Option<String>,
    patience: Duration,
    received: Mutex<Vec<Received>>,
    subscribe_calls: Mutex<Vec<HeaderMap>>,
    changes: watch::Sender<()>,
}

/// A subscriber app on 127.0.0.1 that serves `GET /dapr/subscribe` and answers every other
/// request with its responder, recording what it got.
#[derive(Clone)]
pub struct TestApp {
    pub url: String,
    inner: Arc<Inner>,
}

pub struct TestAppBuilder {
    subscriptions: Value,
    responder: Responder,
    required_token: Option<String>,
    only: Option<String>,
    patience: Duration,
}

impl TestApp {
    pub fn builder(subscriptions: Value) -> TestAppBuilder {
        TestAppBuilder {
            subscriptions,
            responder: Arc::new(|_| (StatusCode::OK, r#"{"status":"SUCCESS"}"#.into())),
            required_token: None,
            only: None,
            patience: WAIT,
        }
    }

    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|port| port.parse().ok()).expect("a port in the URL")
    }

    /// The deliveries to `path`.
    pub fn received_on(&self, path: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.path == path).collect()
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.inner.received).clone()
    }

    pub fn subscribe_calls(&self) -> Vec<HeaderMap> {
        lock(&self.inner.subscribe_calls).clone()
    }

    pub fn set_subscriptions(&self, subscriptions: Value) {
        *lock(&self.inner.subscriptions) = subscriptions;
    }

    pub async fn wait_received(&self, count: usize) -> Vec<Received> {
        self.wait_until(&format!("{count} requests"), |received| received.len() >= count).await
    }

    /// Waits for `count` deliveries to `path` and returns those.
    pub async fn wait_received_on(&self, path: &str, count: usize) -> Vec<Received> {
        let what = format!("{count} requests on {path}");
        self.wait_until(&what, |received| received.iter().filter(|r| r.path == path).count() >= count).await;
        self.received_on(path)
    }

    /// Waits until `done` holds for everything received so far, and returns it.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let mut changes = self.inner.changes.subscribe();
        let wait = async {
            loop {
                let received = self.received();
                if done(&received) {
                    return received;
                }
                changes.changed().await.expect("the app outlives the test");
            }
        };
        tokio::time::timeout(self.inner.patience, wait).await.unwrap_or_else(|_| {
            let seen: Vec<_> = self.received().iter().map(|r| format!("{} {}", r.path, r.attempt)).collect();
            panic!("waited {:?} for {what}; the app received {seen:?}", self.inner.patience)
        })
    }
}

impl TestAppBuilder {
    pub fn responder(
        mut self,
        responder: impl Fn(&Received) -> (StatusCode, String) + Send + Sync + 'static,
    ) -> Self {
        self.responder = Arc::new(responder);
        self
    }

    pub fn require_token(mut self, token: &str) -> Self {
        self.required_token = Some(token.to_owned());
        self
    }

    /// Records only deliveries whose body mentions the run and answers SUCCESS to the rest: a
    /// real broker also holds other tests' messages (see [`Run`]).
    pub fn only(mut self, run: &Run) -> Self {
        self.only = Some(run.id.to_string());
        self
    }

    /// How long `wait_…` waits before failing the test.
    pub fn patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    pub async fn spawn(self) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the test app");
        self.spawn_on(listener)
    }

    pub fn spawn_on(self, listener: TcpListener) -> TestApp {
        let port = listener.local_addr().expect("local address").port();
        let inner = Arc::new(Inner {
            subscriptions: Mutex::new(self.subscriptions),
            responder: self.responder,
            required_token: self.required_token,
            only: self.only,
            patience: self.patience,
            received: Mutex::new(Vec::new()),
            subscribe_calls: Mutex::new(Vec::new()),
            changes: watch::Sender::new(()),
        });
        let router = Router::new()
            .route("/dapr/subscribe", get(subscribe))
            .fallback(deliver)
            .with_state(Arc::clone(&inner));
        tokio::spawn(async move { axum::serve(listener, router).await });
        TestApp { url: format!("http://127.0.0.1:{port}"), inner }
    }
}

fn authorized(inner: &Inner, headers: &HeaderMap) -> bool {
    inner
        .required_token
        .as_deref()
        .is_none_or(|token| headers.get("dapr-api-token").and_then(|v| v.to_str().ok()) == Some(token))
}

async fn subscribe(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    lock(&inner.subscribe_calls).push(headers.clone());
    if !authorized(&inner, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let subscriptions = lock(&inner.subscriptions).clone();
    Json(subscriptions).into_response()
}

/// Deliveries are POSTs; anything else (daprd also asks for `GET /dapr/config`) is a 404, which
/// a sidecar takes as "nothing here".
async fn deliver(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if method != Method::POST {
        return (StatusCode::NOT_FOUND, String::new());
    }
    let mine = inner
        .only
        .as_deref()
        .is_none_or(|marker| body.windows(marker.len()).any(|window| window == marker.as_bytes()));
    if !mine {
        return status("SUCCESS");
    }
    let answer = {
        let mut received = lock(&inner.received);
        let attempt = received.iter().filter(|r| r.body == body).count();
        let request = Received {
            path: uri.path().to_owned(),
            headers: headers.clone(),
            body,
            attempt,
            at: Instant::now(),
        };
        let answer = if authorized(&inner, &headers) {
            (inner.responder)(&request)
        } else {
            (StatusCode::UNAUTHORIZED, String::new())
        };
        received.push(request);
        answer
    };
    inner.changes.send_replace(());
    answer
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `{"status": …}` with a 200, the way our consumers answer.
pub fn status(status: &str) -> (StatusCode, String) {
    (StatusCode::OK, json!({ "status": status }).to_string())
}

/// One programmatic subscription to `topic` at `route`, with the standard dead-letter topic.
pub fn subscription(topic: &str, route: &str) -> Value {
    json!({
        "pubsubname": events::DEFAULT_PUBSUB,
        "topic": topic,
        "route": route,
        "deadLetterTopic": events::DEAD_LETTER_TOPIC,
    })
}

/// An emulator for `app` with quick retries (2 retries, 10 ms apart) and no endless redelivery,
/// so a failing test fails fast.
pub fn fast_emulator(app: &TestApp) -> EmulatorBuilder {
    Emulator::builder()
        .app_id("backend")
        .app_url(&app.url)
        .retry_policy(RetryPolicy { max_retries: 2, interval: Duration::from_millis(10) })
        .redelivery_interval(None)
}

pub fn client(emulator: &EmulatorHandle, token: Option<&str>) -> DaprClient {
    DaprClient::new(
        emulator.base_url(),
        token.map(|t| secrecy::SecretString::from(t.to_owned())),
        Duration::from_secs(5),
    )
    .expect("valid client")
}

/// One test's events: they all belong to the user `id`, which no other test uses, so an app
/// reading a shared topic can tell its own messages from earlier tests' ones.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub id: Uuid,
}

impl Run {
    pub fn new() -> Self {
        Self { id: Uuid::new_v4() }
    }

    /// A `tasks.deleted` event of this run for the task `key`, tagged like [`task_event`].
    pub fn event(&self, key: Uuid, tag: &str) -> TaskEvent {
        TaskEvent::new(key, self.id, format!("corr-{tag}"), EventPayload::Deleted { title: tag.into() })
    }
}

/// A `tasks.deleted` event for the task `key`; `tag` tells events apart in assertions.
pub fn task_event(key: Uuid, tag: &str) -> TaskEvent {
    TaskEvent::new(key, Uuid::now_v7(), format!("corr-{tag}"), EventPayload::Deleted { title: tag.into() })
}

/// Publishes `event` the way the backend relay does.
pub async fn publish_event(client: &DaprClient, event: &TaskEvent) {
    try_publish_event(client, event).await.expect("the emulator accepts the publish");
}

pub async fn try_publish_event(
    client: &DaprClient,
    event: &TaskEvent,
) -> Result<(), events::client::PublishError> {
    try_publish_event_to(client, events::TOPIC, event).await
}

/// Publishes `event` the way the backend relay does, but to `topic`.
pub async fn try_publish_event_to(
    client: &DaprClient,
    topic: &str,
    event: &TaskEvent,
) -> Result<(), events::client::PublishError> {
    let data = serde_json::to_value(event).expect("serializable");
    let id = event.event_id.to_string();
    let key = event.task_id.to_string();
    let message = OutgoingMessage {
        id: &id,
        event_type: event.event_type().as_str(),
        partition_key: &key,
        correlation_id: Some(&event.correlation_id),
        traceparent: Some(TRACEPARENT),
        data: &data,
    };
    client.publish(events::DEFAULT_PUBSUB, topic, &message).await
}

/// Publishes `events` in one bulk call, each entry the way the backend relay builds it.
pub async fn try_publish_bulk(
    client: &DaprClient,
    events: &[TaskEvent],
) -> Result<(), events::client::BulkPublishError> {
    let owned: Vec<(String, String, Value)> = events
        .iter()
        .map(|e| {
            (e.event_id.to_string(), e.task_id.to_string(), serde_json::to_value(e).expect("serializable"))
        })
        .collect();
    let messages: Vec<OutgoingMessage<'_>> = events
        .iter()
        .zip(&owned)
        .map(|(event, (id, key, data))| OutgoingMessage {
            id,
            event_type: event.event_type().as_str(),
            partition_key: key,
            correlation_id: Some(&event.correlation_id),
            traceparent: Some(TRACEPARENT),
            data,
        })
        .collect();
    client.publish_bulk(events::DEFAULT_PUBSUB, events::TOPIC, &messages).await
}

/// A raw `POST /v1.0-alpha1/publish/bulk/{pubsub}/{topic}` with this JSON body.
pub fn raw_bulk_publish(base_url: &str, body: &Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{base_url}/v1.0-alpha1/publish/bulk/{}/{}", events::DEFAULT_PUBSUB, events::TOPIC))
        .json(body)
}

/// A raw publish request for edge cases the typed client cannot produce.
pub fn raw_publish(emulator: &EmulatorHandle, topic_and_query: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().post(format!(
        "{}/v1.0/publish/{}/{topic_and_query}",
        emulator.base_url(),
        events::DEFAULT_PUBSUB
    ))
}

/// The `title` a [`task_event`] was tagged with, read back from a delivered CloudEvent.
pub fn tag_of(received: &Received) -> String {
    received.json()["data"]["title"].as_str().expect("a task event").to_owned()
}
