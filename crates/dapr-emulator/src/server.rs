//! The sidecar's HTTP API: publish (§1.1–§1.4), health (§1.6) and the API token check (§5).

use std::{collections::BTreeMap, sync::Arc};

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
use chrono::Utc;
use events::dapr::{API_TOKEN_HEADER, DaprErrorBody, error_code};
use serde_json::{Value, json};

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

    if shared.is_broker_down() {
        let error = "broker unavailable (injected fault)";
        let message = format!("error when publishing to topic {topic} in pubsub {pubsub}: {error}");
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_code::PUBSUB_PUBLISH_MESSAGE,
            message,
        )
        .with_resource(&pubsub)
        .with_reason("DAPR_PUBSUB_PUBLISH_MESSAGE", &json!({ "error": error, "topic": topic })));
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
