use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestApp, json, problem, problem_fields};

/// The working-hours part of every answer below: the defaults, unchanged.
fn default_work() -> serde_json::Value {
    json!({"workDays": ["mon", "tue", "wed", "thu", "fri"], "workStart": "09:00", "workEnd": "17:00",
           "dailyPlanSize": 5})
}

fn with_work(mut prefs: serde_json::Value, work: serde_json::Value) -> serde_json::Value {
    let serde_json::Value::Object(work) = work else { panic!("working hours are an object") };
    prefs.as_object_mut().unwrap().extend(work);
    prefs
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn preferences_start_at_the_defaults_and_change_field_by_field(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let prefs = json(user.client.get("/api/v1/user/preferences").await).await;
    assert_eq!(
        prefs,
        with_work(
            json!({"autonomousAgentsEnabled": true, "reminderOffsetMinutes": 30, "timeZone": "UTC"}),
            default_work()
        )
    );
    let res = user.client.patch("/api/v1/user/preferences", &json!({"autonomousAgentsEnabled": false})).await;
    assert_eq!(
        json(res).await,
        with_work(
            json!({"autonomousAgentsEnabled": false, "reminderOffsetMinutes": 30, "timeZone": "UTC"}),
            default_work()
        )
    );
    let res = user
        .client
        .patch("/api/v1/user/preferences", &json!({"reminderOffsetMinutes": 90, "timeZone": "Asia/Tokyo"}))
        .await;
    assert_eq!(
        json(res).await,
        with_work(
            json!({"autonomousAgentsEnabled": false, "reminderOffsetMinutes": 90, "timeZone": "Asia/Tokyo"}),
            default_work()
        )
    );
    let task = user.create_task(json!({"title": "x", "dueAt": "2099-01-01T12:00:00Z"})).await;
    assert_eq!(task["reminders"], json!([{"offsetMinutes": 90}]), "new tasks use the new default");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn working_days_and_hours_change_and_are_checked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let path = "/api/v1/user/preferences";
    let res = user
        .client
        .patch(
            path,
            &json!({"workDays": ["sun", "sat", "sun"], "workStart": "07:30", "workEnd": "12:15", "dailyPlanSize": 0}),
        )
        .await;
    let prefs = json(res).await;
    assert_eq!(prefs["workDays"], json!(["sat", "sun"]), "a set, Monday first");
    assert_eq!((prefs["workStart"].as_str(), prefs["workEnd"].as_str()), (Some("07:30"), Some("12:15")));
    assert_eq!(prefs["dailyPlanSize"], 0, "0 turns the plan off");

    // Each field alone; the end alone may not cross the stored start, nor the start the end.
    let res = user.client.patch(path, &json!({"workEnd": "07:00"})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["workEnd"]);
    let res = user.client.patch(path, &json!({"workStart": "13:00"})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["workStart"]);
    let res = user.client.patch(path, &json!({"workStart": "18:00", "workEnd": "08:00"})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["workEnd"]);
    let res =
        user.client.patch(path, &json!({"workStart": "9:00", "workEnd": "24:00", "dailyPlanSize": 21})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["workStart", "workEnd", "dailyPlanSize"]);
    let res = user.client.patch(path, &json!({"workDays": ["monday"]})).await;
    problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;

    let prefs = json(user.client.get(path).await).await;
    assert_eq!(
        (prefs["workDays"].clone(), prefs["workStart"].clone(), prefs["workEnd"].clone()),
        (json!(["sat", "sun"]), json!("07:30"), json!("12:15")),
        "nothing of the refused requests was applied"
    );
    let res = user.client.patch(path, &json!({"workDays": []})).await;
    assert_eq!(json(res).await["workDays"], json!([]), "no working days at all is allowed");
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
