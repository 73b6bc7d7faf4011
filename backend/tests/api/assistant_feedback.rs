//! Restraint as the user sees it: what their answers taught the assistants, per kind of advice,
//! and resuming a paused kind.

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

use crate::{
    helpers::{TestApp, User, json, problem, problem_fields},
    suggestions::suggest,
};

async fn feedback(user: &User) -> Vec<Value> {
    let body = json(user.client.get("/api/v1/assistant/feedback").await).await;
    body["items"].as_array().unwrap().clone()
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> &'a Value {
    items.iter().find(|item| item["kind"] == kind).unwrap()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn three_dismissals_pause_a_kind_until_the_user_resumes_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = app.signed_up().await;
    let accepted = suggest(&app, &user, None, "stale", None, "7 days").await;
    assert_eq!(user.client.post_empty(&format!("/api/v1/suggestions/{accepted}/accept")).await.status(), 200);
    for _ in 0..3 {
        let id = suggest(&app, &user, None, "priority", None, "7 days").await;
        let res = user.client.post_empty(&format!("/api/v1/suggestions/{id}/dismiss")).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    let items = feedback(&user).await;
    let kinds: Vec<&str> = items.iter().map(|item| item["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["overdue", "priority", "overload", "stale", "schedule_adjustment", "daily_plan"]);
    let priority = of_kind(&items, "priority");
    assert_eq!(priority["dismissedInARow"], 3);
    assert_eq!(priority["dismissed"], 3);
    let until: chrono::DateTime<chrono::Utc> = priority["pausedUntil"].as_str().unwrap().parse().unwrap();
    let hours = (until - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.0..=24.0).contains(&hours), "paused for a day, not {hours} h");
    assert_eq!(of_kind(&items, "stale")["accepted"], 1);
    assert_eq!(of_kind(&items, "stale")["pausedUntil"], Value::Null);

    // Another user neither sees nor resets it.
    assert!(
        feedback(&other).await.iter().all(|item| item["dismissed"] == 0 && item["pausedUntil"].is_null())
    );
    let theirs = json(other.client.delete("/api/v1/assistant/feedback/priority").await).await;
    assert_eq!(theirs["dismissedInARow"], 0);
    assert!(of_kind(&feedback(&user).await, "priority")["pausedUntil"].is_string());

    let resumed = json(user.client.delete("/api/v1/assistant/feedback/priority").await).await;
    assert_eq!(resumed["pausedUntil"], Value::Null);
    assert_eq!(resumed["dismissedInARow"], 0);
    assert_eq!(resumed["dismissed"], 3, "the totals stay");
    assert_eq!(of_kind(&feedback(&user).await, "priority")["pausedUntil"], Value::Null);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn resetting_names_the_kind_when_it_is_not_a_kind_of_advice(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    for kind in ["reminder", "everything"] {
        let res = user.client.delete(&format!("/api/v1/assistant/feedback/{kind}")).await;
        let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&body), ["kind"]);
    }
    let anonymous = app.client();
    let res = anonymous.get("/api/v1/assistant/feedback").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
