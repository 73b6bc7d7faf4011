//! All of the service's SQL, as plain functions over an executor. Agents and handlers never
//! write SQL themselves.
//!
//! Queries are runtime-checked (`sqlx::query_as` + `FromRow`), as in the backend: the build
//! needs no database, and every query here runs in the integration tests against a real
//! PostgreSQL, which is what catches a mismatch.

pub mod cron;
pub mod dead_letters;
pub mod locks;
pub mod plans;
pub mod processed;
pub mod push;
pub mod reminders;
pub mod suggestions;
pub mod tasks;

use sqlx::PgExecutor;

/// The schema, shared with the backend (which applies it); the tests apply it to each fresh
/// database.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

pub use platform::db::lazy_pool;

/// Readiness: one round trip.
pub async fn ping(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query("select 1").execute(db).await?;
    Ok(())
}
