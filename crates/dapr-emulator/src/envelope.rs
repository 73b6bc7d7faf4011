//! What the sidecar hands to the broker for one publish call, by content type (§1.3).
//!
//! The envelope is a map of raw JSON values rather than a `serde_json::Value`: the publisher's
//! `data` (and a custom CloudEvent's every field) is kept byte for byte, so numbers keep their full
//! precision the way Dapr's `UseNumber` decoding does.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use events::dapr::{CLOUDEVENTS_CONTENT_TYPE, DEFAULT_CLOUDEVENT_TYPE};
use serde::Serialize;
use serde_json::value::{RawValue, to_raw_value};

use crate::ttl;

/// One publish call, as the HTTP handler extracted it.
pub(crate) struct PublishRequest<'a> {
    pub pubsub: &'a str,
    pub topic: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// `metadata.*` query parameters, prefix removed.
    pub metadata: &'a BTreeMap<String, String>,
    /// The incoming W3C trace headers. The real sidecar writes its own span, a child of these;
    /// the emulator has no spans and passes them through, which keeps the trace id the same.
    pub traceparent: Option<&'a str>,
    pub tracestate: Option<&'a str>,
    /// The publisher's app-id, the default `source`.
    pub app_id: &'a str,
    pub now: DateTime<Utc>,
}

/// The message as stored in the broker.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub body: Vec<u8>,
    /// True for `rawPayload=true`: the body is the app's bytes, not a CloudEvent.
    pub raw_payload: bool,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum EnvelopeError {
    /// 400 `ERR_PUBSUB_REQUEST_METADATA`.
    #[error("rawPayload value must be a valid boolean: actual is '{0}'")]
    RawPayload(String),
    /// 500 `ERR_PUBSUB_CLOUD_EVENTS_SER`.
    #[error("error when unmarshalling the cloud event: {0}")]
    CloudEvent(String),
}

type Fields = BTreeMap<String, Box<RawValue>>;

pub(crate) fn build(request: &PublishRequest<'_>) -> Result<Envelope, EnvelopeError> {
    if raw_payload(request.metadata)? {
        // No CloudEvent and therefore no expiration either: TTL only applies to envelopes.
        return Ok(Envelope { body: request.body.to_vec(), raw_payload: true });
    }

    let content_type = request.content_type.unwrap_or_default();
    let mut fields = if is_media_type(content_type, CLOUDEVENTS_CONTENT_TYPE) {
        from_app_cloud_event(request)?
    } else {
        new_cloud_event(request, content_type)?
    };

    if let Some(ttl) = ttl::from_metadata(request.metadata) {
        let expiration =
            chrono::Duration::from_std(ttl).ok().and_then(|ttl| request.now.checked_add_signed(ttl));
        if let Some(expiration) = expiration {
            put(&mut fields, "expiration", rfc3339_seconds(expiration))?;
        }
    }

    let body = serde_json::to_vec(&fields).map_err(|e| EnvelopeError::CloudEvent(e.to_string()))?;
    Ok(Envelope { body, raw_payload: false })
}

