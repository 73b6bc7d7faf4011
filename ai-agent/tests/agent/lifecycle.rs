//! The process around the handlers: start-up, the cron wiring, graceful shutdown.

use std::time::Duration;

use ai_agent::AppState;
use chrono::{DateTime, Utc};
use events::Priority;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{RunningAgent, TaskSeed, ago, config, from_now, reminder, suggestions, task, user};

/// Generous: only reached when a test is about to fail anyway.
const CEILING: Duration = Duration::from_secs(30);

/// Whether each pass has done its part, polled from the database.
#[derive(Debug, Default, PartialEq)]
#[expect(clippy::struct_excessive_bools, reason = "one flag per independent pass, compared as a whole")]
struct Seen {
    reminder_fired: bool,
    overdue_warned: bool,
    priority_advised: bool,
    old_ids_purged: bool,
}

async fn has_suggestion(db: &PgPool, user: Uuid, kind: &str, task: Uuid) -> bool {
    suggestions(db, user).await.iter().any(|s| s.kind == kind && s.task_id == Some(task))
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_scheduled_passes_run_and_the_service_stops_cleanly(db: PgPool) {
    // Work for each pass, for a user of its own, so one pass's effect cannot stand in for
    // another's.
    let reminded = user(&db).await;
    let reminded_task = task(&db, reminded, TaskSeed::due(from_now(60)).priority(Priority::Urgent)).await;
    let due = reminder(&db, reminded_task, reminded, ago(1)).await;
    let late = user(&db).await;
    let late_task = task(&db, late, TaskSeed::due(ago(30))).await;
    let busy = user(&db).await;
    let low_but_soon = task(&db, busy, TaskSeed::due(from_now(20 * 60)).priority(Priority::Low)).await;
    sqlx::query(
        "insert into processed_event (consumer, event_id, event_type, processed_at)
         values ($1, 'long-ago', 'tasks.created', now() - interval '30 days')",
    )
    .bind(ai_agent::consumer::CONSUMER)
    .execute(&db)
    .await
    .unwrap();

    let mut config = config();
    config.agents.cron_enabled = true;
    config.agents.reminder_schedule = "* * * * * *".into();
    config.agents.overdue_schedule = "* * * * * *".into();
    config.agents.priority_schedule = "* * * * * *".into();
    config.agents.housekeeping_schedule = "* * * * * *".into();
    let agent = RunningAgent::start(AppState::new(db.clone(), config)).await;
    let health = reqwest::get(format!("{}/health", agent.url)).await.unwrap();
    assert!(health.status().is_success());

    // The one wiring test that waits: the scheduler fires every second.
    let deadline = tokio::time::Instant::now() + CEILING;
    let every =
        Seen { reminder_fired: true, overdue_warned: true, priority_advised: true, old_ids_purged: true };
    loop {
        let fired: Option<DateTime<Utc>> =
            sqlx::query_scalar("select fired_at from reminder where reminder_id = $1")
                .bind(due)
                .fetch_one(&db)
                .await
                .unwrap();
        let seen = Seen {
            reminder_fired: fired.is_some(),
            overdue_warned: has_suggestion(&db, late, "schedule_adjustment", late_task).await,
            priority_advised: has_suggestion(&db, busy, "priority", low_but_soon).await,
            old_ids_purged: sqlx::query_scalar::<_, i64>(
                "select count(*) from processed_event where event_id = 'long-ago'",
            )
            .fetch_one(&db)
            .await
            .unwrap()
                == 0,
        };
        if seen == every {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not every scheduled pass ran: {seen:?}");
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

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn each_cron_period_is_claimed_by_exactly_one_replica(db: PgPool) {
    let start = Utc::now();
    let mut winners = Vec::new();
    for tick in 0..20 {
        let period = start + chrono::TimeDelta::seconds(tick);
        // Four replicas' ticks for the same period, at once.
        let claim = || ai_agent::db::cron::claim_period(&db, "overdue", period);
        let (a, b, c, d) = tokio::join!(claim(), claim(), claim(), claim());
        winners.push([a, b, c, d].into_iter().map(Result::unwrap).filter(|&won| won).count());
    }
    assert!(winners.iter().all(|&n| n == 1), "{winners:?}");
    // A late tick of an earlier period runs nowhere; another job's periods are its own.
    assert!(!ai_agent::db::cron::claim_period(&db, "overdue", start).await.unwrap());
    assert!(ai_agent::db::cron::claim_period(&db, "housekeeping", start).await.unwrap());
}
