//! Live updates: `GET /api/v1/stream` pushes a user's task changes, suggestions and fired
//! reminders to every open tab as Server-Sent Events.
//!
//! Updates reach every replica through NOTIFY on `user_stream`: the outbox relay announces the
//! task events it publishes, one notification per batch ([`announcements`]), and a trigger on
//! `suggestion` announces each suggestion change at commit, whichever process made it (see the
//! `live_updates` and `commits_without_notify` migrations). Each replica's [`Hub`] LISTENs and
//! hands each update to the streams of the user it names, and only theirs. The events carry
//! identifiers and short labels; the browser fetches details through the API. Notifications
//! are not durable, so whenever one may have been missed (a lost database connection, a slow
//! reader) the stream sends `ready` again, which tells the browser to refetch.

use std::{
    collections::HashMap,
    convert::Infallible,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::{
    Notify,
    broadcast::{self, error::RecvError},
};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    error::{AppError, Result},
    http::{AppState, RequestContext},
};

pub const CHANNEL: &str = "user_stream";
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
    /// Poked whenever a suggestion changes, for the workers that follow suggestions.
    suggestions: Arc<Notify>,
}

impl Hub {
    /// What [`Hub::run`] pokes on every suggestion change, on any replica.
    pub fn suggestion_changes(&self) -> Arc<Notify> {
        Arc::clone(&self.suggestions)
    }

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

