//! Golden fixtures: the exact JSON of every event type, checked in both directions.
//!
//! The fixtures are the contract with consumers in other services (and other languages): a test
//! failing here means the wire format changed, which needs a version bump, not a fixture edit.
//! The one exception is an additive optional field, which consumers ignore until they know it
//! (`projectId`, `changes.parentId`, `changes.position`): the fixtures gain it and
//! `events_from_before_projects_still_decode` keeps the older shape decoding.

use chrono::{DateTime, Utc};
use events::{
    Change, EVENT_VERSION, EventDecodeError, EventPayload, EventType, Priority, ReminderSpec, TaskChanges,
    TaskEvent,
};
use serde_json::{Value, json};
use uuid::Uuid;

fn fixture(event_type: EventType) -> Value {
    let path = format!("{}/tests/fixtures/{}.json", env!("CARGO_MANIFEST_DIR"), event_type.as_str());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).expect("valid test timestamp").with_timezone(&Utc)
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("valid test uuid")
}

/// The event each fixture must encode, built the way the backend builds it.
fn expected(event_type: EventType) -> TaskEvent {
    let (serial, correlation_id, payload) = match event_type {
        EventType::Created => (
            1,
            "req-01JDXK3Q8Z9N2M4P6R8T0V2X4Z",
            EventPayload::Created {
                title: "Prepare quarterly report".into(),
                priority: Priority::High,
                due_date: Some(at("2026-12-01T17:00:00Z")),
                recurring: false,
            },
        ),
        EventType::Updated => (
            2,
            "req-01JDXK3Q8Z9N2M4P6R8T0V2X4Z",
            EventPayload::Updated {
                changes: TaskChanges {
                    title: Change::if_changed("Prepare report".into(), "Prepare quarterly report".into()),
                    description: Change::if_changed(None, None),
                    priority: Change::if_changed(Priority::Medium, Priority::Urgent),
                    tags: Change::if_changed(vec!["work".into()], vec!["work".into()]),
                    due_date: Change::if_changed(None, Some(at("2026-12-01T17:00:00Z"))),
                    recurrence: Change::if_changed(None, Some("FREQ=WEEKLY;BYDAY=MO".into())),
                    reminders: Change::if_changed(
                        vec![],
                        vec![
                            ReminderSpec::Offset { offset_minutes: 30 },
                            ReminderSpec::At { at: at("2026-12-01T08:00:00Z") },
                        ],
                    ),
                    project_id: Change::if_changed(
                        uuid("9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
                        project_id(),
                    ),
                    section_id: Change::if_changed(None, Some(uuid("7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e"))),
                    parent_id: Change::if_changed(None, Some(uuid("3f2c9a4e-6b1d-4c8e-9f7a-2d5b8e1c4a5f"))),
                    position: Change::if_changed("00064a1b2c3d4e5f8".into(), "00064a1b2c3d4e5f4".into()),
                    estimate_minutes: Change::if_changed(None, Some(45)),
                },
            },
        ),
        EventType::Deleted => (
            3,
            "req-01JDXK3Q8Z9N2M4P6R8T0V2X4Z",
            EventPayload::Deleted { title: "Prepare quarterly report".into() },
        ),
        EventType::Completed => (
            4,
            "req-01JDXK3Q8Z9N2M4P6R8T0V2X4Z",
            EventPayload::Completed {
                title: "Water the plants".into(),
                completed_at: at("2026-11-28T08:59:59.250Z"),
                next_task_id: Some(uuid("5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e")),
            },
        ),
        EventType::Incomplete => (
            5,
            "req-01JDXK3Q8Z9N2M4P6R8T0V2X4Z",
            EventPayload::Incomplete { title: "Water the plants".into() },
        ),
        EventType::Overdue => (
            6,
            "cron-overdue-2026-11-28T09:00:00Z",
            EventPayload::Overdue {
                title: "Prepare quarterly report".into(),
                due_date: at("2026-11-27T17:00:00Z"),
            },
        ),
        EventType::Reminder => (
            7,
            "cron-reminder-2026-11-28T09:00:00Z",
            EventPayload::Reminder {
                title: "Prepare quarterly report".into(),
                due_date: Some(at("2026-12-01T17:00:00Z")),
                remind_at: at("2026-12-01T16:30:00Z"),
                reminder_id: uuid("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"),
            },
        ),
    };
    TaskEvent {
        version: EVENT_VERSION,
        event_id: uuid(&format!("0193a1b2-c3d4-7e5f-8a6b-{serial:012}")),
        task_id: uuid("3f2c9a4e-6b1d-4c8e-9f7a-2d5b8e1c4a60"),
        user_id: uuid("8d7e6f5a-4b3c-4d2e-8f1a-0b9c8d7e6f5a"),
        correlation_id: correlation_id.into(),
        timestamp: at("2026-11-28T09:00:00Z"),
        project_id: Some(project_id()),
        payload,
    }
}

fn project_id() -> Uuid {
    uuid("6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d")
}

/// `projectId` (envelope) and `changes.projectId`/`sectionId`/`parentId`/`position` came after
/// the first release, as additive fields of version 1: an event from a publisher that predates them
/// still decodes, without a project.
#[test]
fn events_from_before_projects_still_decode() {
    for &event_type in EventType::ALL {
        let mut older = fixture(event_type);
        let object = older.as_object_mut().expect("an object");
        object.remove("projectId");
        if let Some(changes) = object.get_mut("changes").and_then(Value::as_object_mut) {
            changes.remove("projectId");
            changes.remove("sectionId");
            changes.remove("parentId");
            changes.remove("position");
        }
        let decoded =
            TaskEvent::from_cloud_event_data(&older).unwrap_or_else(|e| panic!("{event_type}: {e}"));
        assert_eq!(decoded.project_id, None, "{event_type}");
        assert_eq!(
            decoded.payload == expected(event_type).payload,
            event_type != EventType::Updated,
            "{event_type}"
        );
    }
}

#[test]
fn every_event_type_serializes_to_its_fixture() {
    for &event_type in EventType::ALL {
        let actual = serde_json::to_value(expected(event_type)).expect("serializable");
        assert_eq!(actual, fixture(event_type), "{event_type} differs from its fixture");
    }
}

#[test]
fn every_fixture_decodes_to_the_expected_event() {
    for &event_type in EventType::ALL {
        let decoded = TaskEvent::from_cloud_event_data(&fixture(event_type))
            .unwrap_or_else(|e| panic!("{event_type}: {e}"));
        assert_eq!(decoded, expected(event_type));
        assert_eq!(decoded.event_type(), event_type);
    }
}

#[test]
fn fixture_event_type_field_matches_the_type_name() {
    for &event_type in EventType::ALL {
        assert_eq!(fixture(event_type)["eventType"], json!(event_type.as_str()));
    }
}

#[test]
fn updated_changes_list_only_the_fields_that_changed() {
    let changes = &fixture(EventType::Updated)["changes"];
    let mut keys: Vec<&str> =
        changes.as_object().expect("changes is an object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    // description (None -> None) and tags (same list) were passed to if_changed but are absent.
    assert_eq!(
        keys,
        [
            "dueDate",
            "estimateMinutes",
            "parentId",
            "position",
            "priority",
            "projectId",
            "recurrence",
            "reminders",
            "sectionId",
            "title"
        ]
    );
}

#[test]
fn unknown_event_type_is_rejected_as_unknown() {
    let mut json = fixture(EventType::Deleted);
    json["eventType"] = json!("tasks.archived");
    assert_eq!(
        TaskEvent::from_cloud_event_data(&json),
        Err(EventDecodeError::UnknownEventType("tasks.archived".into()))
    );
    assert!(serde_json::from_value::<TaskEvent>(json).is_err());
}

#[test]
fn other_versions_are_rejected_as_unsupported() {
    for version in [0, 2, 99] {
        let mut json = fixture(EventType::Created);
        json["version"] = json!(version);
        assert_eq!(
            TaskEvent::from_cloud_event_data(&json),
            Err(EventDecodeError::UnsupportedVersion(version))
        );
    }
}

#[test]
fn version_is_checked_before_the_type() {
    // A future version may well add event types: report the version, which is the real cause.
    let mut json = fixture(EventType::Created);
    json["version"] = json!(2);
    json["eventType"] = json!("tasks.archived");
    assert_eq!(TaskEvent::from_cloud_event_data(&json), Err(EventDecodeError::UnsupportedVersion(2)));
}

#[test]
fn a_missing_or_mistyped_version_is_malformed() {
    let mut missing = fixture(EventType::Created);
    missing.as_object_mut().map(|o| o.remove("version"));
    let mut string = fixture(EventType::Created);
    string["version"] = json!("1");
    let mut huge = fixture(EventType::Created);
    huge["version"] = json!(u64::MAX);
    for json in [missing, string, huge] {
        assert!(matches!(TaskEvent::from_cloud_event_data(&json), Err(EventDecodeError::Malformed(_))));
    }
}

#[test]
fn missing_required_fields_are_malformed_and_named() {
    for (event_type, field) in [
        (EventType::Created, "title"),
        (EventType::Created, "recurring"),
        (EventType::Completed, "completedAt"),
        (EventType::Reminder, "reminderId"),
        (EventType::Deleted, "taskId"),
        (EventType::Deleted, "eventType"),
    ] {
        let mut json = fixture(event_type);
        json.as_object_mut().map(|o| o.remove(field));
        match TaskEvent::from_cloud_event_data(&json) {
            Err(EventDecodeError::Malformed(reason)) => {
                assert!(reason.contains(field), "{event_type}/{field}: {reason}");
            }
            other => panic!("{event_type} without {field}: {other:?}"),
        }
    }
}

#[test]
fn a_mistyped_payload_field_is_malformed() {
    let mut json = fixture(EventType::Created);
    json["priority"] = json!("critical");
    assert!(matches!(TaskEvent::from_cloud_event_data(&json), Err(EventDecodeError::Malformed(_))));
}

#[test]
fn timestamps_in_other_offsets_are_read_as_utc() {
    let mut json = fixture(EventType::Overdue);
    json["dueDate"] = json!("2026-11-27T18:00:00+01:00");
    let event = TaskEvent::from_cloud_event_data(&json).expect("any RFC 3339 offset is accepted");
    assert_eq!(event, expected(EventType::Overdue));
}
