//! What the backend and the ai-agent share below their domain: the command-line preamble,
//! logging set-up, the request span, problem+json error bodies, the shutdown signal, the
//! database pool and which of its errors are temporary, and writing an event to the
//! transactional outbox (one table for every service's events, relayed by the backend).
#![forbid(unsafe_code)]

pub mod cli;
pub mod db;
pub mod metrics;
pub mod outbox;
pub mod problem;
pub mod push;
pub mod request;
pub mod shutdown;
pub mod telemetry;
pub mod trace;
