//! The closed set of task lifecycle event types.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// What happened to a task. The string form is both the `eventType` field of a [`TaskEvent`]
/// and the CloudEvent `type` the publisher sets, so subscribers can route on either.
///
/// [`TaskEvent`]: crate::TaskEvent
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "tasks.created")]
    Created,
    #[serde(rename = "tasks.updated")]
    Updated,
    #[serde(rename = "tasks.deleted")]
    Deleted,
    #[serde(rename = "tasks.completed")]
    Completed,
    #[serde(rename = "tasks.incomplete")]
    Incomplete,
    #[serde(rename = "tasks.overdue")]
    Overdue,
    #[serde(rename = "tasks.reminder")]
    Reminder,
}

impl EventType {
    /// Every event type, in lifecycle order.
    pub const ALL: &'static [Self] = &[
        Self::Created,
        Self::Updated,
        Self::Deleted,
        Self::Completed,
        Self::Incomplete,
        Self::Overdue,
        Self::Reminder,
    ];

    /// The wire spelling, e.g. `tasks.created`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "tasks.created",
            Self::Updated => "tasks.updated",
            Self::Deleted => "tasks.deleted",
            Self::Completed => "tasks.completed",
            Self::Incomplete => "tasks.incomplete",
            Self::Overdue => "tasks.overdue",
            Self::Reminder => "tasks.reminder",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = ParseEventTypeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == input)
            .ok_or_else(|| ParseEventTypeError { input: input.to_owned() })
    }
}

/// A string that names no known event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type `{input}`")]
pub struct ParseEventTypeError {
    input: String,
}

impl ParseEventTypeError {
    /// The rejected input.
    pub fn input(&self) -> &str {
        &self.input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_string() {
        for &event_type in EventType::ALL {
            assert_eq!(event_type.as_str().parse(), Ok(event_type));
            assert_eq!(event_type.to_string(), event_type.as_str());
        }
    }

    #[test]
    fn serde_spelling_matches_as_str() {
        for &event_type in EventType::ALL {
            let json = serde_json::to_value(event_type).expect("serializable");
            assert_eq!(json, serde_json::Value::from(event_type.as_str()));
        }
    }

    #[test]
    fn all_lists_seven_distinct_types() {
        let distinct: std::collections::HashSet<_> = EventType::ALL.iter().collect();
        assert_eq!(distinct.len(), 7);
    }

    #[test]
    fn unknown_type_is_rejected() {
        let err = "tasks.archived".parse::<EventType>().expect_err("not a known type");
        assert_eq!(err.input(), "tasks.archived");
        assert_eq!(err.to_string(), "unknown event type `tasks.archived`");
    }
}
