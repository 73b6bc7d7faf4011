//! Dapr's HTTP wire types for pub/sub: the CloudEvent envelope, the `GET /dapr/subscribe`
//! answer, the delivery status an app returns, and the sidecar's error body.
//!
//! Field names follow the Go structs byte for byte (lowercase `pubsubname`, `data_base64`,
//! camelCase `deadLetterTopic`), because Dapr reads them with exactly those spellings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Header carrying the API token in both directions (§5).
pub const API_TOKEN_HEADER: &str = "dapr-api-token";

/// The content type of every single-message delivery to the app (§3.1).
pub const CLOUDEVENTS_CONTENT_TYPE: &str = "application/cloudevents+json";

/// The CloudEvent `type` Dapr writes when the publisher sets none (§1.3).
pub const DEFAULT_CLOUDEVENT_TYPE: &str = "com.dapr.event.sent";

/// `errorCode` values of the pub/sub API that our code reacts to (§1.4).
pub mod error_code {
    pub const PUBSUB_NOT_FOUND: &str = "ERR_PUBSUB_NOT_FOUND";
    pub const PUBSUB_FORBIDDEN: &str = "ERR_PUBSUB_FORBIDDEN";
    pub const PUBSUB_EMPTY: &str = "ERR_PUBSUB_EMPTY";
    pub const TOPIC_NAME_EMPTY: &str = "ERR_TOPIC_NAME_EMPTY";
    pub const PUBSUB_REQUEST_METADATA: &str = "ERR_PUBSUB_REQUEST_METADATA";
    pub const PUBSUB_PUBLISH_MESSAGE: &str = "ERR_PUBSUB_PUBLISH_MESSAGE";
    pub const PUBSUB_CLOUD_EVENTS_SER: &str = "ERR_PUBSUB_CLOUD_EVENTS_SER";
    /// A bulk publish body that is not a list of entries, or an entry without a unique `entryId`.
    pub const PUBSUB_EVENTS_SER: &str = "ERR_PUBSUB_EVENTS_SER";
}

/// A CloudEvent as the sidecar delivers it (§3.2).
///
/// `data` is generic so a consumer can decode straight into its payload type, but the default
/// `serde_json::Value` is the safer choice for a subscriber: a payload that fails to decode then
/// still yields the envelope (id, type) to log before answering `DROP`.
///
/// The time fields are kept as the strings Dapr wrote: a custom CloudEvent may carry any format
/// there, and a message should not become undeliverable over a field we only log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudEvent<T = Value> {
    pub id: String,
    pub specversion: String,
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacontenttype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubsubname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    /// RFC 3339, second precision when Dapr built the envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Set when the publisher gave a TTL; the sidecar drops the message after it (§1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    /// CloudEvent extension attributes of a custom envelope, kept so nothing is lost.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

/// One entry of the JSON array an app returns from `GET /dapr/subscribe` (§2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub pubsubname: String,
    pub topic: String,
    /// Used only when `routes.default` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<Routes>,
    /// Values must be strings: Dapr rejects the whole array if one is not (§2.2), which the
    /// `String` value type makes impossible to get wrong.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_topic: Option<String>,
}

impl Subscription {
    /// A subscription delivering every message of `topic` to `route`.
    pub fn new(pubsubname: impl Into<String>, topic: impl Into<String>, route: impl Into<String>) -> Self {
        Self {
            pubsubname: pubsubname.into(),
            topic: topic.into(),
            route: Some(route.into()),
            routes: None,
            metadata: BTreeMap::new(),
            dead_letter_topic: None,
        }
    }

    /// Where Dapr re-publishes messages the app dropped or kept failing (§3.3).
    #[must_use]
    pub fn with_dead_letter_topic(mut self, topic: impl Into<String>) -> Self {
        self.dead_letter_topic = Some(topic.into());
        self
    }

    /// The path used when no routing rule matches: `routes.default` wins over `route` (§2.2).
    pub fn default_route(&self) -> Option<&str> {
        self.routes
            .as_ref()
            .and_then(|routes| routes.default.as_deref())
            .filter(|path| !path.is_empty())
            .or_else(|| self.route.as_deref().filter(|path| !path.is_empty()))
    }
}

/// Content-based routing of a subscription.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routes {
    /// Evaluated in order; the first matching rule wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RouteRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A CEL condition on the CloudEvent (`event.type == "tasks.created"`) and its target path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRule {
    /// Empty always matches. String literals must be quoted (§2.2).
    pub r#match: String,
    pub path: String,
}

/// How an app answers a delivery. Dapr compares the strings case-sensitively, so only these
/// uppercase spellings count; `"success"` is an unknown status and gets retried (§3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DeliveryStatus {
    /// Processed (or already processed earlier): acknowledge.
    Success,
    /// A transient failure: deliver again under the resiliency policy.
    Retry,
    /// Can never succeed: skip it and, if configured, move it to the dead-letter topic.
    Drop,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Retry => "RETRY",
            Self::Drop => "DROP",
        }
    }
}

/// The JSON body of a delivery answer: `{"status":"SUCCESS"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryResponse {
    pub status: DeliveryStatus,
}

impl DeliveryResponse {
    pub const SUCCESS: Self = Self { status: DeliveryStatus::Success };
    pub const RETRY: Self = Self { status: DeliveryStatus::Retry };
    pub const DROP: Self = Self { status: DeliveryStatus::Drop };
}

