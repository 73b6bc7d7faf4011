//! A stand-in RFC 8030 push service, playing the browser behind it too, for tests and the
//! local run.
//!
//! `POST /subscriptions` makes a subscription as a browser would (it generates the user agent's
//! P-256 key pair and 16-byte auth secret) and answers `{"id", "endpoint", "keys": {"p256dh",
//! "auth"}}`, the shape of `PushSubscription.toJSON()`. `POST /push/{id}` takes a push as a
//! real service does: it requires `TTL`, `Content-Encoding: aes128gcm` and a VAPID
//! `Authorization` (RFC 8292: an ES256 JWT for this origin, expiring within 24 h, with a
//! subject), decrypts the body with the subscription's keys (RFC 8291) and answers 201 with a
//! `Location`. `GET /subscriptions/{id}/messages` lists what arrived, in order;
//! `DELETE /subscriptions/{id}` ends the subscription (later pushes get 410 Gone);
//! `POST /subscriptions/{id}/failures` makes the next pushes fail with a given status.
//!
//! Unlike a real service it keeps every push, even one whose `Topic` replaces an earlier one,
//! so a test sees duplicates; it stores nothing on disk and delivers nothing onwards.

#![forbid(unsafe_code)]

pub mod crypto;
mod server;

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// What `POST /subscriptions` answers: the browser's `PushSubscription.toJSON()` plus its id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Subscription {
    pub id: Uuid,
    pub endpoint: String,
    pub keys: Keys,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Keys {
    pub p256dh: String,
    pub auth: String,
}

/// A push as it arrived, decrypted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Message {
    /// The plaintext (UTF-8, lossy).
    pub data: String,
    pub ttl: u64,
    pub urgency: Option<String>,
    pub topic: Option<String>,
}

/// Statuses the next pushes to a subscription answer instead of being accepted.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub status: u16,
    /// Sent as `Retry-After` (seconds).
    pub retry_after: Option<u64>,
}

struct Entry {
    keys: crypto::UaKeys,
    messages: Vec<Message>,
    gone: bool,
    failures: VecDeque<Failure>,
}

#[derive(Default)]
struct State {
    subscriptions: HashMap<Uuid, Entry>,
    /// Pushes received, accepted or not.
    requests: usize,
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<State>>,
    base_url: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn subscribe(&self) -> Subscription {
        let keys = crypto::UaKeys::generate();
        let id = Uuid::new_v4();
        let subscription = Subscription {
            id,
            endpoint: format!("{}/push/{id}", self.base_url),
            keys: Keys {
                p256dh: URL_SAFE_NO_PAD.encode(&keys.public),
                auth: URL_SAFE_NO_PAD.encode(keys.auth),
            },
        };
        self.lock()
            .subscriptions
            .insert(id, Entry { keys, messages: Vec::new(), gone: false, failures: VecDeque::new() });
        subscription
    }
}

/// A running stand-in; dropping it stops the server.
pub struct PushService {
    shared: Shared,
    shutdown: CancellationToken,
}

impl PushService {
    /// Serves on `address` (port 0 picks a free one) until dropped.
    pub async fn start(address: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let shared = Shared { state: Arc::default(), base_url };
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let app = server::router(shared.clone());
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::error!(error.message = %e, "the push stand-in stopped");
            }
        });
        Ok(Self { shared, shutdown })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// A new subscription, as `POST /subscriptions` makes one.
    pub fn subscribe(&self) -> Subscription {
        self.shared.subscribe()
    }

    /// The pushes a subscription received, decrypted, in order; empty for an unknown one.
    pub fn messages(&self, id: Uuid) -> Vec<Message> {
        self.shared.lock().subscriptions.get(&id).map(|e| e.messages.clone()).unwrap_or_default()
    }

    /// Ends a subscription: later pushes to it answer 410.
    pub fn unsubscribe(&self, id: Uuid) -> bool {
        self.shared.lock().subscriptions.get_mut(&id).map(|e| e.gone = true).is_some()
    }

    /// The next `times` pushes to the subscription answer `failure` instead.
    pub fn fail_next(&self, id: Uuid, failure: Failure, times: usize) {
        if let Some(entry) = self.shared.lock().subscriptions.get_mut(&id) {
            entry.failures.extend(std::iter::repeat_n(failure, times));
        }
    }

    /// Pushes received so far, whatever they were answered.
    pub fn requests(&self) -> usize {
        self.shared.lock().requests
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
