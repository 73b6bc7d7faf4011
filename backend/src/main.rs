//! Entry point: parse configuration, install logging, run a subcommand.

use anyhow::Context;
use backend::{
    Pools,
    config::{Cli, Command},
    telemetry::LogFormat,
};
use platform::cli;
use secrecy::ExposeSecret;

// mimalloc rather than glibc's malloc: it hands freed memory back to the system, where glibc kept
// freed Argon2 buffers in per-thread arenas (the workspace Cargo.toml has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LOG_FILTER: &str = "info,sqlx=warn";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::from_env().command {
        Command::Serve(config) => {
            cli::logged(config.log_format, LOG_FILTER, async move {
                let pools = Pools::connect(&config.database)?;
                if config.migrate_on_start {
                    migrate(&pools.listen).await?;
                }
                cli::serve(config.listen_addr, |listener, shutdown| {
                    backend::run(*config, pools, listener, shutdown)
                })
                .await
            })
            .await
        }
        Command::Migrate(database) => {
            cli::logged(LogFormat::Json, LOG_FILTER, async move {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(database.direct_url().expose_secret())
                    .await
                    .with_context(|| {
                        format!("cannot connect to {}", backend::config::redact_url(database.direct_url()))
                    })?;
                migrate(&pool).await
            })
            .await
        }
        Command::ReplayParked { database, event_id } => {
            cli::logged(LogFormat::Json, LOG_FILTER, async move {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(database.database_url.expose_secret())
                    .await
                    .with_context(|| {
                        format!("cannot connect to {}", backend::config::redact_url(&database.database_url))
                    })?;
                let replayed = backend::db::outbox::unpark(&pool, event_id).await?;
                tracing::info!(replayed, "parked events are back in line for the relay");
                Ok(())
            })
            .await
        }
        Command::Openapi => {
            println!("{}", backend::http::openapi_document().to_pretty_json()?);
            Ok(())
        }
        Command::Healthcheck { url } => cli::healthcheck(&url).await,
    }
}

async fn migrate(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    backend::MIGRATOR.run(pool).await.context("applying migrations failed")?;
    tracing::info!("migrations applied");
    Ok(())
}
