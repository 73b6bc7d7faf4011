//! The task lifecycle event: one envelope type with a payload per event type.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    EVENT_VERSION, EventType, Priority, TaskChanges, dapr::CloudEvent, timestamp, truncate_to_millis,
};

/// A task lifecycle event as it travels in the CloudEvent `data` field.
///
/// The JSON is flat and camelCase: the envelope fields, then `eventType`, then the payload's
/// fields, e.g. `{"version":1,"eventId":…,"eventType":"tasks.deleted","title":"…"}`.
/// `tests/fixtures/` holds one golden example per event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskEvent {
    /// Always [`EVENT_VERSION`]; decoding anything else fails.
    #[serde(deserialize_with = "deserialize_version")]
    pub version: u32,
    /// Unique per event and reused as the CloudEvent id, so consumers can de-duplicate
    /// redeliveries (§10.3).
    pub event_id: Uuid,
    pub task_id: Uuid,
    pub user_id: Uuid,
    /// The id of the request that caused the event, for following one action across services.
    pub correlation_id: String,
    /// When the change happened (not when it was published, which may be later).
    #[serde(serialize_with = "timestamp::serialize")]
    pub timestamp: DateTime<Utc>,
    /// The project the task is in once this change is made (for `tasks.deleted`: was in).
    /// Added after the first release, so it is optional on the wire: an event without it is
    /// still version 1, and a consumer that does not know it ignores it like any unknown field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Uuid>,
    #[serde(flatten)]
    pub payload: EventPayload,
}

/// What happened, with the data a consumer needs to react without calling the backend back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "eventType", rename_all_fields = "camelCase")]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per request and serialized at once; boxing would only cost callers a Box::new"
)]
pub enum EventPayload {
    #[serde(rename = "tasks.created")]
    Created {
        title: String,
        priority: Priority,
        #[serde(serialize_with = "timestamp::serialize_opt")]
        due_date: Option<DateTime<Utc>>,
        recurring: bool,
    },
    #[serde(rename = "tasks.updated")]
    Updated { changes: TaskChanges },
    #[serde(rename = "tasks.deleted")]
    Deleted { title: String },
    #[serde(rename = "tasks.completed")]
    Completed {
        title: String,
        #[serde(serialize_with = "timestamp::serialize")]
        completed_at: DateTime<Utc>,
        /// The next occurrence the backend created when a recurring task was completed.
        next_task_id: Option<Uuid>,
    },
    #[serde(rename = "tasks.incomplete")]
    Incomplete { title: String },
    #[serde(rename = "tasks.overdue")]
    Overdue {
        title: String,
        #[serde(serialize_with = "timestamp::serialize")]
        due_date: DateTime<Utc>,
    },
    #[serde(rename = "tasks.reminder")]
    Reminder {
        title: String,
        #[serde(serialize_with = "timestamp::serialize_opt")]
        due_date: Option<DateTime<Utc>>,
        #[serde(serialize_with = "timestamp::serialize")]
        remind_at: DateTime<Utc>,
        reminder_id: Uuid,
    },
}

impl EventPayload {
    /// The type this payload is published as.
    pub fn event_type(&self) -> EventType {
        match self {
            Self::Created { .. } => EventType::Created,
            Self::Updated { .. } => EventType::Updated,
            Self::Deleted { .. } => EventType::Deleted,
            Self::Completed { .. } => EventType::Completed,
            Self::Incomplete { .. } => EventType::Incomplete,
            Self::Overdue { .. } => EventType::Overdue,
            Self::Reminder { .. } => EventType::Reminder,
        }
    }
}

impl TaskEvent {
    /// A new event happening now, with a fresh time-ordered (v7) id.
    ///
    /// The timestamp is cut to milliseconds, the wire precision, so the event equals its own
    /// decoded JSON.
    pub fn new(
        task_id: Uuid,
        user_id: Uuid,
        correlation_id: impl Into<String>,
        payload: EventPayload,
    ) -> Self {
        Self {
            version: EVENT_VERSION,
            event_id: Uuid::now_v7(),
            task_id,
            user_id,
            correlation_id: correlation_id.into(),
            timestamp: truncate_to_millis(Utc::now()),
            project_id: None,
            payload,
        }
    }

