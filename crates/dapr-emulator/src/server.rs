//! The sidecar's HTTP API: publish (§1.1–§1.4), health (§1.6) and the API token check (§5).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, Request, State},
    http::{
        HeaderMap, HeaderValue, Method, StatusCode,
        header::{CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS},
    },
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine as _;
use chrono::Utc;
use events::dapr::{
    API_TOKEN_HEADER, BulkFailedEntry, BulkPublishFailure, CLOUDEVENTS_CONTENT_TYPE, DaprErrorBody,
    error_code,
};
use serde::Deserialize;
use serde_json::{Value, json, value::RawValue};

use crate::{
    envelope::{self, EnvelopeError, PublishRequest},
    state::{PublishedMessage, Shared},
    trace,
};

/// The error code of daprd's service invocation fallback route.
const DIRECT_INVOKE: &str = "ERR_DIRECT_INVOKE";

/// daprd's default `--max-body-size` (4 MiB).
const MAX_BODY: usize = 4 << 20;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1.0/publish/{pubsubname}/{*topic}", post(publish).put(publish))
        // 1.16 serves bulk publish only under the alpha version; there `/v1.0/publish/bulk/…` is a
        // single publish to a pub/sub named `bulk`, and answers as one.
        .route("/v1.0-alpha1/publish/bulk/{pubsubname}/{*topic}", post(publish_bulk).put(publish_bulk))
        .route("/v1.0/publish/{pubsubname}", post(empty_topic).put(empty_topic))
        .route("/v1.0/publish/{pubsubname}/", post(empty_topic).put(empty_topic))
        .route("/v1.0/healthz", get(healthy))
        .route("/v1.0/healthz/outbound", get(healthy))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), require_api_token))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

/// Rejects calls without the configured `dapr-api-token`, except GETs of the health endpoints,
/// which Kubernetes probes call without it (§5). The answer is plain text, not the JSON error.
async fn require_api_token(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if let Some(expected) = &shared.config.api_token {
        let exempt = request.method() == Method::GET
            && matches!(request.uri().path(), "/v1.0/healthz" | "/v1.0/healthz/outbound");
        let given = request.headers().get(API_TOKEN_HEADER).map(HeaderValue::as_bytes);
        if !exempt && given != Some(expected.as_bytes()) {
            // Go's `http.Error`, byte for byte: its content type and header, and a newline.
            let headers = [(CONTENT_TYPE, "text/plain; charset=utf-8"), (X_CONTENT_TYPE_OPTIONS, "nosniff")];
            return (StatusCode::UNAUTHORIZED, headers, "invalid api token\n").into_response();
        }
    }
    next.run(request).await
}

async fn healthy() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `POST|PUT /v1.0/publish/{pubsubname}/{topic}`; checks run in daprd's order, so the same
/// broken request gets the same error.
async fn publish(
    State(shared): State<Arc<Shared>>,
    Path((pubsub, topic)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    known_pubsub(&shared, &pubsub)?;
    let metadata = metadata_from_query(query);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let span = trace::publish_span(header("traceparent"));
    let envelope = envelope::build(&PublishRequest {
        pubsub: &pubsub,
        topic: &topic,
        content_type: header(CONTENT_TYPE.as_str()),
        body: &body,
        metadata: &metadata,
        traceparent: Some(&span),
        tracestate: header("tracestate"),
        app_id: &shared.config.app_id,
        now: Utc::now(),
    })
    .map_err(|e| ApiError::envelope(&e, &pubsub, &shared.config.app_id))?;

    if shared.refuses(kafka_key(&metadata)) {
        let message = format!("error when publishing to topic {topic} in pubsub {pubsub}: {BROKER_REFUSED}");
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_code::PUBSUB_PUBLISH_MESSAGE,
            message,
        )
        .with_resource(&pubsub)
        .with_reason("DAPR_PUBSUB_PUBLISH_MESSAGE", &json!({ "error": BROKER_REFUSED, "topic": topic })));
    }

    let cloud_event = (!envelope.raw_payload).then(|| serde_json::from_slice(&envelope.body).ok()).flatten();
    let message = shared.append(PublishedMessage {
        pubsub,
        topic,
        offset: 0,
        body: Bytes::from(envelope.body),
        cloud_event,
        metadata,
        headers,
        raw_payload: envelope.raw_payload,
        dead_letter_of: None,
        published_at: Utc::now(),
    });
    tracing::debug!(
        topic = %message.topic,
        offset = message.offset,
        id = message.id().unwrap_or_default(),
        "published"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// What the broker says when fault injection makes it refuse a message.
const BROKER_REFUSED: &str = "broker unavailable (injected fault)";

/// The Kafka key a message gets from its metadata (§1.2).
fn kafka_key(metadata: &BTreeMap<String, String>) -> Option<&str> {
    metadata.get("partitionKey").or_else(|| metadata.get("__key")).map(String::as_str)
}

/// One entry of a bulk publish body, as daprd's `bulkPublishMessageEntry` reads it: every field
/// may be missing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkEntry {
    #[serde(default)]
    entry_id: String,
    #[serde(default)]
    event: Option<Box<RawValue>>,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
}

