//! Tests of the real application against a real PostgreSQL (one fresh database per test, from
//! `#[sqlx::test]`), in-process through its router and over TCP through the Dapr stand-in
//! sidecar, which follows the Dapr contract.

#![expect(
    clippy::unwrap_used,
    reason = "integration tests fail loudly: an unwrap that panics in a helper is a failed assertion"
)]

mod daily_plan;
mod delivery;
mod end_to_end;
mod helpers;
mod housekeeping;
mod lifecycle;
mod metrics;
mod overdue;
mod overdue_batch;
mod prioritization;
mod push;
mod registry;
mod reminders;
mod replay;
mod reschedule;
mod restraint;
mod security;
mod sidecar;
mod subscribe;
