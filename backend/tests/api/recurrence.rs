//! Completing a recurring task creates its next occurrence exactly once.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, User, json};

async fn complete(user: &User, id: &str) -> Value {
    let res = user.client.post_empty(&format!("/api/v1/tasks/{id}/complete")).await;
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await
}

async fn series_size(app: &TestApp, series: &str) -> i64 {
    let id: uuid::Uuid = series.parse().unwrap();
    sqlx::query_scalar("select count(*) from task where series_id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn completing_a_recurring_task_creates_the_next_one_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user
        .create_task(json!({
            "title": "Water plants", "tags": ["home"], "priority": "high",
            "dueAt": "2099-01-05T09:00:00Z",
            "recurrence": {"frequency": "weekly", "weekdays": ["mon", "thu"]},
        }))
        .await;
    let id = task["id"].as_str().unwrap();
    let done = complete(&user, id).await;
    let next = &done["nextTask"];
    assert_eq!(next["dueAt"], "2099-01-08T09:00:00Z", "Monday → Thursday");
    assert_eq!(next["title"], "Water plants");
    assert_eq!(next["tags"], json!(["home"]));
    assert_eq!(next["priority"], "high");
    assert_eq!(next["seriesId"], task["id"]);
    assert_eq!(next["occurrenceNumber"], 2);
    assert_eq!(next["previousTaskId"], task["id"]);
    assert_eq!(next["completed"], false);

    // Again, and after toggling back and forth: still the same successor.
    assert_eq!(complete(&user, id).await["nextTask"]["id"], next["id"]);
    user.client.post_empty(&format!("/api/v1/tasks/{id}/incomplete")).await;
    assert_eq!(complete(&user, id).await["nextTask"]["id"], next["id"]);
    assert_eq!(series_size(&app, id).await, 2);

    let types: Vec<String> = app.outbox_events(id).await.into_iter().map(|(t, _)| t).collect();
    assert_eq!(types, ["tasks.created", "tasks.completed", "tasks.incomplete", "tasks.completed"]);
    let next_events = app.outbox_events(next["id"].as_str().unwrap()).await;
    assert_eq!(next_events.len(), 1, "one tasks.created for the occurrence");
    assert_eq!(next_events[0].1["recurring"], true);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn concurrent_completions_create_one_occurrence(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user
        .create_task(json!({"title": "Stand-up", "dueAt": "2099-01-05T09:00:00Z", "recurrence": {"frequency": "daily"}}))
        .await;
    let id = task["id"].as_str().unwrap().to_owned();
    let results = join_all((0..8).map(|_| {
        let client = user.client.clone();
        let id = id.clone();
        async move { client.post_empty(&format!("/api/v1/tasks/{id}/complete")).await }
    }))
    .await;
    let mut next_ids = Vec::new();
    for res in results {
        assert_eq!(res.status(), StatusCode::OK);
        next_ids.push(json(res).await["nextTask"]["id"].clone());
    }
    next_ids.dedup();
    assert_eq!(next_ids.len(), 1, "everyone sees the same successor");
    assert_eq!(series_size(&app, &id).await, 2);
    let created: i64 = sqlx::query_scalar("select count(*) from outbox where event_type = 'tasks.created'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(created, 2);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn monthly_dates_clamp_and_return_in_the_users_zone(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    user.client.patch("/api/v1/user/preferences", &json!({"timeZone": "America/New_York"})).await;
    let mut task = user
        .create_task(json!({"title": "Rent", "dueAt": "2099-01-31T09:00:00-05:00", "recurrence": {"frequency": "monthly"}}))
        .await;
    let mut dues = Vec::new();
    for _ in 0..3 {
        let done = complete(&user, task["id"].as_str().unwrap()).await;
        task = done["nextTask"].clone();
        dues.push(task["dueAt"].as_str().unwrap().to_owned());
    }
    // Feb 28 (EST), Mar 31 and Apr 30 (EDT): 09:00 local throughout.
    assert_eq!(dues, ["2099-02-28T14:00:00Z", "2099-03-31T13:00:00Z", "2099-04-30T13:00:00Z"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_series_with_a_count_ends(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let mut task = user
        .create_task(json!({"title": "Course", "dueAt": "2099-01-01T09:00:00Z", "recurrence": {"frequency": "daily", "count": 2}}))
        .await;
    let first = complete(&user, task["id"].as_str().unwrap()).await;
    task = first["nextTask"].clone();
    assert_eq!(task["occurrenceNumber"], 2);
    let last = complete(&user, task["id"].as_str().unwrap()).await;
    assert_eq!(last["nextTask"], Value::Null);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn completion_based_recurrence_counts_from_the_completion(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user
        .create_task(json!({
            "title": "Haircut", "dueAt": "2020-01-01T10:00:00Z",
            "recurrence": {"frequency": "weekly", "interval": 4, "basis": "completion"},
        }))
        .await;
    assert_eq!(task["recurrence"]["basis"], "completion");
    let done = complete(&user, task["id"].as_str().unwrap()).await;
    let next_due: chrono::DateTime<chrono::Utc> =
        done["nextTask"]["dueAt"].as_str().unwrap().parse().unwrap();
    let days = (next_due - chrono::Utc::now()).num_days();
    assert!((26..=28).contains(&days), "four weeks from today, not from 2020: {next_due}");
}
