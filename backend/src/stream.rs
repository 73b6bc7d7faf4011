//! Live updates: `GET /api/v1/stream` pushes a user's task changes, suggestions and fired
//! reminders to every open tab as Server-Sent Events.
//!
//! Database triggers (see the `live_updates` migration) NOTIFY `user_stream` when a change
//! commits, whichever process made it; each replica's [`Hub`] LISTENs and hands each
//! notification to the streams of the user it names, and only theirs. The events carry
//! identifiers and short labels; the browser fetches details through the API. Notifications
//! are not durable, so whenever one may have been missed (a lost database connection, a slow
//! reader) the stream sends `ready` again, which tells the browser to refetch.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{auth::AuthUser, http::AppState};

const CHANNEL: &str = "user_stream";
/// Per user; a tab that falls further behind than this is told to refetch instead.
const BUFFER: usize = 64;
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// What the browser waits before reconnecting a dropped stream.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream_events))
}

/// One thing to tell a user's tabs.
#[derive(Clone, Debug)]
enum Update {
    /// `event` is `task`, `suggestion` or `reminder`; `data` is its JSON.
    Event { event: &'static str, data: Arc<str> },
    /// Updates may have been missed: refetch.
    Resync,
}

/// Routes notifications to the streams of the user they belong to. One per process.
#[derive(Clone, Default)]
pub struct Hub {
    users: Arc<Mutex<HashMap<Uuid, broadcast::Sender<Update>>>>,
}

impl Hub {
    fn subscribe(&self, user_id: Uuid) -> Subscription {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let receiver = users.entry(user_id).or_insert_with(|| broadcast::channel(BUFFER).0).subscribe();
        Subscription { hub: self.clone(), user_id, receiver: Some(receiver) }
    }

    fn deliver(&self, user_id: Uuid, update: Update) {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = users.get(&user_id) {
            // An error only means the last tab closed in the meantime.
            let _ = sender.send(update);
        }
    }

    fn resync_all(&self) {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        for sender in users.values() {
            let _ = sender.send(Update::Resync);
        }
    }

    /// How many users have a stream open on this replica.
    pub fn connected_users(&self) -> usize {
        self.users.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Handles one `user_stream` notification. Anything malformed is dropped with a warning:
    /// the triggers are ours, so that is a bug, not a reason to stop the stream.
    fn dispatch(&self, payload: &str) {
        match serde_json::from_str::<Notification>(payload) {
            Ok(n) => match n.event.as_str() {
                "task" => self.deliver(n.user_id, Update::Event { event: "task", data: n.data.get().into() }),
                "suggestion" => {
                    self.deliver(n.user_id, Update::Event { event: "suggestion", data: n.data.get().into() });
                }
                "reminder" => {
                    self.deliver(n.user_id, Update::Event { event: "reminder", data: n.data.get().into() });
                }
                other => tracing::warn!(event = other, "unknown live-update event"),
            },
            Err(e) => tracing::warn!(error.message = %e, "malformed live-update notification"),
        }
    }

    /// LISTENs until `shutdown`, reconnecting after a lost connection; `pool` must reach the
    /// database directly (LISTEN does not survive a transaction-mode pooler).
    pub async fn run(self, pool: PgPool, shutdown: CancellationToken) {
        let mut connected_before = false;
        let mut warned = false;
        while !shutdown.is_cancelled() {
            let mut listener = match listen(&pool).await {
                Ok(listener) => listener,
                Err(e) => {
                    if !warned {
                        tracing::warn!(error.message = %e, "cannot LISTEN for live updates; retrying");
                        warned = true;
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            if connected_before {
                tracing::info!("listening for live updates again");
                self.resync_all();
            }
            connected_before = true;
            warned = false;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    received = listener.try_recv() => match received {
                        Ok(Some(notification)) => self.dispatch(notification.payload()),
                        // The connection was lost; notifications sent meanwhile are gone.
                        Ok(None) | Err(_) => {
                            tracing::warn!("lost the live-update connection; reconnecting");
                            break;
                        }
                    },
                }
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    user_id: Uuid,
    event: String,
    data: Box<serde_json::value::RawValue>,
}

/// A user's receiver; the last one to go removes the user's channel.
struct Subscription {
    hub: Hub,
    user_id: Uuid,
    receiver: Option<broadcast::Receiver<Update>>,
}

impl Subscription {
    async fn next(&mut self) -> Option<Update> {
        let receiver = self.receiver.as_mut()?;
        match receiver.recv().await {
            Ok(update) => Some(update),
            Err(RecvError::Lagged(_)) => Some(Update::Resync),
            Err(RecvError::Closed) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.receiver.take());
        let mut users = self.hub.users.lock().unwrap_or_else(PoisonError::into_inner);
        if users.get(&self.user_id).is_some_and(|sender| sender.receiver_count() == 0) {
            users.remove(&self.user_id);
        }
    }
}

/// One event of the stream as `text/event-stream` carries it: an `event:` line, a `data:`
/// line holding JSON, and on `ready` a `retry:` line.
#[derive(ToSchema)]
struct StreamEvent {
    /// `ready`, `task`, `suggestion` or `reminder`.
    #[schema(value_type = String, pattern = "^(ready|task|suggestion|reminder)$")]
    event: &'static str,
    /// A JSON object: `{}` for `ready`; `{eventType, taskId}` for `task`;
    /// `{suggestionId, kind, status, taskId, title}` for `suggestion`; `{taskId, title, dueAt}`
    /// for `reminder`.
    #[schema(value_type = String)]
    data: Arc<str>,
    /// Milliseconds the browser waits before reconnecting a dropped stream.
    #[schema(value_type = Option<u64>)]
    retry: Option<Duration>,
}

impl From<StreamEvent> for Event {
    fn from(e: StreamEvent) -> Self {
        let event = Self::default().event(e.event).data(&*e.data);
        match e.retry {
            Some(after) => event.retry(after),
            None => event,
        }
    }
}

fn ready() -> Event {
    StreamEvent { event: "ready", data: "{}".into(), retry: Some(RECONNECT_AFTER) }.into()
}

/// The signed-in user's live updates (`text/event-stream`).
///
/// Events: `ready` (on connect, and whenever updates may have been missed: refetch),
/// `task` `{eventType, taskId}`, `suggestion` `{suggestionId, kind, status, taskId, title}`,
/// `reminder` `{taskId, title, dueAt}`. A comment line every 15 s keeps proxies from closing
/// an idle stream. The stream ends after `STREAM_MAX_SECONDS` (the browser reconnects at once),
/// so a revoked session stops receiving within that time.
#[utoipa::path(get, path = "/stream", tag = "stream",
    responses(
        (status = 200, description = "Server-Sent Events, each shaped as `StreamEvent`", content_type = "text/event-stream", body = StreamEvent),
        (status = 401, description = "Not signed in", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
async fn stream_events(
    State(state): State<AppState>,
    user: AuthUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let subscription = state.stream.subscribe(user.user_id);
    let updates = futures::stream::unfold(subscription, |mut subscription| async move {
        let event = match subscription.next().await? {
            Update::Event { event, data } => StreamEvent { event, data, retry: None }.into(),
            Update::Resync => ready(),
        };
        Some((event, subscription))
    });
    let shutdown = state.shutdown.clone();
    let lifetime = Duration::from_secs(state.config.stream_max_seconds);
    let end = async move {
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(lifetime) => {}
        }
    };
    let events = futures::stream::once(async { ready() }).chain(updates).take_until(end).map(Ok);
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
