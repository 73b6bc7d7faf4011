//! Database connections.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgPool, postgres::PgPoolOptions};

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
