//! `GET /metrics`: deliveries, suggestions, dead letters and cron passes move their series.
//!
//! The recorder is global to the test process, so each assertion compares a scrape before and
//! after this test's own work and only asks that the series grew.

use ai_agent::cron::{CronJob, tick};
use axum::{body::Body, http::Request};
use platform::metrics::sample;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{
    TaskSeed, ago, created_for, deliver, deliver_event, post_raw, send, settings, state, task, user,
};

async fn scrape(state: &ai_agent::AppState) -> String {
    let answer =
        send(ai_agent::app(state.clone()), Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.body.as_str().expect("the text exposition").to_owned()
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn deliveries_suggestions_dead_letters_and_passes_are_counted(db: PgPool) {
    let state = state(&db);
    let before = scrape(&state).await;
    let processed = |text: &str, outcome: &str| {
        sample(text, "agent_events_processed_total", &[("event_type", "tasks.created"), ("outcome", outcome)])
    };
    let dropped = |text: &str| sample(text, "agent_events_processed_total", &[("outcome", "dropped")]);
    let overdue_created =
        |text: &str| sample(text, "agent_suggestions_created_total", &[("kind", "schedule_adjustment")]);
    let duration = |text: &str| {
        sample(text, "agent_event_processing_duration_seconds_count", &[("event_type", "tasks.created")])
    };
    let dead_letters = |text: &str| sample(text, "agent_dead_letters_total", &[]);
    let passes = |text: &str| sample(text, "agent_cron_pass_duration_seconds_count", &[("job", "overdue")]);
    let deliveries = |text: &str| {
        sample(text, "http_requests_total", &[("route", "/events/tasks-lifecycle"), ("status", "200")])
    };

    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(30))).await;
    let event = created_for(&db, task).await;
    assert_eq!(deliver_event(&state, &event).await, "SUCCESS");
    assert_eq!(deliver_event(&state, &event).await, "SUCCESS");
    assert_eq!(deliver(&state, &json!({"not": "a cloud event"})).await, "DROP");
    let letter = json!({"id": uuid::Uuid::now_v7().to_string(), "specversion": "1.0", "source": "x",
                        "type": "tasks.created", "data": {"garbage": true}});
    assert_eq!(post_raw(&state, "/events/dead-letters", letter.to_string()).await.dapr_status(), "SUCCESS");
    tick(CronJob::Overdue, &db, &settings()).await;

    let after = scrape(&state).await;
    assert!(processed(&after, "suggestion_created") > processed(&before, "suggestion_created"), "{after}");
    assert!(processed(&after, "duplicate") > processed(&before, "duplicate"), "{after}");
    assert!(dropped(&after) > dropped(&before), "{after}");
    assert!(overdue_created(&after) > overdue_created(&before), "{after}");
    assert!(duration(&after) >= duration(&before) + 2.0, "{after}");
    assert!(dead_letters(&after) > dead_letters(&before), "{after}");
    assert!(passes(&after) > passes(&before), "{after}");
    assert!(deliveries(&after) >= deliveries(&before) + 3.0, "{after}");
    assert!(sample(&after, "db_pool_max_connections", &[]) > 0.0, "{after}");
}
