//! HTTP-level tests of the real application against a real PostgreSQL (one fresh database per
//! test, from `#[sqlx::test]`) and a stand-in Dapr sidecar that follows the Dapr contract.

#![expect(
    clippy::unwrap_used,
    reason = "integration tests fail loudly: an unwrap that panics in a helper is a failed assertion"
)]

mod account;
mod assistant_feedback;
mod auth;
mod calendar;
mod chat;
mod chat_openai;
mod helpers;
mod import;
mod limits;
mod listing;
mod metrics;
mod operations;
mod preferences;
mod projects;
mod push;
mod quick_add;
mod recurrence;
mod relay;
mod security;
mod stream;
mod subtasks;
mod suggestion_wording;
mod suggestions;
mod tasks;
mod validation;
mod web;