/// Case A: Dapr wraps the body in an envelope of its own.
fn new_cloud_event(request: &PublishRequest<'_>, content_type: &str) -> Result<Fields, EnvelopeError> {
    let metadata =
        |key: &str| request.metadata.get(key).map(String::as_str).filter(|value| !value.is_empty());
    let id = metadata("cloudevent.id").map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let trace = metadata("cloudevent.traceparent")
        .or_else(|| metadata("cloudevent.traceid"))
        .or(request.traceparent)
        .unwrap_or_default();
    let tracestate = metadata("cloudevent.tracestate").or(request.tracestate).unwrap_or_default();
    let datacontenttype = if content_type.is_empty() { "text/plain" } else { content_type };

    let mut fields = Fields::new();
    put(&mut fields, "id", id)?;
    put(&mut fields, "specversion", "1.0")?;
    put(&mut fields, "datacontenttype", datacontenttype)?;
    put(&mut fields, "source", metadata("cloudevent.source").unwrap_or(request.app_id))?;
    put(&mut fields, "type", metadata("cloudevent.type").unwrap_or(DEFAULT_CLOUDEVENT_TYPE))?;
    put(&mut fields, "topic", request.topic)?;
    put(&mut fields, "pubsubname", request.pubsub)?;
    put(&mut fields, "traceid", trace)?;
    put(&mut fields, "traceparent", trace)?;
    put(&mut fields, "tracestate", tracestate)?;
    put(&mut fields, "time", rfc3339_seconds(request.now))?;
    if let Some(subject) = metadata("cloudevent.subject") {
        put(&mut fields, "subject", subject)?;
    }

    let text = || String::from_utf8_lossy(request.body).into_owned();
    if is_media_type(content_type, "application/json") {
        // JSON that does not parse is kept as a string rather than rejected, as Dapr does.
        match serde_json::from_slice::<Box<RawValue>>(request.body) {
            Ok(data) => {
                fields.insert("data".into(), data);
            }
            Err(_) => put(&mut fields, "data", text())?,
        }
    } else if is_media_type(content_type, "application/octet-stream") {
        let encoded = base64::engine::general_purpose::STANDARD.encode(request.body);
        put(&mut fields, "data_base64", encoded)?;
    } else {
        // Includes a missing Content-Type: JSON published without the header arrives as a string.
        put(&mut fields, "data", text())?;
    }
    Ok(fields)
}

/// Case B: the app sent its own CloudEvent. Kept as is, with defaults for missing attributes;
/// a missing `id` is not generated and not an error (§1.3 B).
fn from_app_cloud_event(request: &PublishRequest<'_>) -> Result<Fields, EnvelopeError> {
    let mut fields: Fields =
        serde_json::from_slice(request.body).map_err(|e| EnvelopeError::CloudEvent(e.to_string()))?;

    let defaults = [
        ("time", rfc3339_seconds(request.now)),
        ("source", "Dapr".to_owned()),
        ("type", DEFAULT_CLOUDEVENT_TYPE.to_owned()),
        ("specversion", "1.0".to_owned()),
    ];
    for (key, value) in defaults {
        if !fields.contains_key(key) {
            put(&mut fields, key, value)?;
        }
    }
    // Without its own `traceid`, the app's `traceparent` is overwritten too (§1.3 B, §9.1).
    if !fields.contains_key("traceid") {
        let trace = request.traceparent.unwrap_or_default();
        put(&mut fields, "traceid", trace)?;
        put(&mut fields, "traceparent", trace)?;
    }
    if !fields.contains_key("tracestate") {
        put(&mut fields, "tracestate", request.tracestate.unwrap_or_default())?;
    }
    put(&mut fields, "topic", request.topic)?;
    put(&mut fields, "pubsubname", request.pubsub)?;
    Ok(fields)
}

