//! All of the service's SQL, as plain functions over an executor. Agents and handlers never
//! write SQL themselves.
//!
//! Queries are runtime-checked (`sqlx::query_as` + `FromRow`), as in the backend: the build
//! needs no database, and every query here runs in the integration tests against a real
//! PostgreSQL, which is what catches a mismatch.

pub mod dead_letters;
pub mod locks;
pub mod outbox;
pub mod processed;
pub mod reminders;
pub mod suggestions;
pub mod tasks;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgExecutor, PgPool, postgres::PgPoolOptions};

/// The schema, shared with the backend (which applies it); the tests apply it to each fresh
/// database.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// A pool that does not fail start-up when the database is still waking (Neon suspends idle
/// computes): connections are made lazily, `/ready` reports the outage, and deliveries meanwhile
/// are answered `RETRY`.
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

/// Readiness: one round trip.
pub async fn ping(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query("select 1").execute(db).await?;
    Ok(())
}
