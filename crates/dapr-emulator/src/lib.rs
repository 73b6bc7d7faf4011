//! An in-memory stand-in for the Dapr sidecar's HTTP pub/sub, for tests and the local run.
//!
//! It follows `shared/dapr-contract.md` (§1 publish, §2 subscription discovery, §3 delivery, §5
//! tokens) including the awkward parts a hand-written fake would smooth over: the
//! `application/cloudevents+json` content type on delivery, a fresh CloudEvent id on every
//! publish unless `cloudevent.id` is set, uppercase status strings, 2xx-with-any-body counted as
//! success, and DROP or exhausted retries going to the dead-letter topic.
//!
//! The broker is a Kafka-like log per topic. The app's subscriptions act as one consumer group
//! that starts from the beginning of each log, so messages published before the app was
//! discovered are still delivered. Each partition key gets its own sequential worker, which keeps
//! per-key order while messages succeed and blocks only that key while one is retried. Several
//! app URLs are instances of one app in one consumer group: each key's messages go to one of
//! them. A library emulator keeps every message and delivery for the test to inspect; the
//! process (`forget_delivered`) keeps only what is still to be delivered.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! let sidecar = dapr_emulator::Emulator::builder()
//!     .app_id("backend")
//!     .app_url("http://127.0.0.1:8081")
//!     .start()
//!     .await?;
//! // ... point the app at sidecar.base_url() and make it publish ...
//! let published = sidecar
//!     .wait_for(events::TOPIC, 1, Duration::from_secs(5))
//!     .await
//!     .expect("one event");
//! # Ok(()) }
//! ```
//!
//! The runtime emulated is the product's daprd (1.16; `tests/emulator/sidecar.rs` runs the
//! event-path tests against it on a real Kafka). Where it knowingly differs from that: a
//! retried message blocks only its own key, where Kafka blocks every key of its partition
//! (`__partition` is always 0 here); and any topic can be published to, where our Kafka, with
//! topic auto-creation off, answers 500 `ERR_PUBSUB_PUBLISH_MESSAGE` for an unknown topic.
//!
//! Bulk publish is served on daprd 1.16's only path, `/v1.0-alpha1/publish/bulk/…`; the broker
//! keeps each JSON event's text as sent, where daprd re-encodes it and loses digits of numbers
//! beyond a float's precision.
//!
//! Not emulated: bulk subscribe, scoping (403), declarative subscriptions,
//! `partitionNumber`, and the full CEL language (routing rules support `event.<path> == "…"`
//! and `!=`; anything else is an evaluation error, handled as Dapr handles one).

#![forbid(unsafe_code)]

mod config;
mod delivery;
mod discovery;
mod envelope;
mod handle;
mod server;
mod state;
mod trace;
mod ttl;

pub use config::{Emulator, EmulatorBuilder, RetryPolicy};
pub use discovery::DiscoveryError;
pub use handle::{EmulatorHandle, WaitTimeout};
pub use state::{DeliveryOutcome, DeliveryRecord, PublishedMessage};
