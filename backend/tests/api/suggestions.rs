//! Reading and resolving the assistants' suggestions.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestApp, User, json, problem, problem_fields};

/// Inserts a suggestion as an assistant would.
pub async fn suggest(
    app: &TestApp,
    user: &User,
    task: Option<&Value>,
    kind: &str,
    change: Option<Value>,
    expires_in: &str,
) -> String {
    let task_id: Option<Uuid> = task.map(|t| t["id"].as_str().unwrap().parse().unwrap());
    let id: Uuid = sqlx::query_scalar(
        "insert into suggestion (suggestion_id, user_id, task_id, kind, title, message, proposed_change, dedupe_key, expires_at)
         values (gen_random_uuid(), $1, $2, $3, 'A suggestion', 'Because', $4, gen_random_uuid()::text, now() + $5::interval)
         returning suggestion_id",
    )
    .bind(user.id)
    .bind(task_id)
    .bind(kind)
    .bind(change)
    .bind(expires_in)
    .fetch_one(&app.db)
    .await
    .unwrap();
    id.to_string()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn open_suggestions_are_listed_newest_first_with_counts(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = app.signed_up().await;
    let task = user.create_task(json!({"title": "Report", "dueAt": "2020-01-01T00:00:00Z"})).await;
    let first = suggest(&app, &user, Some(&task), "overdue", None, "7 days").await;
    let second =
        suggest(&app, &user, Some(&task), "priority", Some(json!({"priority": "high"})), "7 days").await;
    suggest(&app, &user, None, "overload", None, "-1 hour").await; // expired
    suggest(&app, &other, None, "stale", None, "7 days").await;

    let list = json(user.client.get("/api/v1/suggestions").await).await;
    let ids: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.as_str(), first.as_str()]);
    assert_eq!(list["openCounts"], json!({"overdue": 1, "priority": 1}));
    assert_eq!(list["items"][0]["proposedChange"], json!({"priority": "high"}));
    assert_eq!(list["items"][0]["taskId"], task["id"]);
    let expired = json(user.client.get("/api/v1/suggestions?status=expired").await).await;
    assert_eq!(expired["items"].as_array().unwrap().len(), 1);
    let all = json(user.client.get("/api/v1/suggestions?status=all").await).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3, "never another user's");
    let res = user.client.get("/api/v1/suggestions?status=later").await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["status"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn accepting_applies_the_proposed_change_with_its_event(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user.create_task(json!({"title": "Report", "priority": "low"})).await;
    let id =
        suggest(&app, &user, Some(&task), "priority", Some(json!({"priority": "urgent"})), "7 days").await;
    let accepted = json(user.client.post_empty(&format!("/api/v1/suggestions/{id}/accept")).await).await;
    assert_eq!(accepted["status"], "accepted");
    assert!(accepted["resolvedAt"].is_string());
    let task_now =
        json(user.client.get(&format!("/api/v1/tasks/{}", task["id"].as_str().unwrap())).await).await;
    assert_eq!(task_now["priority"], "urgent");
    let events = app.outbox_events(task["id"].as_str().unwrap()).await;
    assert_eq!(events.last().unwrap().1["changes"], json!({"priority": {"from": "low", "to": "urgent"}}));

    let again = user.client.post_empty(&format!("/api/v1/suggestions/{id}/accept")).await;
    problem(again, StatusCode::CONFLICT, "suggestion_resolved").await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn dismissing_changes_nothing_else_and_is_private(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = app.signed_up().await;
    let task = user.create_task(json!({"title": "Report", "priority": "low"})).await;
    let id = suggest(&app, &user, Some(&task), "priority", Some(json!({"priority": "high"})), "7 days").await;
    let before = app.outbox_count().await;
    problem(
        other.client.post_empty(&format!("/api/v1/suggestions/{id}/dismiss")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    problem(
        other.client.post_empty(&format!("/api/v1/suggestions/{id}/accept")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let dismissed = json(user.client.post_empty(&format!("/api/v1/suggestions/{id}/dismiss")).await).await;
    assert_eq!(dismissed["status"], "dismissed");
    assert_eq!(app.outbox_count().await, before, "no task change");
    let expired = suggest(&app, &user, Some(&task), "stale", None, "-1 minute").await;
    let res = user.client.post_empty(&format!("/api/v1/suggestions/{expired}/accept")).await;
    let body = problem(res, StatusCode::CONFLICT, "suggestion_resolved").await;
    assert!(body["detail"].as_str().unwrap().contains("expired"));
}