/// `metadata.rawPayload`, parsed like Go's `strconv.ParseBool`; empty means false.
pub(crate) fn raw_payload(metadata: &BTreeMap<String, String>) -> Result<bool, EnvelopeError> {
    match metadata.get("rawPayload").map(String::as_str) {
        Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
        None | Some("" | "0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
        Some(other) => Err(EnvelopeError::RawPayload(other.to_owned())),
    }
}

/// Dapr's content-type test: case-insensitive, parameters after `;` ignored, nothing trimmed.
/// So `application/problem+json` is not JSON, and `application/json; charset=utf-8` is.
pub(crate) fn is_media_type(content_type: &str, expected: &str) -> bool {
    let media_type = content_type.split_once(';').map_or(content_type, |(media_type, _)| media_type);
    media_type.eq_ignore_ascii_case(expected)
}

fn rfc3339_seconds(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn put(fields: &mut Fields, key: &str, value: impl Serialize) -> Result<(), EnvelopeError> {
    let raw = to_raw_value(&value).map_err(|e| EnvelopeError::CloudEvent(e.to_string()))?;
    fields.insert(key.to_owned(), raw);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_856_400, 123_456_789).expect("in range")
    }

    fn publish(content_type: Option<&str>, body: &[u8], metadata: &[(&str, &str)]) -> Value {
        let metadata: BTreeMap<String, String> =
            metadata.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let envelope = build(&PublishRequest {
            pubsub: "pubsub-kafka",
            topic: "tasks-lifecycle",
            content_type,
            body,
            metadata: &metadata,
            traceparent: Some(TRACEPARENT),
            tracestate: None,
            app_id: "backend",
            now: now(),
        })
        .expect("publishable");
        assert!(!envelope.raw_payload);
        serde_json::from_slice(&envelope.body).expect("the envelope is JSON")
    }

    #[test]
    fn json_body_becomes_data_with_dapr_defaults() {
        let event = publish(Some("application/json"), br#"{"a":1}"#, &[]);
        let id = event["id"].as_str().expect("an id");
        assert_eq!(uuid::Uuid::parse_str(id).map(|u| u.get_version_num()), Ok(4));
        assert_eq!(
            event,
            json!({
                "id": id,
                "specversion": "1.0",
                "datacontenttype": "application/json",
                "source": "backend",
                "type": "com.dapr.event.sent",
                "topic": "tasks-lifecycle",
                "pubsubname": "pubsub-kafka",
                "traceid": TRACEPARENT,
                "traceparent": TRACEPARENT,
                "tracestate": "",
                "time": "2026-11-28T09:00:00Z",
                "data": { "a": 1 }
            })
        );
    }

    #[test]
    fn data_keeps_the_publishers_exact_number_text() {
        let metadata = BTreeMap::new();
        let body = br#"{"big":123456789012345678901234567890,"f":1.10}"#;
        let envelope = build(&PublishRequest {
            pubsub: "p",
            topic: "t",
            content_type: Some("application/json"),
            body,
            metadata: &metadata,
            traceparent: None,
            tracestate: None,
            app_id: "a",
            now: now(),
        })
        .expect("publishable");
        let text = String::from_utf8(envelope.body).expect("utf-8");
        assert!(text.contains(r#""data":{"big":123456789012345678901234567890,"f":1.10}"#), "{text}");
    }

    #[test]
    fn metadata_overrides_the_generated_attributes() {
        let event = publish(
            Some("application/json"),
            b"{}",
            &[
                ("cloudevent.id", "event-1"),
                ("cloudevent.type", "tasks.created"),
                ("cloudevent.source", "elsewhere"),
                ("cloudevent.subject", "task/1"),
                ("cloudevent.traceid", "traceid-value"),
            ],
        );
        assert_eq!(event["id"], "event-1");
        assert_eq!(event["type"], "tasks.created");
        assert_eq!(event["source"], "elsewhere");
        assert_eq!(event["subject"], "task/1");
        assert_eq!(event["traceid"], "traceid-value");
        assert_eq!(event["traceparent"], "traceid-value");
    }

    #[test]
    fn cloudevent_traceparent_wins_over_traceid() {
        let event = publish(None, b"x", &[("cloudevent.traceid", "a"), ("cloudevent.traceparent", "b")]);
        assert_eq!(event["traceid"], "b");
        assert_eq!(event["traceparent"], "b");
    }

    #[test]
    fn missing_content_type_makes_json_a_string() {
        let event = publish(None, br#"{"a":1}"#, &[]);
        assert_eq!(event["datacontenttype"], "text/plain");
        assert_eq!(event["data"], r#"{"a":1}"#);
    }

    #[test]
    fn content_type_is_recorded_verbatim_and_parameters_still_mean_json() {
        let event = publish(Some("Application/JSON; charset=utf-8"), b"[1,2]", &[]);
        assert_eq!(event["datacontenttype"], "Application/JSON; charset=utf-8");
        assert_eq!(event["data"], json!([1, 2]));
    }

    #[test]
    fn problem_json_and_invalid_json_are_strings() {
        assert_eq!(publish(Some("application/problem+json"), br#"{"a":1}"#, &[])["data"], r#"{"a":1}"#);
        assert_eq!(publish(Some("application/json"), b"{not json", &[])["data"], "{not json");
    }

    #[test]
    fn octet_stream_goes_to_data_base64() {
        let event = publish(Some("application/octet-stream"), &[0, 159, 146, 150], &[]);
        assert_eq!(event["data_base64"], "AJ+Slg==");
        assert!(event.get("data").is_none());
    }

    #[test]
    fn ttl_adds_an_expiration() {
        let event = publish(Some("application/json"), b"{}", &[("ttlInSeconds", "60")]);
        assert_eq!(event["expiration"], "2026-11-28T09:01:00Z");
    }

    #[test]
    fn custom_cloud_event_keeps_its_attributes_and_gets_defaults() {
        let body = serde_json::to_vec(&json!({
            "id": "app-id-1",
            "type": "tasks.created",
            "traceparent": "app-trace",
            "topic": "spoofed",
            "myextension": { "k": 1 },
            "data": { "a": 1 }
        }))
        .expect("serializable");
        let event = publish(
            Some(CLOUDEVENTS_CONTENT_TYPE),
            &body,
            &[("cloudevent.id", "ignored"), ("cloudevent.type", "ignored")],
        );
        assert_eq!(
            event,
            json!({
                "id": "app-id-1",
                "type": "tasks.created",
                "source": "Dapr",
                "specversion": "1.0",
                "time": "2026-11-28T09:00:00Z",
                "traceid": TRACEPARENT,
                "traceparent": TRACEPARENT,
                "tracestate": "",
                "topic": "tasks-lifecycle",
                "pubsubname": "pubsub-kafka",
                "myextension": { "k": 1 },
                "data": { "a": 1 }
            })
        );
    }

    #[test]
    fn custom_cloud_event_with_traceid_keeps_its_trace_and_needs_no_id() {
        let body = br#"{"traceid":"t1","traceparent":"t2","tracestate":"s","source":"me"}"#;
        let event = publish(Some("application/cloudevents+json; charset=utf-8"), body, &[]);
        assert_eq!(event["traceid"], "t1");
        assert_eq!(event["traceparent"], "t2");
        assert_eq!(event["tracestate"], "s");
        assert_eq!(event["source"], "me");
        assert!(event.get("id").is_none());
    }

    #[test]
    fn invalid_custom_cloud_event_is_a_serialization_error() {
        let metadata = BTreeMap::new();
        for body in [&b"{oops"[..], b"[1]", b""] {
            let result = build(&PublishRequest {
                pubsub: "p",
                topic: "t",
                content_type: Some(CLOUDEVENTS_CONTENT_TYPE),
                body,
                metadata: &metadata,
                traceparent: None,
                tracestate: None,
                app_id: "a",
                now: now(),
            });
            assert!(matches!(result, Err(EnvelopeError::CloudEvent(_))));
        }
    }

    #[test]
    fn raw_payload_keeps_bytes_and_rejects_non_booleans() {
        fn request(metadata: &BTreeMap<String, String>) -> PublishRequest<'_> {
            PublishRequest {
                pubsub: "p",
                topic: "t",
                content_type: Some("application/json"),
                body: b"\x00raw",
                metadata,
                traceparent: None,
                tracestate: None,
                app_id: "a",
                now: now(),
            }
        }
        let mut metadata = BTreeMap::from([
            ("rawPayload".to_owned(), "True".to_owned()),
            ("ttlInSeconds".to_owned(), "5".to_owned()),
        ]);
        let envelope = build(&request(&metadata)).expect("raw publish");
        assert!(envelope.raw_payload);
        assert_eq!(envelope.body, b"\x00raw");

        metadata.insert("rawPayload".into(), "yes".into());
        assert!(matches!(
            build(&request(&metadata)),
            Err(EnvelopeError::RawPayload(value)) if value == "yes"
        ));
    }

    #[test]
    fn media_type_test_matches_dapr() {
        assert!(is_media_type("application/json", "application/json"));
        assert!(is_media_type("APPLICATION/JSON;charset=utf-8", "application/json"));
        assert!(!is_media_type("application/json ; x", "application/json"));
        assert!(!is_media_type("application/problem+json", "application/json"));
        assert!(!is_media_type("", "application/json"));
    }
}