    /// This event, naming the project its task is in.
    #[must_use]
    pub fn in_project(self, project_id: Uuid) -> Self {
        Self { project_id: Some(project_id), ..self }
    }

    pub fn event_type(&self) -> EventType {
        self.payload.event_type()
    }

    /// Decodes the `data` of a delivered CloudEvent.
    ///
    /// Version and type are checked before the payload, so a consumer can tell "from the future"
    /// apart from "broken". Every error is permanent, though: the same bytes will never decode,
    /// so the consumer should answer `DROP` (the sidecar then moves the message to the dead-letter
    /// topic) rather than `RETRY`, which would block the partition (§4.3).
    pub fn from_cloud_event_data(value: &Value) -> Result<Self, EventDecodeError> {
        let object = value.as_object().ok_or_else(|| {
            EventDecodeError::Malformed(format!("expected a JSON object, got {}", kind(value)))
        })?;

        match object.get("version").map(Value::as_u64) {
            None => return Err(EventDecodeError::Malformed("missing field `version`".into())),
            Some(None) => {
                return Err(EventDecodeError::Malformed("`version` is not a non-negative integer".into()));
            }
            Some(Some(version)) if version != u64::from(EVENT_VERSION) => {
                return Err(u32::try_from(version).map_or_else(
                    |_| EventDecodeError::Malformed(format!("`version` {version} is out of range")),
                    EventDecodeError::UnsupportedVersion,
                ));
            }
            Some(Some(_)) => {}
        }

        match object.get("eventType") {
            None => {
                return Err(EventDecodeError::Malformed("missing field `eventType`".into()));
            }
            Some(Value::String(name)) => {
                if name.parse::<EventType>().is_err() {
                    return Err(EventDecodeError::UnknownEventType(name.clone()));
                }
            }
            Some(other) => {
                return Err(EventDecodeError::Malformed(format!(
                    "`eventType` must be a string, got {}",
                    kind(other)
                )));
            }
        }

        Self::deserialize(value).map_err(|e| EventDecodeError::Malformed(e.to_string()))
    }

    /// Decodes the event carried by a delivered CloudEvent (see [`Self::from_cloud_event_data`]).
    ///
    /// A CloudEvent whose `data` is absent (e.g. `data_base64`) is malformed: our publisher always
    /// sends `application/json`, so anything else is a publisher bug, not something to retry.
    pub fn from_cloud_event(event: &CloudEvent) -> Result<Self, EventDecodeError> {
        Self::from_cloud_event_data(&task_event_json(event)?)
    }
}

/// Why a delivered event could not be decoded. Every variant is permanent: answer `DROP`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    /// Published by a build with a newer (or older) event schema.
    #[error("unsupported event version {0} (this build understands version {EVENT_VERSION})")]
    UnsupportedVersion(u32),
    /// An `eventType` this build does not know.
    #[error("unknown event type `{0}`")]
    UnknownEventType(String),
    /// Anything else: not an object, a missing or mistyped field.
    #[error("malformed task event: {0}")]
    Malformed(String),
}

