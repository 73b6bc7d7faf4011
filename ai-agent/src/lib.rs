//! The assistants' service: receives task lifecycle events from its Dapr sidecar and turns
//! them into suggestions (overdue warnings, priority advice, reminders), with a cron safety net
//! for what time alone changes.
//!
//! `main.rs` only parses configuration and calls [`run`]; tests start the same application
//! in-process with [`run`] or drive [`app`] directly.
//!
//! - [`http`]: `GET /dapr/subscribe`, the delivery routes, the probes, the app token check.
//! - [`consumer`]: one delivery → `SUCCESS`/`RETRY`/`DROP`, idempotent on the CloudEvent id.
//! - [`registry`]: which handlers react to which event type.
//! - [`agents`]: the overdue, prioritisation and reminder assistants and housekeeping, each
//!   with a one-step cron pass.
//! - [`cron`]: the schedule of those passes.
//! - [`push`]: Web Push delivery of reminders and the daily plan to users' browsers.
//! - [`db`]: all SQL.

#![forbid(unsafe_code)]

pub mod agents;
pub mod config;
pub mod consumer;
pub mod cron;
pub mod db;
pub mod error;
pub mod http;
pub mod push;
pub mod registry;
pub mod replay;

pub use platform::telemetry;
pub mod suggestion;

use std::{future::IntoFuture, sync::Arc, time::Duration};

use anyhow::Context;
use sqlx::PgPool;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use db::MIGRATOR;
pub use http::{AppState, app, metrics_app};
pub use registry::{EventContext, EventHandler, Reaction, Registry};

/// Serves the app channel on `listener` with the standard assistants and runs the cron passes
/// until `shutdown` fires, then drains in-flight deliveries (bounded by the configured timeout)
/// and stops everything.
pub async fn run(
    config: Config,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    config.check_delivery_auth()?;
    serve(AppState::new(pool, config), listener, shutdown).await
}

/// [`run`] with a prepared state, e.g. one with extra handlers registered.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Before anything counts: a count made before the recorder exists is lost, and the first
    // scrape may come long after the first events.
    platform::metrics::handle();
    let config = Arc::clone(&state.config);
    let address = listener.local_addr()?;
    let cron = config.agents.cron_enabled.then(|| {
        tokio::spawn(cron::run(
            state.db.clone(),
            Arc::clone(&state.settings),
            config.agents.clone(),
            shutdown.clone(),
        ))
    });
    let push = match push::sender::Sender::from_config(&config.push)? {
        Some(sender) => Some(tokio::spawn(push::sender::run(state.db.clone(), sender, shutdown.clone()))),
        None => {
            tracing::info!("VAPID_PRIVATE_KEY is not set: Web Push notifications are off");
            None
        }
    };
    let metrics = match config.metrics_listen_addr {
        Some(address) => {
            let listener = TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen for metrics on {address}"))?;
            tracing::info!(%address, "serving /metrics");
            let stop = shutdown.clone();
            Some(tokio::spawn(
                axum::serve(listener, metrics_app(state.clone()))
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .into_future(),
            ))
        }
        None => None,
    };
    let drain = shutdown.clone();
    let mut server = tokio::spawn(
        axum::serve(listener, app(state))
            .with_graceful_shutdown(async move { drain.cancelled().await })
            .into_future(),
    );
    tracing::info!(%address, cron = config.agents.cron_enabled, "serving the Dapr app channel");

    // Supervise them: whichever ends first (or SIGTERM) ends the others, and says why.
    let (mut cron, mut push) = (cron, push);
    let (mut server_result, mut cron_result, mut push_result) = (None, None, None);
    tokio::select! {
        ended = &mut server => server_result = Some(joined("HTTP server", ended)),
        ended = wait_for(&mut cron) => {
            if !shutdown.is_cancelled() {
                tracing::error!("the cron scheduler stopped unexpectedly; shutting down");
            }
            cron_result = Some(joined("cron scheduler", ended));
        }
        ended = wait_for(&mut push) => {
            if !shutdown.is_cancelled() {
                tracing::error!("the push sender stopped unexpectedly; shutting down");
            }
            push_result = Some(joined("push sender", ended));
        }
        () = shutdown.cancelled() => {}
    }
    shutdown.cancel();
    let grace = config.shutdown_timeout();
    let server_result = match server_result {
        Some(result) => result,
        None => finish(server, grace, "HTTP server").await,
    };
    let cron_result = match (cron_result, cron) {
        (Some(result), _) => result,
        (None, Some(task)) => finish(task, grace, "cron scheduler").await,
        (None, None) => Ok(()),
    };
    let push_result = match (push_result, push) {
        (Some(result), _) => result,
        (None, Some(task)) => finish(task, grace, "push sender").await,
        (None, None) => Ok(()),
    };
    if let Some(task) = metrics {
        // A scrape that outlives the grace period is cut: nothing depends on it.
        if let Err(e) = finish(task, grace, "metrics server").await {
            tracing::warn!(error.message = %e, "the metrics server stopped with an error");
        }
    }
    for result in [&server_result, &cron_result, &push_result] {
        if let Err(e) = result {
            tracing::error!(error.message = %e, error.cause_chain = ?e, "stopped with an error");
        }
    }
    server_result.and(cron_result).and(push_result)
}

/// A background task's end, or never when there is none.
async fn wait_for(
    task: &mut Option<JoinHandle<anyhow::Result<()>>>,
) -> Result<anyhow::Result<()>, tokio::task::JoinError> {
    match task {
        Some(handle) => handle.await,
        None => std::future::pending().await,
    }
}

/// Waits for a task told to stop, aborting it after `grace`: in-flight deliveries are then
/// cut, their transactions roll back, and the sidecar delivers them again.
async fn finish<T, E>(mut task: JoinHandle<Result<T, E>>, grace: Duration, what: &str) -> anyhow::Result<()>
where
    E: Into<anyhow::Error>,
{
    match tokio::time::timeout(grace, &mut task).await {
        Ok(ended) => joined(what, ended),
        Err(_) => {
            tracing::warn!(what, "did not stop within the shutdown timeout; aborted");
            task.abort();
            Ok(())
        }
    }
}

fn joined<T, E: Into<anyhow::Error>>(
    what: &str,
    ended: Result<Result<T, E>, tokio::task::JoinError>,
) -> anyhow::Result<()> {
    ended
        .with_context(|| format!("the {what} task panicked"))?
        .map_err(Into::into)
        .with_context(|| format!("the {what} failed"))?;
    Ok(())
}
