//! Asking the app for its subscriptions: `GET /dapr/subscribe` (§2).

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use events::dapr::{API_TOKEN_HEADER, Subscription};
use reqwest::{StatusCode, Url, header::CONTENT_TYPE};
use tokio_util::sync::CancellationToken;

use crate::state::Shared;

/// How often to knock while the app is not listening yet.
const APP_WAIT_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    #[error("no app URL is configured")]
    NoAppUrl,
    /// Nothing listens on the app URL yet; the subscriptions are left as they were.
    #[error("the app is not reachable: {0}")]
    Unreachable(String),
    /// Any status but 2xx and 404; the app then has no subscriptions, as with Dapr.
    #[error("GET /dapr/subscribe answered HTTP {0}")]
    Status(u16),
    /// Not a JSON array of subscriptions (e.g. a metadata value that is not a string); the app
    /// then has no subscriptions at all, as with Dapr.
    #[error("GET /dapr/subscribe returned invalid subscriptions: {0}")]
    Invalid(String),
}

/// Fetches the app's subscriptions and installs the usable ones.
pub(crate) async fn discover(shared: &Arc<Shared>) -> Result<Vec<Subscription>, DiscoveryError> {
    match fetch(shared).await {
        Ok(subscriptions) => {
            let accepted = accept(&shared.config.pubsubs, subscriptions);
            tracing::info!(count = accepted.len(), "discovered the app's subscriptions");
            shared.set_subscriptions(accepted.clone());
            Ok(accepted)
        }
        Err(e @ (DiscoveryError::Unreachable(_) | DiscoveryError::NoAppUrl)) => Err(e),
        Err(e) => {
            tracing::error!(error = %e, "the app has no subscriptions");
            shared.set_subscriptions(Vec::new());
            Err(e)
        }
    }
}

/// Like daprd, waits for the app to listen before asking; gives up only when cancelled.
pub(crate) async fn discover_when_reachable(shared: Arc<Shared>, cancel: CancellationToken) {
    loop {
        match discover(&shared).await {
            Err(DiscoveryError::Unreachable(_)) => {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(APP_WAIT_INTERVAL) => {}
                }
            }
            _ => return,
        }
    }
}

async fn fetch(shared: &Shared) -> Result<Vec<Subscription>, DiscoveryError> {
    // Every instance is the same app, with the same subscriptions.
    let base = shared.app_urls.first().ok_or(DiscoveryError::NoAppUrl)?;
    let url = Url::parse(&format!("{}/dapr/subscribe", base.as_str().trim_end_matches('/')))
        .map_err(|e| DiscoveryError::Unreachable(e.to_string()))?;
    let mut request = shared.http.get(url).header(CONTENT_TYPE, "application/json");
    if let Some(token) = &shared.config.app_token {
        request = request.header(API_TOKEN_HEADER, token);
    }
    let response = request.send().await.map_err(|e| DiscoveryError::Unreachable(e.to_string()))?;
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Ok(Vec::new());
    }
    if !status.is_success() {
        return Err(DiscoveryError::Status(status.as_u16()));
    }
    let body = response.bytes().await.map_err(|e| DiscoveryError::Unreachable(e.to_string()))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&body).map_err(|e| DiscoveryError::Invalid(e.to_string()))
}

/// Drops what Dapr would drop, each with a warning: subscriptions without any path, on unknown
/// components, and repeats of a `(pubsubname, topic)` already seen.
fn accept(pubsubs: &[String], subscriptions: Vec<Subscription>) -> Vec<Subscription> {
    let mut seen = BTreeSet::new();
    subscriptions
        .into_iter()
        .filter(|subscription| {
            let has_path = subscription.default_route().is_some()
                || subscription.routes.as_ref().is_some_and(|routes| !routes.rules.is_empty());
            let known = pubsubs.contains(&subscription.pubsubname);
            let first = seen.insert((subscription.pubsubname.clone(), subscription.topic.clone()));
            if !(has_path && known && first) {
                tracing::warn!(
                    pubsubname = %subscription.pubsubname,
                    topic = %subscription.topic,
                    has_path,
                    known,
                    first,
                    "ignoring subscription"
                );
            }
            has_path && known && first
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_subscriptions_are_ignored() {
        let mut no_path = Subscription::new("pubsub-kafka", "a", "");
        no_path.route = None;
        let accepted = accept(
            &["pubsub-kafka".to_owned()],
            vec![
                Subscription::new("pubsub-kafka", "t", "/first"),
                Subscription::new("pubsub-kafka", "t", "/second"),
                Subscription::new("other", "t", "/x"),
                no_path,
            ],
        );
        assert_eq!(accepted, vec![Subscription::new("pubsub-kafka", "t", "/first")]);
    }
}
