//! Runs the push-service stand-in as a process, for the local run: the web app subscribes a
//! pretend browser with `POST /subscriptions`, and the pushes the ai-agent sends can be read
//! back decrypted from `GET /subscriptions/{id}/messages`.

#![forbid(unsafe_code)]

use std::net::SocketAddr;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// A stand-in RFC 8030 push service and the browser behind it.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "PUSH_STAND_IN_ADDR", default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let service = push_stand_in::PushService::start(args.listen).await?;
    tracing::info!(base_url = service.base_url(), "push-service stand-in listening");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