/// `POST|PUT /v1.0-alpha1/publish/bulk/{pubsubname}/{topic}` (§1.5), checks in daprd's order
/// (`onBulkPublish`): the pub/sub, `rawPayload`, the body, then each entry's event and id. Every
/// entry becomes a CloudEvent built from its own metadata, request metadata filling in keys the
/// entry lacks; an entry without any metadata gets none of the request's in its CloudEvent,
/// though Kafka still receives the request's as headers. Entries the broker refuses are answered
/// with 500 and their ids; the others are published, in the order given.
async fn publish_bulk(
    State(shared): State<Arc<Shared>>,
    Path((pubsub, topic)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    known_pubsub(&shared, &pubsub)?;
    let metadata = metadata_from_query(query);
    let raw = envelope::raw_payload(&metadata)
        .map_err(|e| ApiError::envelope(&e, &pubsub, &shared.config.app_id))?;
    let app_id = shared.config.app_id.as_str();
    let entries: Vec<BulkEntry> = serde_json::from_slice(&body).map_err(|e| {
        let message = format!("error when unmarshaling the request for topic {topic} pubsub {pubsub}: {e}");
        ApiError::new(StatusCode::BAD_REQUEST, error_code::PUBSUB_EVENTS_SER, message)
            .with_resource(&pubsub)
            .with_reason("DAPR_PUBSUB_UNMARSHAL_EVENTS", &json!({ "appID": app_id }))
    })?;

    let mut seen = BTreeSet::new();
    let mut events = Vec::with_capacity(entries.len());
    for entry in &entries {
        let event = event_bytes(entry.event.as_deref(), &entry.content_type).map_err(|error| {
            let message = format!(
                "error when marshalling cloud event envelope for topic {topic} pubsub {pubsub}: {error}"
            );
            ApiError::new(StatusCode::BAD_REQUEST, error_code::PUBSUB_EVENTS_SER, message)
                .with_resource(&pubsub)
                .with_reason("DAPR_PUBSUB_MARSHAL_ENVELOPE", &json!({ "appID": app_id, "error": error }))
        })?;
        if entry.entry_id.is_empty() || !seen.insert(entry.entry_id.as_str()) {
            let error = "entryId is duplicated or not present for entry";
            let message =
                format!("error marshaling events to bytes for topic {topic} pubsub {pubsub}. error: {error}");
            return Err(ApiError::new(StatusCode::BAD_REQUEST, error_code::PUBSUB_EVENTS_SER, message)
                .with_resource(&pubsub)
                .with_reason("DAPR_PUBSUB_MARSHAL_EVENTS", &json!({ "appID": app_id, "error": error })));
        }
        events.push(event);
    }

    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let request_span = trace::publish_span(header("traceparent"));
    let mut messages = Vec::with_capacity(entries.len());
    for (entry, event) in entries.iter().zip(events) {
        let cloud_event_metadata = entry.metadata.as_ref().map(|own| {
            let mut merged = metadata.clone();
            merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
            merged
        });
        let body = if raw {
            event
        } else {
            // Each entry gets its own producer span under the request's.
            let span = trace::child_of(&request_span).unwrap_or_else(|| request_span.clone());
            let no_metadata = BTreeMap::new();
            envelope::build(&PublishRequest {
                pubsub: &pubsub,
                topic: &topic,
                content_type: Some(&entry.content_type),
                body: &event,
                metadata: cloud_event_metadata.as_ref().unwrap_or(&no_metadata),
                traceparent: Some(&span),
                tracestate: header("tracestate"),
                app_id,
                now: Utc::now(),
            })
            .map_err(|e| ApiError::envelope(&e, &pubsub, app_id))?
            .body
        };
        // What Kafka gets as headers: the request's metadata over the entry's.
        let mut message_metadata = entry.metadata.clone().unwrap_or_default();
        message_metadata.extend(metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
        messages.push((entry.entry_id.as_str(), body, message_metadata));
    }

    let mut failed = Vec::new();
    for (entry_id, body, metadata) in messages {
        if shared.refuses(kafka_key(&metadata)) {
            failed.push(BulkFailedEntry { entry_id: entry_id.to_owned(), error: BROKER_REFUSED.to_owned() });
            continue;
        }
        let cloud_event = (!raw).then(|| serde_json::from_slice(&body).ok()).flatten();
        shared.append(PublishedMessage {
            pubsub: pubsub.clone(),
            topic: topic.clone(),
            offset: 0,
            body: Bytes::from(body),
            cloud_event,
            metadata,
            headers: headers.clone(),
            raw_payload: raw,
            dead_letter_of: None,
            published_at: Utc::now(),
        });
    }
    if failed.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let answer = BulkPublishFailure {
        failed_entries: failed,
        error_code: error_code::PUBSUB_PUBLISH_MESSAGE.to_owned(),
    };
    Ok((StatusCode::INTERNAL_SERVER_ERROR, Json(answer)).into_response())
}

/// An entry's `event` as the bytes the broker gets, by its content type (daprd's
/// `ConvertEventToBytes`): JSON kept as JSON, a string for text types, base64 decoded for binary;
/// any other content type, a missing one included, is a mismatch. Unlike daprd, which decodes
/// the event into Go values and loses digits of big numbers, the JSON text is kept as sent.
fn event_bytes(event: Option<&RawValue>, content_type: &str) -> Result<Vec<u8>, String> {
    const MISMATCH: &str = "error: mismatch between contentType and event";
    let text = event.map_or("null", RawValue::get);
    let as_string = || serde_json::from_str::<String>(text).map_err(|_| MISMATCH.to_owned());
    if envelope::is_media_type(content_type, "application/octet-stream") {
        base64::engine::general_purpose::STANDARD
            .decode(as_string()?)
            .map_err(|e| format!("error: unable to decode base64 application/octect-stream data: {e}"))
    } else if content_type.to_ascii_lowercase().starts_with("text/")
        || envelope::is_media_type(content_type, "application/xml")
    {
        Ok(as_string()?.into_bytes())
    } else if envelope::is_media_type(content_type, "application/json")
        || envelope::is_media_type(content_type, CLOUDEVENTS_CONTENT_TYPE)
    {
        Ok(text.as_bytes().to_vec())
    } else {
        Err(MISMATCH.to_owned())
    }
}

/// A publish path without a topic is not a publish route at all in daprd: it falls through to
/// service invocation, which finds no app id in it. The pub/sub name is not even looked at.
async fn empty_topic() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        DIRECT_INVOKE,
        "failed getting app id either from the URL path or the header dapr-app-id".into(),
    )
}