impl From<DeliveryStatus> for DeliveryResponse {
    fn from(status: DeliveryStatus) -> Self {
        Self { status }
    }
}

/// The sidecar's JSON error body: `{"errorCode":"ERR_…","message":"…"}` (§1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaprErrorBody {
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Value>,
}

impl DaprErrorBody {
    pub fn new(error_code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { error_code: error_code.into(), message: message.into(), details: Vec::new() }
    }
}

/// The answer to a bulk publish of which some entries failed: HTTP 500 with the entries the
/// broker refused (§1.5). The entries not listed were published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkPublishFailure {
    #[serde(default)]
    pub failed_entries: Vec<BulkFailedEntry>,
    #[serde(default)]
    pub error_code: String,
}

/// One refused entry of a [`BulkPublishFailure`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkFailedEntry {
    pub entry_id: String,
    /// The broker's reason; daprd leaves it out when it has none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cloud_event_from_the_sidecar_parses_and_keeps_extensions() {
        let json = json!({
            "id": "5929aaac-a5e2-4ca1-859c-edfe73f11565",
            "specversion": "1.0",
            "source": "backend",
            "type": "tasks.created",
            "datacontenttype": "application/json",
            "data": { "version": 1 },
            "topic": "tasks-lifecycle",
            "pubsubname": "pubsub-kafka",
            "traceid": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "tracestate": "",
            "time": "2026-11-28T09:00:00Z",
            "partitionkey": "abc"
        });
        let event: CloudEvent = serde_json::from_value(json.clone()).expect("valid");
        assert_eq!(event.event_type, "tasks.created");
        assert_eq!(event.data, Some(json!({ "version": 1 })));
        assert_eq!(event.tracestate.as_deref(), Some(""));
        assert_eq!(event.extensions.get("partitionkey"), Some(&json!("abc")));
        assert_eq!(serde_json::to_value(&event).expect("serializable"), json);
    }

    #[test]
    fn minimal_cloud_event_skips_absent_optional_fields() {
        let json = json!({ "id": "1", "specversion": "1.0", "source": "Dapr", "type": "t" });
        let event: CloudEvent = serde_json::from_value(json.clone()).expect("valid");
        assert_eq!(event.data, None);
        assert!(event.extensions.is_empty());
        assert_eq!(serde_json::to_value(&event).expect("serializable"), json);
    }

    #[test]
    fn subscription_serializes_with_dapr_spellings() {
        let subscription = Subscription::new("pubsub-kafka", "tasks-lifecycle", "/events/tasks")
            .with_dead_letter_topic("tasks-lifecycle-dlq");
        assert_eq!(
            serde_json::to_value(&subscription).expect("serializable"),
            json!({
                "pubsubname": "pubsub-kafka",
                "topic": "tasks-lifecycle",
                "route": "/events/tasks",
                "deadLetterTopic": "tasks-lifecycle-dlq"
            })
        );
    }

    #[test]
    fn subscription_with_rules_parses_and_prefers_routes_default() {
        let subscription: Subscription = serde_json::from_value(json!({
            "pubsubname": "pubsub-kafka",
            "topic": "t",
            "route": "/fallback",
            "routes": {
                "rules": [{ "match": "event.type == \"tasks.created\"", "path": "/created" }],
                "default": "/default"
            },
            "metadata": { "rawPayload": "false" },
            "bulkSubscribe": { "enabled": false }
        }))
        .expect("valid");
        assert_eq!(subscription.default_route(), Some("/default"));
        assert_eq!(subscription.routes.as_ref().map(|r| r.rules[0].path.as_str()), Some("/created"));
        assert_eq!(subscription.metadata.get("rawPayload").map(String::as_str), Some("false"));
    }

    #[test]
    fn subscription_metadata_must_hold_strings() {
        let result = serde_json::from_value::<Subscription>(json!({
            "pubsubname": "p", "topic": "t", "route": "/r", "metadata": { "rawPayload": true }
        }));
        assert!(result.is_err());
    }

    #[test]
    fn route_is_used_when_routes_default_is_empty() {
        let mut subscription = Subscription::new("p", "t", "/route");
        subscription.routes = Some(Routes { rules: vec![], default: Some(String::new()) });
        assert_eq!(subscription.default_route(), Some("/route"));
    }

    #[test]
    fn delivery_status_is_uppercase_and_case_sensitive() {
        assert_eq!(
            serde_json::to_value(DeliveryResponse::DROP).expect("serializable"),
            json!({ "status": "DROP" })
        );
        assert!(serde_json::from_value::<DeliveryStatus>(json!("success")).is_err());
        assert_eq!(DeliveryStatus::Retry.as_str(), "RETRY");
    }

    #[test]
    fn error_body_round_trips() {
        let body: DaprErrorBody = serde_json::from_value(json!({
            "errorCode": "ERR_PUBSUB_NOT_FOUND", "message": "pubsub x is not found"
        }))
        .expect("valid");
        assert_eq!(body.error_code, error_code::PUBSUB_NOT_FOUND);
        assert_eq!(
            serde_json::to_value(&body).expect("serializable"),
            json!({ "errorCode": "ERR_PUBSUB_NOT_FOUND", "message": "pubsub x is not found" })
        );
    }
}