fn deserialize_version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(deserializer)?;
    if version == EVENT_VERSION {
        Ok(version)
    } else {
        Err(D::Error::custom(format!("unsupported event version {version}")))
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The task event JSON inside a delivered CloudEvent, in each form a sidecar can deliver
/// (dapr-contract §1.3, §3.2): structured `data`; `data` as a string (a publisher that sent
/// JSON as `text/plain`); or `data_base64` (a `rawPayload` subscription), whose bytes are either
/// the event itself or the publisher's whole CloudEvent.
fn task_event_json(event: &CloudEvent) -> Result<Value, EventDecodeError> {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let malformed = |what: String| EventDecodeError::Malformed(what);
    let data = match (&event.data, &event.data_base64) {
        (Some(Value::String(text)), _) => serde_json::from_str(text)
            .map_err(|e| malformed(format!("`data` is a string but not JSON: {e}")))?,
        (Some(data), _) => data.clone(),
        (None, Some(encoded)) => {
            let bytes = STANDARD
                .decode(encoded)
                .map_err(|e| malformed(format!("`data_base64` is not base64: {e}")))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| malformed(format!("`data_base64` is not JSON: {e}")))?
        }
        (None, None) => return Err(malformed("the CloudEvent carries no `data`".into())),
    };
    match data {
        Value::Object(ref object) if object.contains_key("specversion") => object
            .get("data")
            .cloned()
            .ok_or_else(|| malformed("the wrapped CloudEvent carries no `data`".into())),
        data => Ok(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deleted() -> TaskEvent {
        TaskEvent::new(Uuid::nil(), Uuid::max(), "req-1", EventPayload::Deleted { title: "Old".into() })
    }

    #[test]
    fn new_sets_version_v7_id_and_a_millisecond_timestamp_of_now() {
        let before = truncate_to_millis(Utc::now());
        let event = deleted();
        let after = Utc::now();

        assert_eq!(event.version, EVENT_VERSION);
        assert_eq!(event.event_id.get_version_num(), 7);
        assert!(before <= event.timestamp && event.timestamp <= after);
        assert_eq!(event.timestamp, truncate_to_millis(event.timestamp));
        assert_eq!(event.correlation_id, "req-1");
        assert_eq!(event.event_type(), EventType::Deleted);
    }

    #[test]
    fn two_new_events_get_different_ids() {
        assert_ne!(deleted().event_id, deleted().event_id);
    }

    #[test]
    fn a_new_event_survives_a_json_round_trip() {
        let event = deleted();
        let json = serde_json::to_value(&event).expect("serializable");
        assert_eq!(TaskEvent::from_cloud_event_data(&json), Ok(event));
    }

    #[test]
    fn plain_serde_also_rejects_other_versions() {
        let mut json = serde_json::to_value(deleted()).expect("serializable");
        json["version"] = json!(2);
        let err = serde_json::from_value::<TaskEvent>(json).expect_err("version 2 is unknown");
        assert!(err.to_string().contains("unsupported event version 2"), "{err}");
    }

    #[test]
    fn non_object_data_is_malformed() {
        let err = TaskEvent::from_cloud_event_data(&json!("{\"version\":1}"))
            .expect_err("a JSON string is not an event");
        assert_eq!(err, EventDecodeError::Malformed("expected a JSON object, got a string".into()));
    }

    #[test]
    fn cloud_event_without_data_is_malformed() {
        let event: CloudEvent = serde_json::from_value(json!({
            "id": "1", "specversion": "1.0", "source": "backend", "type": "tasks.deleted",
            "data_base64": "e30="
        }))
        .expect("valid CloudEvent");
        assert!(matches!(TaskEvent::from_cloud_event(&event), Err(EventDecodeError::Malformed(_))));
    }

    fn delivered(envelope: Value) -> Result<TaskEvent, EventDecodeError> {
        let event: CloudEvent = serde_json::from_value(envelope).expect("a CloudEvent");
        TaskEvent::from_cloud_event(&event)
    }

    #[test]
    fn every_delivery_form_of_the_sidecar_decodes_to_the_same_event() {
        use base64::{Engine, engine::general_purpose::STANDARD};
        let data: Value =
            serde_json::from_str(include_str!("../tests/fixtures/tasks.created.json")).expect("fixture");
        let expected = TaskEvent::from_cloud_event_data(&data).expect("the fixture decodes");
        let envelope = |extra: Value| {
            let mut ce = json!({"id": "5929aaac", "specversion": "1.0", "source": "backend",
                "type": "tasks.created", "topic": "tasks-lifecycle", "pubsubname": "pubsub-kafka",
                "traceid": "", "traceparent": "", "tracestate": "", "time": "2026-11-28T09:00:00Z"});
            ce.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
            ce
        };
        let structured = envelope(json!({"datacontenttype": "application/json", "data": data}));
        let as_text = envelope(json!({"datacontenttype": "text/plain", "data": data.to_string()}));
        let raw_event = envelope(json!({"datacontenttype": "application/octet-stream",
            "data_base64": STANDARD.encode(data.to_string())}));
        let raw_cloud_event = envelope(json!({"datacontenttype": "application/octet-stream",
            "data_base64": STANDARD.encode(structured.to_string())}));
        for form in [structured, as_text, raw_event, raw_cloud_event] {
            assert_eq!(delivered(form.clone()).as_ref(), Ok(&expected), "{form}");
        }
        assert!(matches!(
            delivered(envelope(json!({"data_base64": "%%%"}))),
            Err(EventDecodeError::Malformed(_))
        ));
        assert!(matches!(delivered(envelope(json!({}))), Err(EventDecodeError::Malformed(_))));
    }
}