    /// Handles one `user_stream` notification, a list of updates. Anything malformed is
    /// dropped with a warning: the senders are ours, so that is a bug, not a reason to stop
    /// the stream.
    fn dispatch(&self, payload: &str) {
        let updates = match serde_json::from_str::<Vec<Notification>>(payload) {
            Ok(updates) => updates,
            Err(e) => return tracing::warn!(error.message = %e, "malformed live-update notification"),
        };
        for n in updates {
            let event = match n.event.as_str() {
                "task" => "task",
                "suggestion" => {
                    self.suggestions.notify_one();
                    "suggestion"
                }
                "reminder" => "reminder",
                other => {
                    tracing::warn!(event = other, "unknown live-update event");
                    continue;
                }
            };
            self.deliver(n.user_id, Update::Event { event, data: n.data.get().into() });
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

/// The largest notification PostgreSQL takes is 8000 bytes; a batch's updates are split below it.
const MAX_NOTIFICATION_BYTES: usize = 7900;

/// One update for a user's tabs, as [`announcements`] encodes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    pub user_id: Uuid,
    pub event: &'static str,
    pub data: serde_json::Value,
}

/// `updates` as `user_stream` notification payloads: JSON lists, each under the size limit,
/// in the order given (so a user's tabs hear of their changes in commit order).
pub fn announcements(updates: &[Announcement]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::from("[");
    for update in updates {
        let Ok(item) = serde_json::to_string(update) else { continue };
        // Updates hold ids and labels cut to 200 characters, so this cannot happen; were it to,
        // one lost update beats a relay stuck on a batch PostgreSQL refuses.
        if item.len() + 2 > MAX_NOTIFICATION_BYTES {
            tracing::warn!(user_id = %update.user_id, bytes = item.len(), "live update too large to announce");
            continue;
        }
        if current.len() > 1 && current.len() + item.len() + 2 > MAX_NOTIFICATION_BYTES {
            current.push(']');
            payloads.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&item);
    }
    if current.len() > 1 {
        current.push(']');
        payloads.push(current);
    }
    payloads
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

/// What a stream counts against: its user, and the client address it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Holder {
    User(Uuid),
    Address(IpAddr),
}

/// The address a stream counts against: an IPv4 address as it is, an IPv6 one by its /64
/// network (one subscriber usually gets a whole /64, so single addresses are free to them).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// Open streams per user and per client address, capped. The count is this replica's own, on
/// purpose: a stream is a connection, which lives on one replica, so only this replica's
/// streams use up its memory and file descriptors (the ingress caps connections per address
/// across replicas). A shared count would outlive a crashed replica's streams.
#[derive(Clone, Default)]
pub struct Slots {
    held: Arc<Mutex<HashMap<Holder, usize>>>,
}

impl Slots {
    /// Takes a slot for `user` and `address`, or says which cap is reached. A cap of 0 is none.
    fn take(&self, user: Uuid, address: Option<IpAddr>, per_user: usize, per_address: usize) -> Result<Slot> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let mut holders = vec![(Holder::User(user), per_user, "per user")];
        holders
            .extend(address.map(|ip| (Holder::Address(address_key(ip)), per_address, "per client address")));
        for (holder, cap, what) in &holders {
            if *cap > 0 && held.get(holder).copied().unwrap_or(0) >= *cap {
                return Err(AppError::LimitReached {
                    code: "too_many_streams",
                    detail: format!(
                        "at most {cap} live-update streams may be open at once {what}; close a tab and retry"
                    ),
                    retry_after: RECONNECT_AFTER,
                    service_wide: false,
                });
            }
        }
        let holders: Vec<Holder> = holders.into_iter().map(|(holder, ..)| holder).collect();
        for holder in &holders {
            *held.entry(*holder).or_default() += 1;
        }
        Ok(Slot { slots: self.clone(), holders })
    }
}

/// An open stream's place in [`Slots`], given back when the stream ends however it ends.
struct Slot {
    slots: Slots,
    holders: Vec<Holder>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(PoisonError::into_inner);
        for holder in &self.holders {
            if let Some(count) = held.get_mut(holder) {
                *count -= 1;
                if *count == 0 {
                    held.remove(holder);
                }
            }
        }
    }
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
/// so a revoked session stops receiving within that time. A user may hold `STREAM_MAX_PER_USER`
/// streams at once (default 8) and a client address `STREAM_MAX_PER_ADDRESS` (default 32, an
/// IPv6 client counted by its /64); beyond that the answer is 429 `too_many_streams`.
#[utoipa::path(get, path = "/stream", tag = "stream",
    responses(
        (status = 200, description = "Server-Sent Events, each shaped as `StreamEvent`", content_type = "text/event-stream", body = StreamEvent),
        (status = 401, description = "Not signed in", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many streams open for this user or client address", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
async fn stream_events(
    State(state): State<AppState>,
    user: AuthUser,
    ctx: RequestContext,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let config = &state.config;
    let slot = state.stream_slots.take(
        user.user_id,
        ctx.client_ip,
        config.stream_max_per_user,
        config.stream_max_per_address,
    )?;
    let subscription = state.stream.subscribe(user.user_id);
    // The slot rides along with the subscription, so it is given back when the response body
    // is dropped: the lifetime ran out, the server stops, or the client went away.
    let updates = futures::stream::unfold((subscription, slot), |(mut subscription, slot)| async move {
        let event = match subscription.next().await? {
            Update::Event { event, data } => StreamEvent { event, data, retry: None }.into(),
            Update::Resync => ready(),
        };
        Some((event, (subscription, slot)))
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
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn update(user: u128, n: usize) -> Announcement {
        Announcement {
            user_id: Uuid::from_u128(user),
            event: "task",
            data: json!({"eventType": "tasks.created", "n": n, "title": "x".repeat(150)}),
        }
    }

    #[test]
    fn a_batch_is_split_below_the_notification_limit_in_order() {
        let updates: Vec<_> = (0..200).map(|n| update(u128::from(n % 3 == 0), n)).collect();
        let payloads = announcements(&updates);
        assert!(payloads.len() > 1, "200 updates of ~250 bytes need several notifications");
        let mut seen = Vec::new();
        for payload in &payloads {
            assert!(payload.len() <= MAX_NOTIFICATION_BYTES, "{} bytes", payload.len());
            for n in serde_json::from_str::<Vec<Notification>>(payload).unwrap() {
                let data: serde_json::Value = serde_json::from_str(n.data.get()).unwrap();
                seen.push(usize::try_from(data["n"].as_u64().unwrap()).unwrap());
            }
        }
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
        assert!(announcements(&[]).is_empty());
    }

    #[test]
    fn an_oversized_update_is_left_out_rather_than_refused_by_postgres() {
        let mut huge = update(1, 0);
        huge.data = json!({"title": "x".repeat(MAX_NOTIFICATION_BYTES)});
        let payloads = announcements(&[huge, update(2, 1)]);
        assert_eq!(payloads.len(), 1);
        assert!(payloads[0].contains("\"n\":1") && !payloads[0].contains(&"x".repeat(1000)));
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_network() {
        let key = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
    }

    #[test]
    fn a_slot_is_given_back_when_dropped() {
        let slots = Slots::default();
        let (ada, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let first = slots.take(ada, Some(ip), 1, 2).unwrap();
        assert!(slots.take(ada, None, 1, 2).is_err(), "the user's cap");
        let second = slots.take(bob, Some(ip), 1, 2).unwrap();
        assert!(slots.take(Uuid::from_u128(3), Some(ip), 1, 2).is_err(), "the address's cap");
        drop(first);
        drop(second);
        assert!(slots.held.lock().unwrap().is_empty(), "nothing is left behind");
        slots.take(ada, Some(ip), 1, 2).unwrap();
    }

    #[tokio::test]
    async fn each_update_of_a_notification_reaches_only_its_users_streams() {
        let hub = Hub::default();
        let mut ada = hub.subscribe(Uuid::from_u128(1));
        let mut bob = hub.subscribe(Uuid::from_u128(2));
        for payload in announcements(&[update(1, 0), update(2, 1), update(1, 2)]) {
            hub.dispatch(&payload);
        }
        hub.dispatch("not json");
        for expected in [0, 2] {
            let Some(Update::Event { event, data }) = ada.next().await else { panic!("an event for ada") };
            assert_eq!(event, "task");
            assert!(data.contains(&format!("\"n\":{expected}")), "{data}");
        }
        let Some(Update::Event { data, .. }) = bob.next().await else { panic!("an event for bob") };
        assert!(data.contains("\"n\":1"), "{data}");
    }
}
