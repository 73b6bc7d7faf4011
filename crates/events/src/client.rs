//! Publishing through the Dapr sidecar's HTTP API (§1, §11.2).
//!
//! One POST per message to `/v1.0/publish/{pubsub}/{topic}`, or many messages in one POST to the
//! bulk endpoint (§1.5); no Dapr SDK, because the contract is small and an SDK would hide exactly
//! the details that matter here (the content type, the metadata spelling, which failures are
//! worth a retry).

use std::{
    collections::{BTreeMap, HashSet},
    fmt,
    time::Duration,
};

use reqwest::{
    StatusCode, Url,
    header::{CONTENT_TYPE, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;

use crate::dapr::{API_TOKEN_HEADER, BulkFailedEntry, BulkPublishFailure, DaprErrorBody};

/// Longest sidecar error message kept in a [`PublishError`], so a misbehaving proxy answering
/// with an HTML page does not flood the logs.
const MAX_ERROR_MESSAGE: usize = 512;

/// A client for the sidecar's publish and health endpoints. Cheap to clone.
#[derive(Clone)]
pub struct DaprClient {
    http: reqwest::Client,
    base_url: Url,
    /// Kept only as a header value marked sensitive, so neither `Debug` nor reqwest's own logging
    /// can print it.
    api_token: Option<HeaderValue>,
}

/// One message to publish. Borrowed throughout: the relay already holds all of it in the
/// outbox row, and publishing must not force copies.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingMessage<'a> {
    /// Becomes the CloudEvent id (`metadata.cloudevent.id`). Without it Dapr invents a new id on
    /// every attempt, and a retried publish could not be recognised as a duplicate (§10.3).
    pub id: &'a str,
    /// Becomes the CloudEvent `type` (`metadata.cloudevent.type`), e.g. `tasks.created`.
    pub event_type: &'a str,
    /// The Kafka message key (`metadata.partitionKey`, case-sensitive): events with the same key
    /// land on one partition and are delivered in order (§10.1).
    pub partition_key: &'a str,
    /// Sent as `metadata.correlationId`; subscribers see it as the `correlationid` header (§9.3).
    pub correlation_id: Option<&'a str>,
    /// Forwarded as the W3C `traceparent` header, so the sidecar's span joins the caller's trace.
    pub traceparent: Option<&'a str>,
    /// The CloudEvent `data`, sent as the `application/json` body.
    pub data: &'a Value,
}

impl DaprClient {
    /// `base_url` is the sidecar's HTTP API, e.g. `http://127.0.0.1:3500`. `timeout` bounds each
    /// whole request: without one, a hung sidecar would stall the relay forever.
    pub fn new(
        base_url: &str,
        api_token: Option<SecretString>,
        timeout: Duration,
    ) -> Result<Self, ClientConfigError> {
        let base_url = Url::parse(base_url).map_err(|e| ClientConfigError::InvalidBaseUrl {
            url: base_url.to_owned(),
            reason: e.to_string(),
        })?;
        if base_url.cannot_be_a_base() || !matches!(base_url.scheme(), "http" | "https") {
            return Err(ClientConfigError::InvalidBaseUrl {
                url: base_url.to_string(),
                reason: "expected an http(s) URL".into(),
            });
        }
        let api_token = api_token
            .map(|token| {
                let mut value = HeaderValue::from_str(token.expose_secret())
                    .map_err(|_| ClientConfigError::InvalidApiToken)?;
                value.set_sensitive(true);
                Ok(value)
            })
            .transpose()?;
        let http = reqwest::Client::builder().timeout(timeout).build().map_err(ClientConfigError::Http)?;
        Ok(Self { http, base_url, api_token })
    }

    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Publishes `msg` to `topic`. `Ok` means the broker accepted it (Dapr answers 204 only after
    /// Kafka acknowledged the write).
    pub async fn publish(
        &self,
        pubsub: &str,
        topic: &str,
        msg: &OutgoingMessage<'_>,
    ) -> Result<(), PublishError> {
        let url = self.publish_url(pubsub, topic, msg)?;
        let body = serde_json::to_vec(msg.data)
            .map_err(|e| PublishError::InvalidRequest(format!("data is not serializable: {e}")))?;

        // The content type is not cosmetic: without it Dapr assumes text/plain and the consumer
        // receives the JSON as one string (§1.3).
        let mut request =
            self.http.post(url).header(CONTENT_TYPE, HeaderValue::from_static("application/json")).body(body);
        if let Some(token) = &self.api_token {
            request = request.header(API_TOKEN_HEADER, token.clone());
        }
        if let Some(traceparent) = msg.traceparent {
            // An invalid traceparent must not block publishing; the event just loses its trace.
            if let Ok(value) = HeaderValue::from_str(traceparent) {
                request = request.header("traceparent", value);
            }
        }

        let response = request.send().await.map_err(PublishError::from_send)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // The body is diagnostic only; if it cannot be read, the status still tells the story.
        let text = response.text().await.unwrap_or_default();
        Err(PublishError::rejected(status, &text))
    }

    /// Publishes `messages` to `topic` in one call to the bulk endpoint (§1.5); each message's
    /// id is its entry id. `Ok` means the broker accepted every one of them.
    ///
    /// The path is `/v1.0-alpha1/publish/bulk/…`, the only one daprd serves before 1.17 and still
    /// served after. Each entry carries the metadata [`Self::publish`] puts in the query, so the
    /// CloudEvent gets our id and type and Kafka our key: daprd builds every entry's CloudEvent
    /// from that entry's own metadata (`onBulkPublish` → `NewCloudEvent(…, entry.Metadata)`).
    /// The trace context goes in `cloudevent.traceparent` too, because the request's
    /// `traceparent` header could name only one parent for all the entries.
    ///
    /// daprd gives no order guarantee between the entries of one call: Kafka writes them in order
    /// only while none fails, and a component without native bulk publish sends them all at
    /// once. A caller that needs order per key sends at most one entry per key per call.
    pub async fn publish_bulk(
        &self,
        pubsub: &str,
        topic: &str,
        messages: &[OutgoingMessage<'_>],
    ) -> Result<(), BulkPublishError> {
        if messages.is_empty() {
            return Ok(());
        }
        let url = self.endpoint(&["v1.0-alpha1", "publish", "bulk", pubsub], topic)?;
        let body = bulk_body(messages)?;

        let mut request =
            self.http.post(url).header(CONTENT_TYPE, HeaderValue::from_static("application/json")).body(body);
        if let Some(token) = &self.api_token {
            request = request.header(API_TOKEN_HEADER, token.clone());
        }
        let response = request.send().await.map_err(PublishError::from_send)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(BulkPublishError::from_answer(status, &text))
    }

    /// True when the sidecar can serve publish calls (`GET /v1.0/healthz/outbound`).
    ///
    /// This endpoint, unlike `/v1.0/healthz`, does not wait for the app to be reachable, so
    /// polling it at startup cannot deadlock the app and its sidecar (§1.6).
    pub async fn outbound_healthy(&self) -> bool {
        let mut url = self.base_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["v1.0", "healthz", "outbound"]);
        }
        match self.http.get(url).send().await {
            Ok(response) => response.status().is_success(),
            Err(_) => false,
        }
    }

    /// `{base}/v1.0/publish/{pubsub}/{topic}?metadata.…`, every part percent-encoded.
    fn publish_url(&self, pubsub: &str, topic: &str, msg: &OutgoingMessage<'_>) -> Result<Url, PublishError> {
        let mut url = self.endpoint(&["v1.0", "publish", pubsub], topic)?;
        url.query_pairs_mut()
            .extend_pairs(metadata(msg).into_iter().map(|(key, value)| (format!("metadata.{key}"), value)));
        Ok(url)
    }

    /// `{base}/{prefix…}/{topic}`, every part percent-encoded; `prefix` ends with the pub/sub name.
    fn endpoint(&self, prefix: &[&str], topic: &str) -> Result<Url, PublishError> {
        if prefix.last().is_none_or(|pubsub| pubsub.is_empty()) || topic.is_empty() {
            return Err(PublishError::InvalidRequest("pubsub name and topic must not be empty".into()));
        }
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| PublishError::InvalidRequest("base URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(prefix)
            // Dapr's routes end in `{pubsubname}/*`: a `/` in a topic name stays a separator.
            .extend(topic.split('/'));
        Ok(url)
    }
}

/// The message's Dapr metadata (§1.2): the query of a single publish, an entry's `metadata` in
/// a bulk one.
fn metadata<'a>(msg: &OutgoingMessage<'a>) -> Vec<(&'static str, &'a str)> {
    let mut pairs = vec![
        ("cloudevent.id", msg.id),
        ("cloudevent.type", msg.event_type),
        ("partitionKey", msg.partition_key),
    ];
    if let Some(correlation_id) = msg.correlation_id {
        pairs.push(("correlationId", correlation_id));
    }
    pairs
}

/// One entry of a bulk publish body (§1.5).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BulkEntry<'a> {
    entry_id: &'a str,
    event: &'a Value,
    /// As for a single publish: without it the data would not be JSON in the CloudEvent.
    content_type: &'static str,
    metadata: BTreeMap<&'static str, &'a str>,
}

