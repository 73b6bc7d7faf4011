//! Emulator settings and the builder that starts it.

use std::{fmt, io, time::Duration};

use crate::EmulatorHandle;

/// Entry point: `Emulator::builder()…start().await`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder { config: Config::default() }
    }
}

/// The inbound resiliency policy applied to each delivery: a constant interval between attempts
/// and a finite number of retries, after which the message goes to the dead-letter topic (§4).
///
/// Real Dapr defaults `maxRetries` to infinite; a finite default is what our Resiliency
/// resource declares and what the contract recommends (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 means a single attempt, as with no policy at all.
    pub max_retries: u32,
    /// Wait between attempts (Resiliency `policy: constant`, `duration`).
    pub interval: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 3, interval: Duration::from_secs(5) }
    }
}

#[derive(Clone)]
pub(crate) struct Config {
    pub port: u16,
    pub app_id: String,
    pub pubsubs: Vec<String>,
    pub api_token: Option<String>,
    /// Instances of the app, in the order given; the first is asked for its subscriptions.
    pub app_urls: Vec<String>,
    pub app_token: Option<String>,
    pub retry: RetryPolicy,
    pub redelivery_interval: Option<Duration>,
    /// Keep every message and delivery record for inspection (`published`, `deliveries`): what
    /// tests want. The process keeps only what is still to be delivered.
    pub keep_history: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            app_id: "app".into(),
            pubsubs: vec![events::DEFAULT_PUBSUB.into()],
            api_token: None,
            app_urls: Vec::new(),
            app_token: None,
            retry: RetryPolicy::default(),
            // The Kafka component's own per-message retry: constant 5 s, forever (§4.3).
            redelivery_interval: Some(Duration::from_secs(5)),
            keep_history: true,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |token: &Option<String>| token.as_ref().map(|_| "[redacted]");
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("app_id", &self.app_id)
            .field("pubsubs", &self.pubsubs)
            .field("api_token", &redact(&self.api_token))
            .field("app_urls", &self.app_urls)
            .field("app_token", &redact(&self.app_token))
            .field("retry", &self.retry)
            .field("redelivery_interval", &self.redelivery_interval)
            .field("keep_history", &self.keep_history)
            .finish()
    }
}

/// Configures and starts an emulator. Every setting has a default matching a plain sidecar with
/// one Kafka component named [`events::DEFAULT_PUBSUB`] and no app to deliver to.
#[derive(Debug)]
pub struct EmulatorBuilder {
    config: Config,
}

impl EmulatorBuilder {
    /// Port of the HTTP API on 127.0.0.1; 0 (the default) picks a free one.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// The publisher's app-id, written as the CloudEvent `source` (§1.3). Default `app`.
    #[must_use]
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.config.app_id = app_id.into();
        self
    }

    /// The pub/sub components that exist; publishing to any other name gets 404.
    #[must_use]
    pub fn pubsub_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.pubsubs = names.into_iter().map(Into::into).collect();
        self
    }

    /// Require this `dapr-api-token` on every call except the health endpoints (§5).
    #[must_use]
    pub fn api_token(mut self, token: impl Into<String>) -> Self {
        self.config.api_token = Some(token.into());
        self
    }

    /// The app to discover subscriptions from and deliver to, e.g. `http://127.0.0.1:8081`.
    /// Called again, another instance of the same app: like replicas sharing one consumer
    /// group, each partition key's messages go to one instance, in order.
    #[must_use]
    pub fn app_url(mut self, url: impl Into<String>) -> Self {
        self.config.app_urls.push(url.into());
        self
    }

    /// Forget messages once delivered and keep no delivery records, so a long run stays small;
    /// `published` and `deliveries` then show only what is still to be delivered. Without an app
    /// URL nothing will be delivered, so nothing is kept at all.
    #[must_use]
    pub fn forget_delivered(mut self) -> Self {
        self.config.keep_history = false;
        self
    }

    /// Sent as `dapr-api-token` on every call to the app (`APP_API_TOKEN`, §5).
    #[must_use]
    pub fn app_token(mut self, token: impl Into<String>) -> Self {
        self.config.app_token = Some(token.into());
        self
    }

    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// What happens after the retry policy is exhausted on a subscription without a dead-letter
    /// topic. `Some(interval)` (the default, 5 s) redelivers forever, blocking that partition
    /// key like the Kafka component does (§4.3); `None` gives up and moves on, like
    /// `consumeRetryEnabled: "false"`.
    #[must_use]
    pub fn redelivery_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.redelivery_interval = interval;
        self
    }

    /// Binds the port, starts serving and, when an app URL is set, discovers its subscriptions.
    ///
    /// If the app does not answer yet, discovery continues in the background (daprd likewise
    /// waits for the app port), so this returns as soon as the HTTP API is up.
    pub async fn start(self) -> io::Result<EmulatorHandle> {
        EmulatorHandle::start(self.config).await
    }
}
