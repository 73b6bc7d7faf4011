//! Entry point: parse configuration, install logging, run a subcommand.

use ai_agent::{
    config::{Cli, Command},
    db, telemetry,
};
use anyhow::Context;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::from_env().command {
        Command::Serve(config) => {
            // The scheduler narrates its own set-up at info; its warnings are what matter.
            // Held to the end of `main`: dropping it flushes the spans not yet exported.
            let _telemetry = telemetry::init(config.log_format, "info,sqlx=warn,tokio_cron_scheduler=warn");
            let pool = db::lazy_pool(
                &config.database_url,
                config.database_max_connections,
                std::time::Duration::from_secs(config.database_acquire_timeout_secs),
            )?;
            let listener = tokio::net::TcpListener::bind(config.listen_addr)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
            let shutdown = CancellationToken::new();
            tokio::spawn(ai_agent::cancel_on_signal(shutdown.clone()));
            ai_agent::run(*config, pool, listener, shutdown).await
        }
        Command::ReplayDeadLetters(config) => {
            // Held to the end of `main`: dropping it flushes the spans not yet exported.
            let _telemetry = telemetry::init(config.log_format, "info,sqlx=warn");
            let pool = db::lazy_pool(
                &config.database_url,
                1,
                std::time::Duration::from_secs(config.database_acquire_timeout_secs),
            )?;
            let settings = ai_agent::agents::Settings::from_config(&config.agents);
            let registry = ai_agent::registry::Registry::standard();
            let report = ai_agent::replay::replay_dead_letters(&pool, &registry, &settings).await?;
            tracing::info!(
                replayed = report.replayed,
                still_failing = report.still_failing,
                interrupted = report.interrupted,
                "dead-letter replay finished"
            );
            anyhow::ensure!(!report.interrupted, "processing failed transiently; run the replay again later");
            Ok(())
        }
        Command::RunPass { job, config } => {
            // Held to the end of `main`: dropping it flushes the spans not yet exported.
            let _telemetry = telemetry::init(config.log_format, "warn");
            let job = ai_agent::cron::CronJob::ALL
                .into_iter()
                .find(|j| j.name() == job)
                .with_context(|| format!("unknown job `{job}`"))?;
            let pool = db::lazy_pool(
                &config.database_url,
                2,
                std::time::Duration::from_secs(config.database_acquire_timeout_secs),
            )?;
            let settings = ai_agent::agents::Settings::from_config(&config.agents);
            let report = ai_agent::cron::drain(job, &pool, &settings).await?;
            println!("{}", serde_json::to_string(&report)?);
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