impl<'a> BulkEntry<'a> {
    fn of(msg: &OutgoingMessage<'a>) -> Self {
        let mut metadata: BTreeMap<_, _> = metadata(msg).into_iter().collect();
        // Unlike the header of a single publish, this value is copied into the CloudEvent
        // verbatim, so only a well-formed one is passed on; otherwise the event loses its trace.
        if let Some(traceparent) = msg.traceparent.filter(|t| is_traceparent(t)) {
            metadata.insert("cloudevent.traceparent", traceparent);
        }
        Self { entry_id: msg.id, event: msg.data, content_type: "application/json", metadata }
    }
}

/// The JSON array of entries. A repeated id is refused here: daprd would refuse the whole call
/// with a 400 that does not say which id.
fn bulk_body(messages: &[OutgoingMessage<'_>]) -> Result<Vec<u8>, PublishError> {
    let mut ids = HashSet::with_capacity(messages.len());
    if let Some(duplicate) = messages.iter().find(|msg| !ids.insert(msg.id)) {
        return Err(PublishError::InvalidRequest(format!("duplicate message id {}", duplicate.id)));
    }
    let entries: Vec<BulkEntry<'_>> = messages.iter().map(BulkEntry::of).collect();
    serde_json::to_vec(&entries)
        .map_err(|e| PublishError::InvalidRequest(format!("data is not serializable: {e}")))
}

/// A W3C `traceparent`: `version-traceid-parentid-flags`, lowercase hex of 2, 32, 16 and 2 digits.
fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 4
        && parts.iter().zip([2, 32, 16, 2]).all(|(part, len)| {
            part.len() == len && part.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

impl fmt::Debug for DaprClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DaprClient")
            .field("base_url", &self.base_url.as_str())
            .field("api_token", &self.api_token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// Why a [`DaprClient`] could not be built. Never contains the token.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    #[error("invalid Dapr sidecar URL `{url}`: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    #[error("the Dapr API token contains characters not allowed in an HTTP header")]
    InvalidApiToken,
    #[error("could not build the HTTP client")]
    Http(#[source] reqwest::Error),
}

/// Why a publish failed. [`Self::is_retryable`] tells the relay whether to try again later.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No answer: connection refused (sidecar down or not started yet), reset, or timed out.
    #[error("could not reach the Dapr sidecar")]
    Transport(#[source] reqwest::Error),
    /// The sidecar answered with an error status.
    #[error(
        "the Dapr sidecar answered {status} ({}): {message}",
        .error_code.as_deref().unwrap_or("no error code")
    )]
    Rejected {
        status: StatusCode,
        /// `errorCode` from the JSON body; absent for the plain-text 401.
        error_code: Option<String>,
        message: String,
    },
    /// The request could not be built; a bug or bad input, not a sidecar problem.
    #[error("invalid publish request: {0}")]
    InvalidRequest(String),
}

/// Why a bulk publish failed, and whether the sidecar published some of the entries anyway.
#[derive(Debug, thiserror::Error)]
pub enum BulkPublishError {
    /// Nothing was published: no answer, or the call was refused as a whole.
    #[error(transparent)]
    Request(#[from] PublishError),
    /// The broker refused these entries; the others were published.
    #[error("{} entries of a bulk publish failed: {error}", failed.len())]
    Partial { failed: Vec<BulkFailedEntry>, error: PublishError },
}

impl BulkPublishError {
    /// True when the message with this id may not have been published.
    pub fn has_failed(&self, id: &str) -> bool {
        match self {
            Self::Request(_) => true,
            Self::Partial { failed, .. } => failed.iter().any(|entry| entry.entry_id == id),
        }
    }

    /// The failure as a single publish would have reported it.
    pub fn error(&self) -> &PublishError {
        match self {
            Self::Request(error) | Self::Partial { error, .. } => error,
        }
    }

    pub fn into_error(self) -> PublishError {
        match self {
            Self::Request(error) | Self::Partial { error, .. } => error,
        }
    }

    /// A 500 that lists failed entries is a partial failure (§1.5); anything else failed whole.
    fn from_answer(status: StatusCode, body: &str) -> Self {
        match serde_json::from_str::<BulkPublishFailure>(body) {
            Ok(answer) if !answer.failed_entries.is_empty() => {
                let reason =
                    answer.failed_entries.iter().map(|entry| entry.error.as_str()).find(|e| !e.is_empty());
                let error = PublishError::Rejected {
                    status,
                    error_code: Some(answer.error_code).filter(|code| !code.is_empty()),
                    message: truncate(reason.unwrap_or_default().to_owned(), MAX_ERROR_MESSAGE),
                };
                Self::Partial { failed: answer.failed_entries, error }
            }
            _ => Self::Request(PublishError::rejected(status, body)),
        }
    }
}

impl PublishError {
    fn from_send(error: reqwest::Error) -> Self {
        if error.is_builder() { Self::InvalidRequest(error.to_string()) } else { Self::Transport(error) }
    }

    /// True for failures that may go away by themselves: no connection, a timeout, a 5xx (the
    /// broker is down, §1.4), 408 or 429. 400/401/403/404 are configuration errors (unknown
    /// component, wrong token, topic not allowed) that retrying cannot fix.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Rejected { status, .. } => {
                status.is_server_error()
                    || *status == StatusCode::REQUEST_TIMEOUT
                    || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Self::InvalidRequest(_) => false,
        }
    }

    /// The HTTP status the sidecar answered, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The sidecar's `errorCode`, e.g. `ERR_PUBSUB_NOT_FOUND`.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Self::Rejected { error_code, .. } => error_code.as_deref(),
            _ => None,
        }
    }

    fn rejected(status: StatusCode, body: &str) -> Self {
        let (error_code, message) = match serde_json::from_str::<DaprErrorBody>(body) {
            Ok(parsed) if !parsed.error_code.is_empty() => (Some(parsed.error_code), parsed.message),
            _ => (None, body.trim().to_owned()),
        };
        Self::Rejected { status, error_code, message: truncate(message, MAX_ERROR_MESSAGE) }
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let cut = (0..=max).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client(base: &str) -> DaprClient {
        DaprClient::new(base, None, Duration::from_secs(1)).expect("valid base URL")
    }

    fn message(data: &Value) -> OutgoingMessage<'_> {
        OutgoingMessage {
            id: "0192f0c4-7a00-7000-8000-000000000001",
            event_type: "tasks.created",
            partition_key: "6f1c3a52-0000-4000-8000-00000000000a",
            correlation_id: Some("req 42&x=1"),
            traceparent: None,
            data,
        }
    }

    #[test]
    fn publish_url_carries_the_metadata_as_query_parameters() {
        let data = json!({});
        let url = client("http://127.0.0.1:3500")
            .publish_url("pubsub-kafka", "tasks-lifecycle", &message(&data))
            .expect("valid");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:3500/v1.0/publish/pubsub-kafka/tasks-lifecycle\
             ?metadata.cloudevent.id=0192f0c4-7a00-7000-8000-000000000001\
             &metadata.cloudevent.type=tasks.created\
             &metadata.partitionKey=6f1c3a52-0000-4000-8000-00000000000a\
             &metadata.correlationId=req+42%26x%3D1"
        );
    }

    #[test]
    fn query_values_decode_back_to_the_exact_metadata() {
        let data = json!({});
        let url = client("http://localhost:3500/")
            .publish_url("pubsub-kafka", "tasks-lifecycle", &message(&data))
            .expect("valid");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert!(pairs.contains(&("metadata.correlationId".into(), "req 42&x=1".into())));
        assert!(
            pairs.contains(&("metadata.partitionKey".into(), "6f1c3a52-0000-4000-8000-00000000000a".into()))
        );
    }

    #[test]
    fn correlation_id_is_omitted_when_absent() {
        let data = json!({});
        let msg = OutgoingMessage { correlation_id: None, ..message(&data) };
        let url = client("http://127.0.0.1:3500").publish_url("p", "t", &msg).expect("valid");
        assert!(!url.as_str().contains("correlationId"));
    }

    #[test]
    fn trailing_slash_and_base_path_are_respected() {
        let data = json!({});
        let url =
            client("http://sidecar:3500/prefix/").publish_url("p", "t", &message(&data)).expect("valid");
        assert!(url.as_str().starts_with("http://sidecar:3500/prefix/v1.0/publish/p/t?"));
    }

    #[test]
    fn topic_slashes_stay_separators_and_other_characters_are_encoded() {
        let data = json!({});
        let url = client("http://127.0.0.1:3500")
            .publish_url("my pubsub", "orders/eu west?", &message(&data))
            .expect("valid");
        assert_eq!(url.path(), "/v1.0/publish/my%20pubsub/orders/eu%20west%3F");
    }

    #[test]
    fn empty_pubsub_or_topic_is_rejected_before_sending() {
        let data = json!({});
        let client = client("http://127.0.0.1:3500");
        for (pubsub, topic) in [("", "t"), ("p", "")] {
            let err = client.publish_url(pubsub, topic, &message(&data)).expect_err("empty part");
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn base_url_must_be_http() {
        for bad in ["not a url", "mailto:dapr@example.com", "ftp://host"] {
            assert!(
                matches!(
                    DaprClient::new(bad, None, Duration::from_secs(1)),
                    Err(ClientConfigError::InvalidBaseUrl { .. })
                ),
                "accepted {bad}"
            );
        }
    }

    #[test]
    fn debug_and_errors_never_show_the_token() {
        let token = "s3cr3t-token-value";
        let client = DaprClient::new(
            "http://127.0.0.1:3500",
            Some(SecretString::from(token.to_owned())),
            Duration::from_secs(1),
        )
        .expect("valid");
        assert!(!format!("{client:?}").contains(token));
        assert!(format!("{client:?}").contains("[redacted]"));

        let bad_token = "line\nbreak-secret";
        let err = DaprClient::new(
            "http://127.0.0.1:3500",
            Some(SecretString::from(bad_token.to_owned())),
            Duration::from_secs(1),
        )
        .expect_err("newline is not allowed in a header");
        assert!(!err.to_string().contains("break-secret"));
        assert!(!format!("{err:?}").contains("break-secret"));
    }

    #[test]
    fn sidecar_json_errors_keep_code_and_message() {
        let err = PublishError::rejected(
            StatusCode::NOT_FOUND,
            r#"{"errorCode":"ERR_PUBSUB_NOT_FOUND","message":"pubsub nope is not found"}"#,
        );
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(err.error_code(), Some("ERR_PUBSUB_NOT_FOUND"));
        assert!(!err.is_retryable());
        assert_eq!(
            err.to_string(),
            "the Dapr sidecar answered 404 Not Found (ERR_PUBSUB_NOT_FOUND): pubsub nope is not found"
        );
    }

    #[test]
    fn plain_text_errors_are_kept_as_the_message() {
        let err = PublishError::rejected(StatusCode::UNAUTHORIZED, "invalid api token\n");
        assert_eq!(err.error_code(), None);
        assert!(!err.is_retryable());
        assert!(err.to_string().ends_with("(no error code): invalid api token"));
    }

    #[test]
    fn server_errors_throttling_and_timeouts_are_retryable() {
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::REQUEST_TIMEOUT,
        ] {
            assert!(PublishError::rejected(status, "").is_retryable(), "{status}");
        }
        for status in
            [StatusCode::BAD_REQUEST, StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND]
        {
            assert!(!PublishError::rejected(status, "").is_retryable(), "{status}");
        }
    }

    #[test]
    fn bulk_entries_carry_each_message_metadata_and_trace() {
        let data = json!({ "title": "x" });
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let msg = OutgoingMessage { traceparent: Some(traceparent), ..message(&data) };
        let entry = serde_json::to_value(BulkEntry::of(&msg)).expect("serializable");
        assert_eq!(
            entry,
            json!({
                "entryId": "0192f0c4-7a00-7000-8000-000000000001",
                "event": { "title": "x" },
                "contentType": "application/json",
                "metadata": {
                    "cloudevent.id": "0192f0c4-7a00-7000-8000-000000000001",
                    "cloudevent.type": "tasks.created",
                    "cloudevent.traceparent": traceparent,
                    "partitionKey": "6f1c3a52-0000-4000-8000-00000000000a",
                    "correlationId": "req 42&x=1",
                },
            })
        );
    }

    #[test]
    fn a_malformed_traceparent_is_left_out_of_a_bulk_entry() {
        let data = json!({});
        for bad in ["", "00-abc-def-01", "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01"] {
            let msg = OutgoingMessage { traceparent: Some(bad), ..message(&data) };
            let entry = serde_json::to_value(BulkEntry::of(&msg)).expect("serializable");
            assert!(entry["metadata"].get("cloudevent.traceparent").is_none(), "{bad}");
        }
    }

    #[test]
    fn bulk_url_is_the_alpha_endpoint() {
        let url = client("http://127.0.0.1:3500/")
            .endpoint(&["v1.0-alpha1", "publish", "bulk", "pubsub-kafka"], "orders/eu")
            .expect("valid");
        assert_eq!(url.as_str(), "http://127.0.0.1:3500/v1.0-alpha1/publish/bulk/pubsub-kafka/orders/eu");
    }

    #[test]
    fn duplicate_ids_and_empty_names_are_refused_before_sending() {
        let data = json!({});
        let twice = [message(&data), message(&data)];
        assert!(matches!(bulk_body(&twice), Err(PublishError::InvalidRequest(_))));
        assert!(bulk_body(&twice[..1]).is_ok());
        let err = client("http://127.0.0.1:3500")
            .endpoint(&["v1.0-alpha1", "publish", "bulk", ""], "t")
            .expect_err("no pubsub name");
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_500_listing_entries_is_a_partial_failure() {
        let err = BulkPublishError::from_answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"failedEntries":[{"entryId":"b","error":"kafka: broker down"}],"errorCode":"ERR_PUBSUB_PUBLISH_MESSAGE"}"#,
        );
        assert!(err.has_failed("b"));
        assert!(!err.has_failed("a"));
        assert!(err.error().is_retryable());
        assert_eq!(err.error().error_code(), Some("ERR_PUBSUB_PUBLISH_MESSAGE"));
        assert!(err.to_string().contains("kafka: broker down"), "{err}");
    }

    #[test]
    fn other_bulk_errors_fail_every_entry() {
        let err = BulkPublishError::from_answer(
            StatusCode::NOT_FOUND,
            r#"{"errorCode":"ERR_PUBSUB_NOT_FOUND","message":"pubsub nope is not found"}"#,
        );
        assert!(matches!(err, BulkPublishError::Request(_)));
        assert!(err.has_failed("a"));
        assert!(!err.error().is_retryable());
        assert_eq!(err.error().error_code(), Some("ERR_PUBSUB_NOT_FOUND"));
    }

    #[test]
    fn long_error_bodies_are_truncated_on_a_char_boundary() {
        let body = "é".repeat(MAX_ERROR_MESSAGE);
        let PublishError::Rejected { message, .. } = PublishError::rejected(StatusCode::BAD_GATEWAY, &body)
        else {
            panic!("expected Rejected");
        };
        assert!(message.len() <= MAX_ERROR_MESSAGE + '…'.len_utf8());
        assert!(message.ends_with('…'));
    }
}
