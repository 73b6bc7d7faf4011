//! The running emulator: its address, what it recorded, fault injection, and its lifecycle.

use std::{
    future::{Future, IntoFuture},
    io,
    net::Ipv4Addr,
    sync::Arc,
    time::Duration,
};

use events::dapr::Subscription;
use reqwest::Url;
use tokio::{net::TcpListener, sync::Mutex, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    DeliveryRecord, DiscoveryError, PublishedMessage, config::Config, discovery, server, state::Shared,
};

/// A running emulator. Dropping it shuts the server and the delivery workers down.
pub struct EmulatorHandle {
    shared: Arc<Shared>,
    port: u16,
    base_url: String,
    server: Mutex<Option<Server>>,
}

struct Server {
    shutdown: CancellationToken,
    task: JoinHandle<io::Result<()>>,
}

/// A `wait_for…` helper gave up.
#[derive(Debug, Clone, thiserror::Error)]
#[error("timed out after {waited:?} waiting for {wanted} {what} on topic `{topic}`; saw {seen}")]
pub struct WaitTimeout {
    pub topic: String,
    pub wanted: usize,
    pub seen: usize,
    pub waited: Duration,
    what: &'static str,
}

impl EmulatorHandle {
    pub(crate) async fn start(config: Config) -> io::Result<Self> {
        let app_urls = config
            .app_urls
            .iter()
            .map(|url| Url::parse(url))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("app URL: {e}")))?;
        let http = reqwest::Client::builder().build().map_err(io::Error::other)?;
        let requested_port = config.port;
        let shared = Shared::new(config, http, app_urls);
        let (server, port) = Server::bind(&shared, requested_port).await?;
        let handle = Self {
            shared,
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            server: Mutex::new(Some(server)),
        };
        handle.start_delivery().await;
        tracing::info!(base_url = %handle.base_url, "Dapr emulator listening");
        Ok(handle)
    }

    /// `http://127.0.0.1:{port}`, what an app uses as its sidecar address.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted on `topic` (on any pub/sub), in publish order.
    pub fn published(&self, topic: &str) -> Vec<PublishedMessage> {
        self.shared.published(topic)
    }

    /// Waits until `topic` holds at least `count` messages and returns them all.
    pub async fn wait_for(
        &self,
        topic: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<PublishedMessage>, WaitTimeout> {
        let found = self
            .wait_until(timeout, || {
                let messages = self.published(topic);
                (messages.len() >= count).then_some(messages)
            })
            .await;
        found.ok_or_else(|| WaitTimeout {
            topic: topic.to_owned(),
            wanted: count,
            seen: self.published(topic).len(),
            waited: timeout,
            what: "published messages",
        })
    }

    /// Finished deliveries of `topic`'s messages, in the order they finished.
    pub fn deliveries(&self, topic: &str) -> Vec<DeliveryRecord> {
        self.shared.deliveries(topic)
    }

    /// Waits until at least `count` deliveries of `topic`'s messages have finished.
    pub async fn wait_for_deliveries(
        &self,
        topic: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<DeliveryRecord>, WaitTimeout> {
        let found = self
            .wait_until(timeout, || {
                let records = self.deliveries(topic);
                (records.len() >= count).then_some(records)
            })
            .await;
        found.ok_or_else(|| WaitTimeout {
            topic: topic.to_owned(),
            wanted: count,
            seen: self.deliveries(topic).len(),
            waited: timeout,
            what: "finished deliveries",
        })
    }

    /// The subscriptions currently in force.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.shared.subscriptions()
    }

    /// Calls the app's `GET /dapr/subscribe` now and installs what it returns. Messages already
    /// published to a newly subscribed topic are then delivered.
    pub async fn discover(&self) -> Result<Vec<Subscription>, DiscoveryError> {
        discovery::discover(&self.shared).await
    }

    /// While down, every publish answers 500 `ERR_PUBSUB_PUBLISH_MESSAGE`, as when Kafka is
    /// unreachable, and dead-letter copies cannot be written.
    pub fn set_broker_down(&self, down: bool) {
        self.shared.set_broker_down(down);
    }

    /// While refused, the broker refuses messages with this Kafka key (`partitionKey` or
    /// `__key`) and accepts the others, as when only that key's partition has no leader: a
    /// single publish of one answers like [`Self::set_broker_down`], and a bulk publish fails
    /// those entries only (§1.5).
    pub fn set_key_refused(&self, key: &str, refused: bool) {
        self.shared.set_key_refused(key, refused);
    }

    /// Stops the sidecar: connections are refused and delivery pauses until [`Self::restart`].
    /// Recorded messages are kept.
    pub async fn stop(&self) {
        let mut slot = self.server.lock().await;
        self.shared.stop_consumer();
        if let Some(server) = slot.take() {
            server.shut_down().await;
        }
    }

    /// Starts the sidecar again on the same port, rediscovers the app's subscriptions (a real
    /// sidecar asks once per start), and resumes delivery from where it stopped.
    pub async fn restart(&self) -> io::Result<()> {
        let mut slot = self.server.lock().await;
        self.shared.stop_consumer();
        if let Some(server) = slot.take() {
            server.shut_down().await;
        }
        let (server, _) = Server::bind(&self.shared, self.port).await?;
        *slot = Some(server);
        drop(slot);
        self.start_delivery().await;
        Ok(())
    }

    async fn start_delivery(&self) {
        let cancel = self.shared.start_consumer();
        if self.shared.app_urls.is_empty() {
            return;
        }
        // One attempt inline, so a test whose app is already up sees its subscriptions as soon
        // as `start` returns; otherwise keep knocking in the background.
        if let Err(DiscoveryError::Unreachable(_)) = discovery::discover(&self.shared).await {
            tokio::spawn(discovery::discover_when_reachable(Arc::clone(&self.shared), cancel));
        }
    }

    async fn wait_until<T>(&self, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
        let mut changes = self.shared.watch();
        let wait = async {
            loop {
                // Subscribed before checking, so a change between the check and the wait wakes us.
                if let Some(found) = check() {
                    return found;
                }
                if changes.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.ok()
    }
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base_url", &self.base_url)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.shared.stop_consumer();
        if let Some(server) = self.server.get_mut().take() {
            server.shutdown.cancel();
        }
    }
}

impl Server {
    async fn bind(shared: &Arc<Shared>, port: u16) -> io::Result<(Self, u16)> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let port = listener.local_addr()?.port();
        let shutdown = CancellationToken::new();
        let serve = axum::serve(listener, server::router(Arc::clone(shared)))
            .with_graceful_shutdown(shutdown.clone().cancelled_owned())
            .into_future();
        let task = tokio::spawn(serve);
        Ok((Self { shutdown, task }, port))
    }

    /// Graceful, so idle keep-alive connections are closed too: a client holding one must see
    /// the sidecar as gone, not keep getting answers from a server that was "stopped".
    fn shut_down(self) -> impl Future<Output = ()> {
        self.shutdown.cancel();
        async move {
            match self.task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "the emulator's server failed"),
                Err(e) => tracing::warn!(error = %e, "the emulator's server task failed"),
            }
        }
    }
}
