//! Runs the Dapr emulator as a process, for the one-command local run.
//!
//! Flags mirror daprd's environment where one exists (`DAPR_HTTP_PORT`, `DAPR_API_TOKEN`,
//! `APP_API_TOKEN`, `APP_ID`), so the same `.env` drives the app and its stand-in sidecar.

#![forbid(unsafe_code)]

use std::time::Duration;

use clap::Parser;
use dapr_emulator::{Emulator, RetryPolicy};
use tracing_subscriber::EnvFilter;

/// An in-memory stand-in for the Dapr sidecar's HTTP pub/sub.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port of the Dapr HTTP API on 127.0.0.1.
    #[arg(long, env = "DAPR_HTTP_PORT", default_value_t = 3500)]
    port: u16,
    /// The publisher's app-id, written as the CloudEvent `source`.
    #[arg(long, env = "APP_ID", default_value = "backend")]
    app_id: String,
    /// Pub/sub component names that exist (comma-separated).
    #[arg(
        long = "pubsub",
        env = "DAPR_EMULATOR_PUBSUBS",
        value_delimiter = ',',
        default_value = events::DEFAULT_PUBSUB
    )]
    pubsubs: Vec<String>,
    /// The app to discover subscriptions from and deliver to, e.g. `http://127.0.0.1:8081`;
    /// several (comma-separated) are instances of one app sharing a consumer group: each
    /// partition key's messages go to one of them, in order.
    #[arg(long, env = "DAPR_EMULATOR_APP_URL", value_delimiter = ',')]
    app_url: Vec<String>,
    /// Token required from the app on every API call but health (`dapr-api-token`).
    #[arg(long, env = "DAPR_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// Token sent to the app on discovery and every delivery.
    #[arg(long, env = "APP_API_TOKEN", hide_env_values = true)]
    app_token: Option<String>,
    /// Retries after the first delivery attempt before the dead-letter topic.
    #[arg(long, env = "DAPR_EMULATOR_MAX_RETRIES", default_value_t = 3)]
    max_retries: u32,
    /// Milliseconds between delivery attempts. Shorter than the library's Resiliency-like 5 s
    /// default: locally, a failing consumer should reach the dead-letter topic within seconds.
    #[arg(long, env = "DAPR_EMULATOR_RETRY_INTERVAL_MS", default_value_t = 1000)]
    retry_interval_ms: u64,
    /// Milliseconds between redeliveries once retries are exhausted without a dead-letter
    /// topic; 0 gives up instead (like `consumeRetryEnabled: "false"`).
    #[arg(long, env = "DAPR_EMULATOR_REDELIVERY_INTERVAL_MS", default_value_t = 5000)]
    redelivery_interval_ms: u64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let args = Args::parse();

    let mut builder = Emulator::builder()
        .port(args.port)
        .app_id(args.app_id)
        .pubsub_names(args.pubsubs)
        .retry_policy(RetryPolicy {
            max_retries: args.max_retries,
            interval: Duration::from_millis(args.retry_interval_ms),
        })
        .redelivery_interval(
            (args.redelivery_interval_ms > 0).then(|| Duration::from_millis(args.redelivery_interval_ms)),
        )
        // Nothing reads the history of a process; keeping it would grow without end.
        .forget_delivered();
    for url in args.app_url {
        builder = builder.app_url(url);
    }
    if let Some(token) = args.api_token {
        builder = builder.api_token(token);
    }
    if let Some(token) = args.app_token {
        builder = builder.app_token(token);
    }
    let emulator = builder.start().await?;

    shutdown_signal().await;
    tracing::info!("shutting down");
    emulator.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
