//! `GET /metrics`: the Prometheus exposition moves with traffic.
//!
//! The metrics recorder is global to the test process and every test's app shares it, so these
//! tests compare a series before and after their own traffic and only assert that it grew
//! (other tests running at the same time can only make it grow more).

use std::{sync::Arc, time::Duration};

use events::TOPIC;
use platform::metrics::sample;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{Client, TestApp, eventually};

async fn scrape(client: &Client) -> String {
    let res = client.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    res.text().await.unwrap()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn metrics_count_requests_by_route_template_and_status(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let anonymous = app.client();
    let before = scrape(&anonymous).await;
    let created = |text: &str| {
        sample(
            text,
            "http_requests_total",
            &[("route", "/api/v1/tasks"), ("method", "POST"), ("status", "201")],
        )
    };
    let not_found = |text: &str| {
        sample(
            text,
            "http_requests_total",
            &[("route", "/api/v1/tasks/{id}"), ("method", "GET"), ("status", "404")],
        )
    };
    let user = app.signed_up().await;
    user.create_task(json!({"title": "Counted"})).await;
    user.create_task(json!({"title": "Counted too"})).await;
    let res = user.client.get(&format!("/api/v1/tasks/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let after = scrape(&anonymous).await;
    assert!(created(&after) >= created(&before) + 2.0, "{after}");
    assert!(not_found(&after) >= not_found(&before) + 1.0, "{after}");
    // Templates, never raw paths with ids in them.
    assert!(!after.contains("/api/v1/tasks/0"), "raw ids leaked into labels");
    let latency = |text: &str| {
        sample(text, "http_request_duration_seconds_count", &[("route", "/api/v1/tasks"), ("status", "201")])
    };
    assert!(latency(&after) >= latency(&before) + 2.0);
    assert!(after.contains("http_request_duration_seconds_bucket{"), "latency is a histogram");
    assert!(sample(&after, "db_pool_max_connections", &[]) > 0.0);
    assert!(after.contains("db_pool_idle_connections"));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn metrics_follow_the_outbox_relay(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    let before = scrape(&client).await;
    let user = app.signed_up().await;
    user.create_task(json!({"title": "Relayed"})).await;
    app.dapr.wait_for(TOPIC, 1, Duration::from_secs(10)).await.unwrap();
    let published = |text: &str| sample(text, "outbox_events_published_total", &[]);
    let publish_latency = |text: &str| sample(text, "outbox_publish_duration_seconds_count", &[]);
    let after = eventually(Duration::from_secs(10), || {
        let client = client.clone();
        let before = before.clone();
        async move {
            let text = scrape(&client).await;
            (published(&text) > published(&before)).then_some(text)
        }
    })
    .await
    .expect("the publish is counted");
    assert!(publish_latency(&after) > publish_latency(&before));
    // The relay samples the backlog at least once a second.
    assert!(after.contains("outbox_backlog_events "), "{after}");
    assert!(after.contains("outbox_oldest_unpublished_age_seconds "), "{after}");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn publish_failures_are_counted(db: PgPool) {
    let dapr = Arc::new(dapr_emulator::Emulator::builder().start().await.unwrap());
    dapr.set_broker_down(true);
    let app = TestApp::spawn_with_dapr(db, Arc::clone(&dapr), |_| {}).await;
    let client = app.client();
    let failures = |text: &str| sample(text, "outbox_publish_failures_total", &[]);
    let before = scrape(&client).await;
    let user = app.signed_up().await;
    user.create_task(json!({"title": "Waits"})).await;
    let grew = eventually(Duration::from_secs(10), || {
        let client = client.clone();
        let before = before.clone();
        async move {
            let text = scrape(&client).await;
            (failures(&text) > failures(&before) && sample(&text, "outbox_backlog_events", &[]) >= 1.0)
                .then_some(())
        }
    })
    .await;
    assert!(grew.is_some(), "failures and the backlog show while the sidecar is down");
}
