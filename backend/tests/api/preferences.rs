use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestApp, json, problem, problem_fields};

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn preferences_start_at_the_defaults_and_change_field_by_field(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let prefs = json(user.client.get("/api/v1/user/preferences").await).await;
    assert_eq!(
        prefs,
        json!({"autonomousAgentsEnabled": true, "reminderOffsetMinutes": 30, "timeZone": "UTC"})
    );
    let res = user.client.patch("/api/v1/user/preferences", &json!({"autonomousAgentsEnabled": false})).await;
    assert_eq!(
        json(res).await,
        json!({"autonomousAgentsEnabled": false, "reminderOffsetMinutes": 30, "timeZone": "UTC"})
    );
    let res = user
        .client
        .patch("/api/v1/user/preferences", &json!({"reminderOffsetMinutes": 90, "timeZone": "Asia/Tokyo"}))
        .await;
    assert_eq!(
        json(res).await,
        json!({"autonomousAgentsEnabled": false, "reminderOffsetMinutes": 90, "timeZone": "Asia/Tokyo"})
    );
    let task = user.create_task(json!({"title": "x", "dueAt": "2099-01-01T12:00:00Z"})).await;
    assert_eq!(task["reminders"], json!([{"offsetMinutes": 90}]), "new tasks use the new default");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn invalid_preferences_are_refused_whole(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let res = user
        .client
        .patch(
            "/api/v1/user/preferences",
            &json!({"timeZone": "Mars/Base", "reminderOffsetMinutes": -1, "autonomousAgentsEnabled": false}),
        )
        .await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["reminderOffsetMinutes", "timeZone"]);
    let res = user.client.patch("/api/v1/user/preferences", &json!({"autonomousAgentsEnabled": "yes"})).await;
    problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    let prefs = json(user.client.get("/api/v1/user/preferences").await).await;
    assert_eq!(prefs["autonomousAgentsEnabled"], true, "nothing of the refused request was applied");
}
