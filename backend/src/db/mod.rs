//! All of the service's SQL, as plain functions over an executor. Handlers and services never
//! write SQL themselves.
//!
//! Queries are runtime-checked (`sqlx::query_as` + `FromRow`) rather than compile-time macros:
//! the task list is built dynamically and must share one column list with the static queries,
//! and the build then needs no database. Every query here runs in the integration tests
//! against a real PostgreSQL, which is what catches a mismatch.

pub mod assistant;
pub mod calendar;
pub mod chat;
pub mod chat_usage;
pub mod idempotency;
pub mod outbox;
pub mod preferences;
pub mod projects;
pub mod push;
pub mod quotas;
pub mod rate_limits;
pub mod reminders;
pub mod sessions;
pub mod suggestions;
pub mod tasks;
pub mod users;

pub use platform::db::lazy_pool;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
