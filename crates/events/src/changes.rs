//! What a `tasks.updated` event says changed, and the wire form of a task reminder.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Priority, timestamp};

/// One field's value before and after an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

impl<T: PartialEq> Change<T> {
    /// `Some` only when the value really changed, so a PATCH that re-sends the current title does
    /// not announce a title change.
    pub fn if_changed(from: T, to: T) -> Option<Self> {
        (from != to).then_some(Self { from, to })
    }
}

/// The fields a `tasks.updated` event changed; fields that did not change are absent from the
/// JSON rather than `null`, so `null` can mean "cleared" (e.g. `description.to`).
///
/// Unknown fields are ignored rather than rejected: a newer publisher may report a change to a
/// field this build does not know, which is additive and not worth dropping the event for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Change<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Change<Priority>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Change<Vec<String>>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "timestamp::serialize_opt_change"
    )]
    pub due_date: Option<Change<Option<DateTime<Utc>>>>,
    /// An RFC 5545 `RRULE` value, e.g. `FREQ=WEEKLY;BYDAY=MO`; `None` means not recurring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Change<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders: Option<Change<Vec<ReminderSpec>>>,
    /// The task moved to another project. Added after the first release: consumers that do
    /// not know it ignore it (unknown fields are ignored, see above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Change<Uuid>>,
    /// The task moved into, out of or between sections; `None` is "in no section".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_id: Option<Change<Option<Uuid>>>,
    /// The task became a subtask of another, moved to another parent, or became a task of
    /// its own (`None`). Added after the first release, like `projectId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Change<Option<Uuid>>>,
    /// The task's key in its list's manual order (compared bytewise) changed: the user moved
    /// it. Added after the first release, like `projectId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Change<String>>,
    /// The expected effort in minutes changed (`None`: no estimate). Added after the first
    /// release, like `projectId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_minutes: Option<Change<Option<u16>>>,
}

impl TaskChanges {
    /// True when nothing changed; the backend then publishes no `tasks.updated` event at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One reminder on a task, as the API accepts it and as events carry it.
///
/// Exactly one of the two shapes: `{"offsetMinutes": 30}` (relative to the due date) or
/// `{"at": "2026-11-28T08:30:00.000Z"}` (absolute). Unknown fields are rejected, so an object
/// carrying both keys matches neither shape instead of silently picking one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged, deny_unknown_fields)]
pub enum ReminderSpec {
    /// Minutes before the task's due date.
    Offset {
        #[serde(rename = "offsetMinutes")]
        offset_minutes: u32,
    },
    /// A fixed instant, independent of the due date.
    At {
        #[serde(serialize_with = "timestamp::serialize")]
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn if_changed_is_none_for_equal_values() {
        assert_eq!(Change::if_changed("a", "a"), None);
        assert_eq!(Change::if_changed("a", "b"), Some(Change { from: "a", to: "b" }));
    }

    #[test]
    fn unchanged_fields_are_omitted_and_cleared_ones_are_null() {
        let changes = TaskChanges {
            priority: Change::if_changed(Priority::Low, Priority::High),
            description: Change::if_changed(Some("old".to_owned()), None),
            title: Change::if_changed("same".to_owned(), "same".to_owned()),
            ..TaskChanges::default()
        };
        assert_eq!(
            serde_json::to_value(&changes).expect("serializable"),
            json!({
                "priority": { "from": "low", "to": "high" },
                "description": { "from": "old", "to": null },
            })
        );
    }

    #[test]
    fn empty_changes_serialize_to_an_empty_object() {
        let changes = TaskChanges::default();
        assert!(changes.is_empty());
        assert_eq!(serde_json::to_value(&changes).expect("serializable"), json!({}));
    }

    #[test]
    fn one_change_makes_changes_non_empty() {
        let changes = TaskChanges {
            tags: Change::if_changed(vec![], vec!["home".to_owned()]),
            ..TaskChanges::default()
        };
        assert!(!changes.is_empty());
    }

    #[test]
    fn due_date_change_uses_millisecond_timestamps() {
        let due = DateTime::from_timestamp(1_800_000_000, 0).expect("in range");
        let changes = TaskChanges { due_date: Change::if_changed(None, Some(due)), ..TaskChanges::default() };
        assert_eq!(
            serde_json::to_value(&changes).expect("serializable"),
            json!({ "dueDate": { "from": null, "to": "2027-01-15T08:00:00.000Z" } })
        );
    }

    #[test]
    fn reminder_specs_use_their_two_shapes() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).expect("in range");
        let specs = vec![ReminderSpec::Offset { offset_minutes: 30 }, ReminderSpec::At { at }];
        let json = serde_json::to_value(&specs).expect("serializable");
        assert_eq!(json, json!([{ "offsetMinutes": 30 }, { "at": "2027-01-15T08:00:00.000Z" }]));
        let back: Vec<ReminderSpec> = serde_json::from_value(json).expect("parses back");
        assert_eq!(back, specs);
    }

    #[test]
    fn reminder_spec_rejects_unknown_and_mixed_fields() {
        for bad in [
            json!({ "offsetMinutes": 30, "at": "2027-01-15T08:00:00Z" }),
            json!({ "offsetMinutes": 30, "note": "x" }),
            json!({ "minutes": 30 }),
            json!({ "offsetMinutes": -5 }),
            json!({ "at": "tomorrow" }),
        ] {
            assert!(serde_json::from_value::<ReminderSpec>(bad.clone()).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn changes_from_a_newer_publisher_keep_known_fields() {
        let changes: TaskChanges = serde_json::from_value(json!({
            "title": { "from": "a", "to": "b" },
            "colour": { "from": "red", "to": "blue" },
        }))
        .expect("unknown change kinds are ignored");
        assert_eq!(changes.title, Some(Change { from: "a".to_owned(), to: "b".to_owned() }));
    }
}
