//! Types that cross a service boundary: the task lifecycle events, the Dapr HTTP wire types, and a
//! small client for publishing through the Dapr sidecar.
//!
//! The backend publishes [`TaskEvent`]s to [`TOPIC`] on [`DEFAULT_PUBSUB`]; the ai-agent receives
//! them wrapped in a Dapr [`dapr::CloudEvent`] and decodes them with
//! [`TaskEvent::from_cloud_event_data`]. Keeping both sides on one Rust type means a field renamed
//! on one side fails to compile on the other instead of failing in production.
//!
//! The contract these types follow is `shared/dapr-contract.md`; section numbers in the docs below
//! (§1.3 and so on) refer to it.

#![forbid(unsafe_code)]

pub mod client;
pub mod dapr;

mod changes;
mod event;
mod event_type;
mod priority;
mod timestamp;

pub use changes::{Change, ReminderSpec, TaskChanges};
pub use event::{EventDecodeError, EventPayload, TaskEvent};
pub use event_type::{EventType, ParseEventTypeError};
pub use priority::{ParsePriorityError, Priority};
pub use timestamp::truncate_to_millis;

/// The topic every task lifecycle event is published to.
pub const TOPIC: &str = "tasks-lifecycle";

/// Where the sidecar re-publishes events the consumer dropped or could not process (§3.3).
pub const DEAD_LETTER_TOPIC: &str = "tasks-lifecycle-dlq";

/// Name of the Dapr pub/sub component (the Kafka component's `metadata.name`).
pub const DEFAULT_PUBSUB: &str = "pubsub-kafka";

/// Version of the [`TaskEvent`] schema this build writes and accepts.
///
/// Additive changes (a new optional field) keep the version; anything a version-1 consumer would
/// misread bumps it, and consumers drop versions they do not know rather than guess.
pub const EVENT_VERSION: u32 = 1;
