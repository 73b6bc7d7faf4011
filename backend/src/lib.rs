//! The Todo backend: REST API, sessions, and the transactional outbox relay to Dapr.
//!
//! `main.rs` only parses configuration and calls [`serve`]; tests start the same application
//! in-process with [`run`].
#![forbid(unsafe_code)]

pub mod assistant;
pub mod auth;
pub mod cache;
pub mod calendar;
pub mod chat;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod health;
pub mod http;
pub mod import;
pub mod maintenance;
pub mod preferences;
pub mod projects;
pub mod push;
pub mod relay;
pub mod stream;
pub mod suggestions;
pub mod tasks;
pub mod web;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use events::client::DaprClient;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use db::MIGRATOR;
pub use http::{AppState, app};
pub use platform::telemetry;

/// The database pools a running backend uses: `db` for queries (may be pooled), `listen` for
/// the live updates' LISTEN (must be direct), and `relay` for the outbox relay alone.
#[derive(Clone)]
pub struct Pools {
    pub db: PgPool,
    pub listen: PgPool,
    /// The relay's own connections (a pass, and the backlog gauges beside it). In the query
    /// pool it queued behind every waiting request: at 1,200 creates a second the passes
    /// slowed until the backlog grew by 500 events a second.
    pub relay: PgPool,
}

impl Pools {
    pub fn connect(config: &config::DatabaseConfig) -> anyhow::Result<Self> {
        let acquire = Duration::from_secs(config.database_acquire_timeout_secs);
        Ok(Self {
            db: db::lazy_pool(
                &config.database_url,
                "todo-backend",
                config.database_max_connections,
                acquire,
            )?,
            listen: db::lazy_pool(config.direct_url(), "todo-backend-listen", 3, acquire)?,
            relay: db::lazy_pool(&config.database_url, "todo-backend-relay", 2, acquire)?,
        })
    }
}

/// Serves the API on `listener` and runs the relay and housekeeping until `shutdown` fires,
/// then drains in-flight requests (bounded by the configured timeout) and stops everything.
pub async fn run(
    config: Config,
    pools: Pools,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Before anything counts: a count made before the recorder exists is lost, and the first
    // scrape may come long after the first requests.
    platform::metrics::handle();
    let config = Arc::new(config);
    let chat =
        Arc::new(chat::ChatState::from_config(&config.chat).context("invalid chat assistant settings")?);
    // Without the database the service cannot serve anyway; the quotas the migration set (or
    // an earlier start wrote) stay in force until a later start writes these.
    if let Err(e) = db::quotas::apply(&pools.db, &config.quotas).await {
        tracing::warn!(error.message = %e, "the configured quotas could not be written");
    }
    let state = AppState::new(pools.db.clone(), Arc::clone(&config), chat, shutdown.clone());
    let mut background = tokio::task::JoinSet::new();
    background.spawn(state.stream.clone().run(pools.listen.clone(), shutdown.clone()));

    if config.outbox.relay_enabled {
        let dapr = DaprClient::new(
            &config.outbox.dapr_base_url(),
            config.outbox.dapr_api_token.clone(),
            Duration::from_millis(config.outbox.publish_timeout_ms),
        )
        .context("invalid Dapr sidecar settings")?;
        let relay = relay::Relay {
            db: pools.relay.clone(),
            dapr,
            pubsub: config.outbox.pubsub_name.clone(),
            batch_size: config.outbox.batch_size,
            refusals: config.outbox.refusal_policy(),
        };
        background.spawn(relay.run(Arc::clone(&state.relay_wake), config.outbox.pacing(), shutdown.clone()));
    }
    if let Some(phraser) = chat::openai::wording::Phraser::from_config(&config.chat)
        .context("invalid chat assistant settings")?
    {
        let wording = suggestions::wording::Wording {
            db: pools.db.clone(),
            phraser,
            wake: state.stream.suggestion_changes(),
        };
        background.spawn(wording.run(shutdown.clone()));
    }
    let retention = Duration::from_secs(u64::from(config.outbox.retention_hours) * 3600);
    background.spawn(maintenance::run(pools.db.clone(), retention, shutdown.clone()));

    let address = listener.local_addr()?;
    tracing::info!(%address, "serving the API");
    let drain = shutdown.clone();
    let server = axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { drain.cancelled().await });
    let grace = Duration::from_secs(config.shutdown_timeout_secs);
    let outcome = tokio::select! {
        result = server => result.context("the HTTP server failed"),
        () = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("in-flight requests did not finish within the shutdown timeout");
            Ok(())
        }
    };
    shutdown.cancel();
    while background.join_next().await.is_some() {}
    outcome
}
