//! Each validation rule of a task, through the API: a 400 naming the field, nothing written.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, problem, problem_fields};

fn cases() -> Vec<(Value, Vec<&'static str>)> {
    let tags21: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let reminders6: Vec<Value> = (0..6).map(|i| json!({"offsetMinutes": i})).collect();
    vec![
        (json!({}), vec!["title"]),
        (json!({"title": ""}), vec!["title"]),
        (json!({"title": "   "}), vec!["title"]),
        (json!({"title": "x".repeat(201)}), vec!["title"]),
        (json!({"title": "two\nlines"}), vec!["title"]),
        (json!({"title": 42}), vec!["title"]),
        (json!({"title": "x", "description": "d".repeat(5001)}), vec!["description"]),
        (json!({"title": "x", "priority": "critical"}), vec!["priority"]),
        (json!({"title": "x", "tags": tags21}), vec!["tags"]),
        (json!({"title": "x", "tags": ["ok", ""]}), vec!["tags[1]"]),
        (json!({"title": "x", "tags": ["t".repeat(51)]}), vec!["tags[0]"]),
        (json!({"title": "x", "tags": ["Home", "home"]}), vec!["tags[1]"]),
        (json!({"title": "x", "tags": "work"}), vec!["tags"]),
        (json!({"title": "x", "dueAt": "next friday"}), vec!["dueAt"]),
        (json!({"title": "x", "dueAt": "2026-02-30"}), vec!["dueAt"]),
        (json!({"title": "x", "recurrence": {"frequency": "daily"}}), vec!["recurrence"]),
        (
            json!({"title": "x", "dueAt": "2099-01-01", "recurrence": {"frequency": "hourly"}}),
            vec!["recurrence.frequency"],
        ),
        (
            json!({"title": "x", "dueAt": "2099-01-01", "recurrence": {"frequency": "daily", "interval": 0}}),
            vec!["recurrence.interval"],
        ),
        (
            json!({"title": "x", "dueAt": "2099-01-01", "recurrence": {"frequency": "daily", "weekdays": ["mon"]}}),
            vec!["recurrence.weekdays"],
        ),
        (
            json!({"title": "x", "dueAt": "2099-01-01", "recurrence": {"frequency": "monthly", "nthWeekday": {"week": 5, "weekday": "tue"}}}),
            vec!["recurrence.nthWeekday.week"],
        ),
        (
            json!({"title": "x", "dueAt": "2099-01-01", "recurrence": {"frequency": "daily", "count": 3, "until": "2099-02-01"}}),
            vec!["recurrence.count"],
        ),
        (json!({"title": "x", "reminders": reminders6}), vec!["reminders"]),
        (json!({"title": "x", "reminders": [{"offsetMinutes": 50000}]}), vec!["reminders[0].offsetMinutes"]),
        (
            json!({"title": "x", "reminders": [{"offsetMinutes": 5}, {"offsetMinutes": 5}]}),
            vec!["reminders[1]"],
        ),
        (json!({"title": "x", "reminders": [{"offsetMinutes": -5}]}), vec!["reminders[0]"]),
        (json!({"title": "", "priority": "nope", "tags": [""]}), vec!["priority"]),
        (json!({"title": "", "tags": [""], "dueAt": "soon"}), vec!["title", "tags[0]", "dueAt"]),
    ]
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn every_rule_is_a_400_naming_the_field(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    for (body, fields) in cases() {
        let res = user.client.post("/api/v1/tasks", &body).await;
        let problem = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&problem), fields, "for {body}");
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())),
            "{problem}"
        );
    }
    let tasks: i64 = sqlx::query_scalar("select count(*) from task").fetch_one(&app.db).await.unwrap();
    assert_eq!(tasks, 0);
    assert_eq!(app.outbox_count().await, 0);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_same_rules_hold_for_patch(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user
        .create_task(
            json!({"title": "x", "dueAt": "2099-01-01T00:00:00Z", "recurrence": {"frequency": "daily"}}),
        )
        .await;
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    for (patch, field) in [
        (json!({"title": ""}), "title"),
        (json!({"priority": null}), "priority"),
        (json!({"tags": ["a", "A"]}), "tags[1]"),
        (json!({"dueAt": null}), "recurrence"),
        (json!({"dueAt": "tomorrow"}), "dueAt"),
        (json!({"completed": true}), "completed"),
    ] {
        let res = user.client.patch(&path, &patch).await;
        let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&body), [field], "for {patch}");
    }
    assert_eq!(app.outbox_count().await, 1, "only the create wrote an event");
}
