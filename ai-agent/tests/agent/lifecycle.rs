//! The process around the handlers: start-up, the cron wiring, graceful shutdown.

use std::time::Duration;

use ai_agent::AppState;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::{RunningAgent, TaskSeed, ago, config, from_now, reminder, task, user};

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_scheduled_passes_run_and_the_service_stops_cleanly(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(from_now(60))).await;
    let due = reminder(&db, task, user, ago(1)).await;
    let mut config = config();
    config.agents.cron_enabled = true;
    config.agents.reminder_schedule = "* * * * * *".into();
    let agent = RunningAgent::start(AppState::new(db.clone(), config)).await;
    let health = reqwest::get(format!("{}/health", agent.url)).await.unwrap();
    assert!(health.status().is_success());

    // The one wiring test that waits: the scheduler fires every second.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let fired: Option<DateTime<Utc>> =
            sqlx::query_scalar("select fired_at from reminder where reminder_id = $1")
                .bind(due)
                .fetch_one(&db)
                .await
                .unwrap();
        if fired.is_some() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the reminder pass never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.stop().await;
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_invalid_schedule_fails_start_up(db: PgPool) {
    let mut config = config();
    config.agents.cron_enabled = true;
    config.agents.overdue_schedule = "every tuesday".into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = CancellationToken::new();
    let error = ai_agent::run(config, db, listener, shutdown.clone()).await.expect_err("a bad schedule");
    assert!(format!("{error:#}").contains("invalid schedule `every tuesday`"), "{error:#}");
    assert!(shutdown.is_cancelled(), "the HTTP server was stopped too");
}