fn known_pubsub(shared: &Shared, pubsub: &str) -> Result<(), ApiError> {
    if shared.config.pubsubs.iter().any(|name| name == pubsub) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            error_code::PUBSUB_NOT_FOUND,
            format!("pubsub {pubsub} is not found"),
        )
        .with_reason("DAPR_PUBSUB_NOT_FOUND", &json!({})))
    }
}

/// `metadata.<key>` query parameters with the prefix removed; for a repeated key the first value
/// wins, as in daprd.
fn metadata_from_query(query: Vec<(String, String)>) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::new();
    for (name, value) in query {
        if let Some(key) = name.strip_prefix("metadata.") {
            metadata.entry(key.to_owned()).or_insert(value);
        }
    }
    metadata
}

/// A sidecar error answer: `{"errorCode","message","details"}` with its HTTP status. The
/// details are the gRPC rich-error entries daprd adds: which resource, and a reason code.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    body: DaprErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: String) -> Self {
        Self { status, body: DaprErrorBody::new(code, message) }
    }

    fn with_resource(mut self, pubsub: &str) -> Self {
        self.body.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.ResourceInfo",
            "description": self.body.message,
            "owner": "",
            "resource_name": pubsub,
            "resource_type": "pubsub",
        }));
        self
    }

    fn with_reason(mut self, reason: &str, metadata: &Value) -> Self {
        self.body.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "domain": "dapr.io",
            "metadata": metadata,
            "reason": reason,
        }));
        self
    }

    fn envelope(error: &EnvelopeError, pubsub: &str, app_id: &str) -> Self {
        match error {
            EnvelopeError::RawPayload(value) => {
                let message = format!("failed deserializing metadata. Error: {error}");
                Self::new(StatusCode::BAD_REQUEST, error_code::PUBSUB_REQUEST_METADATA, message)
                    .with_resource(pubsub)
                    .with_reason("DAPR_PUBSUB_METADATA_DESERIALIZATION", &json!({ "rawPayload": value }))
            }
            EnvelopeError::CloudEvent(cause) => {
                let message = "cannot create cloudevent".to_owned();
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, error_code::PUBSUB_CLOUD_EVENTS_SER, message)
                    .with_resource(pubsub)
                    .with_reason(
                        "DAPR_PUBSUB_CLOUD_EVENT_CREATION",
                        &json!({ "appID": app_id, "error": cause }),
                    )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_strips_the_prefix_and_keeps_the_first_value() {
        let metadata = metadata_from_query(vec![
            ("metadata.partitionKey".into(), "a".into()),
            ("other".into(), "ignored".into()),
            ("metadata.partitionKey".into(), "b".into()),
            ("Metadata.x".into(), "case-sensitive prefix".into()),
        ]);
        assert_eq!(metadata, BTreeMap::from([("partitionKey".to_owned(), "a".to_owned())]));
    }
}
