//! Entry point: parse configuration, install logging, run a subcommand.

use anyhow::Context;
use backend::{
    Pools,
    config::{Cli, Command},
    telemetry,
};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::from_env().command {
        Command::Serve(config) => {
            // Held to the end of `main`: dropping it flushes the spans not yet exported.
            let _telemetry = telemetry::init(config.log_format, "info,sqlx=warn");
            let pools = Pools::connect(&config.database)?;
            if config.migrate_on_start {
                migrate(&pools.listen).await?;
            }
            let listener = tokio::net::TcpListener::bind(config.listen_addr)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
            let shutdown = CancellationToken::new();
            tokio::spawn(backend::cancel_on_signal(shutdown.clone()));
            backend::run(*config, pools, listener, shutdown).await
        }
        Command::Migrate(database) => {
            // Held to the end of `main`: dropping it flushes the spans not yet exported.
            let _telemetry = telemetry::init(telemetry::LogFormat::Json, "info,sqlx=warn");
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(database.direct_url().expose_secret())
                .await
                .with_context(|| {
                    format!("cannot connect to {}", backend::config::redact_url(database.direct_url()))
                })?;
            migrate(&pool).await
        }
        Command::Openapi => {
            println!("{}", backend::http::openapi_document().to_pretty_json()?);
            Ok(())
        }
        Command::Healthcheck { url } => {
            let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(3)).build()?;
            let status =
                client.get(&url).send().await.with_context(|| format!("{url} did not answer"))?.status();
            anyhow::ensure!(status.is_success(), "{url} answered {status}");
            Ok(())
        }
    }
}

async fn migrate(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    backend::MIGRATOR.run(pool).await.context("applying migrations failed")?;
    tracing::info!("migrations applied");
    Ok(())
}
