//! The command-line preamble both services' `main` share: the arguments, logging around a
//! command, the `serve` command's listener and shutdown signal, and the `healthcheck` command.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::telemetry::{self, LogFormat};

/// The process arguments, with `serve` added when none were given: `cargo run -p backend` and
/// `dapr run -- ai-agent` then start the service without extra words.
pub fn args_defaulting_to_serve() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().collect();
    if args.len() == 1 {
        args.push("serve".to_owned());
    }
    args
}

/// Runs `command` with logging installed (and trace export, when configured), then flushes the
/// spans not yet exported: the guard lives exactly as long as the command.
pub async fn logged<T>(format: LogFormat, default_filter: &str, command: impl Future<Output = T>) -> T {
    let _telemetry = telemetry::init(format, default_filter);
    command.await
}

/// The rest of a `serve` command once the service is configured: listens on `addr`, cancels the
/// token `run` gets on SIGTERM or Ctrl-C, and waits for `run` to end.
pub async fn serve<F, Fut>(addr: SocketAddr, run: F) -> anyhow::Result<()>
where
    F: FnOnce(TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(crate::shutdown::cancel_on_signal(shutdown.clone()));
    run(listener, shutdown).await
}

/// The `healthcheck` command: succeeds when `url` answers 2xx within 3 s. For container health
/// checks in images without shell tools.
pub async fn healthcheck(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build()?;
    let status = client.get(url).send().await.with_context(|| format!("{url} did not answer"))?.status();
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::{Router, http::StatusCode, routing::get};

    use super::*;

    #[tokio::test]
    async fn the_healthcheck_passes_on_2xx_only() {
        let app = Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/sick", get(|| async { StatusCode::SERVICE_UNAVAILABLE }));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("listener");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        healthcheck(&format!("{base}/health")).await.expect("healthy");
        let sick = healthcheck(&format!("{base}/sick")).await.expect_err("unhealthy");
        assert!(sick.to_string().contains("503"), "{sick}");
    }

    #[tokio::test]
    async fn serve_names_an_address_it_cannot_listen_on() {
        let taken = TcpListener::bind("127.0.0.1:0").await.expect("listener");
        let addr = taken.local_addr().expect("address");
        let error = serve(addr, |_, _| async { Ok(()) }).await.expect_err("the port is taken");
        assert_eq!(error.to_string(), format!("cannot listen on {addr}"));
    }
}
