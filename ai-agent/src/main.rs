//! Entry point: parse configuration, install logging, run a subcommand.

use std::time::Duration;

use ai_agent::{
    Config,
    config::{Cli, Command},
    db,
};
use anyhow::Context;
use platform::cli;
use sqlx::PgPool;

// The backend's allocator (see the workspace Cargo.toml): glibc keeps freed memory in per-thread
// arenas, mimalloc returns it, so a burst of events does not leave the agent's memory high.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::from_env().command {
        // The scheduler narrates its own set-up at info; its warnings are what matter.
        Command::Serve(config) => {
            cli::logged(config.log_format, "info,sqlx=warn,tokio_cron_scheduler=warn", async move {
                let pool = pool(&config, config.database_max_connections)?;
                cli::serve(config.listen_addr, |listener, shutdown| {
                    ai_agent::run(*config, pool, listener, shutdown)
                })
                .await
            })
            .await
        }
        Command::ReplayDeadLetters(config) => {
            cli::logged(config.log_format, "info,sqlx=warn", async move {
                let pool = pool(&config, 1)?;
                let settings = ai_agent::agents::Settings::from_config(&config.agents);
                let registry = ai_agent::registry::Registry::standard();
                let report = ai_agent::replay::replay_dead_letters(&pool, &registry, &settings).await?;
                tracing::info!(
                    replayed = report.replayed,
                    still_failing = report.still_failing,
                    interrupted = report.interrupted,
                    "dead-letter replay finished"
                );
                anyhow::ensure!(
                    !report.interrupted,
                    "processing failed transiently; run the replay again later"
                );
                Ok(())
            })
            .await
        }
        Command::RunPass { job, config } => {
            cli::logged(config.log_format, "warn", async move {
                let job = ai_agent::cron::CronJob::ALL
                    .into_iter()
                    .find(|j| j.name() == job)
                    .with_context(|| format!("unknown job `{job}`"))?;
                let pool = pool(&config, 2)?;
                let settings = ai_agent::agents::Settings::from_config(&config.agents);
                let report = ai_agent::cron::drain(job, &pool, &settings).await?;
                println!("{}", serde_json::to_string(&report)?);
                Ok(())
            })
            .await
        }
        Command::GenerateVapidKeys => {
            let (private, public) = ai_agent::push::crypto::VapidKey::generate()?;
            println!("VAPID_PRIVATE_KEY={private}\nVAPID_PUBLIC_KEY={public}");
            Ok(())
        }
        Command::Healthcheck { url } => cli::healthcheck(&url).await,
    }
}

/// The configured database with room for `max_connections`.
fn pool(config: &Config, max_connections: u32) -> anyhow::Result<PgPool> {
    let acquire_timeout = Duration::from_secs(config.database_acquire_timeout_secs);
    db::lazy_pool(&config.database_url, "todo-ai-agent", max_connections, acquire_timeout)
}
