//! All of the service's SQL, as plain functions over an executor. Handlers and services never
//! write SQL themselves.
//!
//! Queries are runtime-checked (`sqlx::query_as` + `FromRow`) rather than compile-time macros:
//! the task list is built dynamically and must share one column list with the static queries,
//! and the build then needs no database. Every query here runs in the integration tests
//! against a real PostgreSQL, which is what catches a mismatch.

pub mod idempotency;
pub mod outbox;
pub mod preferences;
pub mod reminders;
pub mod sessions;
pub mod suggestions;
pub mod tasks;
pub mod users;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgPool, postgres::PgPoolOptions};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// A pool that does not fail start-up when the database is still waking (Neon suspends idle
/// computes): connections are made lazily and `/ready` reports the outage meanwhile.
pub fn lazy_pool(
    url: &SecretString,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        .connect_lazy(url.expose_secret())?)
}
