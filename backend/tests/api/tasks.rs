use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, json, problem, problem_fields};

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_new_task_has_sensible_defaults(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user.create_task(json!({"title": "  Buy milk  "})).await;
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["tags"], json!([]));
    assert_eq!(task["reminders"], json!([]));
    assert_eq!(task["description"], Value::Null);
    assert_eq!(task["dueAt"], Value::Null);
    assert_eq!(task["recurrence"], Value::Null);
    assert_eq!(task["completed"], false);
    assert_eq!(task["isOverdue"], false);
    assert_eq!(task["seriesId"], task["id"]);
    assert_eq!(task["occurrenceNumber"], 1);
    let fetched =
        json(user.client.get(&format!("/api/v1/tasks/{}", task["id"].as_str().unwrap())).await).await;
    assert_eq!(fetched, task);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_full_task_round_trips_and_gets_the_default_reminder(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user
        .create_task(json!({
            "title": "Submit report",
            "description": "Q4 numbers",
            "priority": "urgent",
            "tags": ["Work", "finance"],
            "dueAt": "2099-12-01T17:00:00+01:00",
        }))
        .await;
    assert_eq!(task["priority"], "urgent");
    assert_eq!(task["tags"], json!(["Work", "finance"]));
    assert_eq!(task["dueAt"], "2099-12-01T16:00:00Z");
    assert_eq!(task["reminders"], json!([{"offsetMinutes": 30}]), "the user's default offset");
    let fire_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select fire_at from reminder").fetch_one(&app.db).await.unwrap();
    assert_eq!(fire_at.to_rfc3339(), "2099-12-01T15:30:00+00:00");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_date_alone_is_the_end_of_that_day_in_the_users_zone(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let res = user.client.patch("/api/v1/user/preferences", &json!({"timeZone": "Europe/Berlin"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let task = user.create_task(json!({"title": "Pay rent", "dueAt": "2099-12-01"})).await;
    assert_eq!(task["dueAt"], "2099-12-01T22:59:59Z");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn overdue_is_computed(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let late = user.create_task(json!({"title": "late", "dueAt": "2020-01-01T00:00:00Z"})).await;
    assert_eq!(late["isOverdue"], true);
    let id = late["id"].as_str().unwrap();
    let done = json(user.client.post_empty(&format!("/api/v1/tasks/{id}/complete")).await).await;
    assert_eq!(done["task"]["isOverdue"], false, "a completed task is not overdue");
    let reminders: i64 =
        sqlx::query_scalar("select count(*) from reminder").fetch_one(&app.db).await.unwrap();
    assert_eq!(reminders, 0, "no reminder is scheduled in the past");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn patch_changes_only_the_given_fields_and_null_clears(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user
        .create_task(
            json!({"title": "Draft", "description": "notes", "tags": ["a"], "dueAt": "2099-01-01T10:00:00Z"}),
        )
        .await;
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    let updated = json(user.client.patch(&path, &json!({"priority": "high"})).await).await;
    assert_eq!(updated["priority"], "high");
    for field in ["title", "description", "tags", "dueAt", "reminders"] {
        assert_eq!(updated[field], task[field], "{field} unchanged");
    }
    let cleared =
        json(user.client.patch(&path, &json!({"description": null, "dueAt": null, "tags": null})).await)
            .await;
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["dueAt"], Value::Null);
    assert_eq!(cleared["tags"], json!([]));
    let res = user.client.patch(&path, &json!({"title": null})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["title"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn each_operation_writes_exactly_one_event_of_its_kind(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user
        .create_task(json!({"title": "Plan trip", "priority": "low", "dueAt": "2099-03-01T09:00:00Z"}))
        .await;
    let id = task["id"].as_str().unwrap();
    let path = format!("/api/v1/tasks/{id}");

    user.client.patch(&path, &json!({"priority": "high", "title": "Plan trip"})).await;
    user.client.patch(&path, &json!({"priority": "high"})).await; // changes nothing
    user.client.post_empty(&format!("{path}/complete")).await;
    user.client.post_empty(&format!("{path}/complete")).await; // already done
    user.client.post_empty(&format!("{path}/incomplete")).await;
    user.client.post_empty(&format!("{path}/incomplete")).await; // already open
    assert_eq!(user.client.delete(&path).await.status(), StatusCode::NO_CONTENT);

    let events = app.outbox_events(id).await;
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        ["tasks.created", "tasks.updated", "tasks.completed", "tasks.incomplete", "tasks.deleted"]
    );
    let user_id = user.id.to_string();
    for (event_type, payload) in &events {
        assert_eq!(payload["eventType"], *event_type);
        assert_eq!(payload["taskId"], id);
        assert_eq!(payload["userId"], user_id.as_str());
        assert_eq!(payload["version"], 1);
        assert!(payload["correlationId"].as_str().is_some_and(|c| !c.is_empty()));
        assert!(payload["timestamp"].as_str().is_some());
    }
    let created = &events[0].1;
    assert_eq!(created["title"], "Plan trip");
    assert_eq!(created["priority"], "low");
    assert_eq!(created["dueDate"], "2099-03-01T09:00:00.000Z");
    assert_eq!(created["recurring"], false);
    assert_eq!(
        events[1].1["changes"],
        json!({"priority": {"from": "low", "to": "high"}}),
        "only what changed"
    );
    assert_eq!(events[2].1["nextTaskId"], Value::Null);
    assert_eq!(events[4].1["title"], "Plan trip");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn an_estimate_is_set_changed_cleared_and_checked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user.create_task(json!({"title": "Write summary", "estimateMinutes": 45})).await;
    assert_eq!(task["estimateMinutes"], 45);
    let id = task["id"].as_str().unwrap();
    let path = format!("/api/v1/tasks/{id}");

    let res = user.client.patch(&path, &json!({"estimateMinutes": 90})).await;
    assert_eq!(json(res).await["estimateMinutes"], 90);
    let res = user.client.patch(&path, &json!({"estimateMinutes": null})).await;
    assert_eq!(json(res).await["estimateMinutes"], Value::Null);
    for bad in [json!(0), json!(1441), json!(-5)] {
        let res = user.client.patch(&path, &json!({"estimateMinutes": bad})).await;
        let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&body), ["estimateMinutes"], "{bad}");
    }
    let res = user.client.post("/api/v1/tasks", &json!({"title": "x", "estimateMinutes": 2000})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["estimateMinutes"]);

    let events = app.outbox_events(id).await;
    let changes: Vec<&Value> = events.iter().skip(1).map(|(_, payload)| &payload["changes"]).collect();
    assert_eq!(
        changes,
        [
            &json!({"estimateMinutes": {"from": 45, "to": 90}}),
            &json!({"estimateMinutes": {"from": 90, "to": null}})
        ],
        "each change has its event, naming only the estimate"
    );
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_refused_operation_writes_no_event_and_no_change(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user.create_task(json!({"title": "Keep"})).await;
    let id = task["id"].as_str().unwrap();
    let before = app.outbox_count().await;
    let res = user
        .client
        .patch(&format!("/api/v1/tasks/{id}"), &json!({"title": "", "priority": "critical"}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = user.client.post("/api/v1/tasks", &json!({"title": "x", "tags": ["a", "A"]})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.outbox_count().await, before);
    let tasks: i64 = sqlx::query_scalar("select count(*) from task").fetch_one(&app.db).await.unwrap();
    assert_eq!(tasks, 1);
    let unchanged = json(user.client.get(&format!("/api/v1/tasks/{id}")).await).await;
    assert_eq!(unchanged, task);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn another_users_task_is_not_found_by_any_endpoint(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let owner = app.signed_up().await;
    let other = app.signed_up().await;
    let task = owner.create_task(json!({"title": "private", "dueAt": "2099-01-01T00:00:00Z"})).await;
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    let before = app.outbox_count().await;

    problem(other.client.get(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(
        other.client.patch(&path, &json!({"title": "mine now"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    problem(other.client.post_empty(&format!("{path}/complete")).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    problem(other.client.post_empty(&format!("{path}/incomplete")).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    problem(other.client.delete(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    let missing = other.client.get(&format!("/api/v1/tasks/{}", uuid::Uuid::new_v4())).await;
    let missing = problem(missing, StatusCode::NOT_FOUND, "not_found").await;
    let foreign = json(other.client.get(&path).await).await;
    assert_eq!(missing, foreign, "someone else's task looks exactly like a missing one");

    let list = json(other.client.get("/api/v1/tasks").await).await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(json(owner.client.get(&path).await).await, task, "untouched");
    assert_eq!(app.outbox_count().await, before);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn an_idempotency_key_makes_a_retry_return_the_first_result(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let send = |key: &'static str, title: &'static str| {
        let client = user.client.clone();
        async move {
            client
                .http
                .post(client.url("/api/v1/tasks"))
                .header("idempotency-key", key)
                .json(&json!({"title": title}))
                .send()
                .await
                .unwrap()
        }
    };
    let first = send("key-1", "Once").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = json(first).await;
    let retry = send("key-1", "Once").await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(json(retry).await, first);
    // Concurrent retries race in the database, and still create nothing more.
    let racing = join_all((0..5).map(|_| send("key-2", "Racing"))).await;
    assert!(racing.iter().all(|r| r.status() == StatusCode::CREATED));
    let tasks: i64 = sqlx::query_scalar("select count(*) from task").fetch_one(&app.db).await.unwrap();
    assert_eq!(tasks, 2);
    assert_eq!(app.outbox_count().await, 2);

    let reused = send("key-1", "Something else").await;
    problem(reused, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn malformed_requests_get_problem_responses_not_500s(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let http = &user.client.http;
    let url = user.client.url("/api/v1/tasks");

    let res =
        http.post(&url).header("content-type", "application/json").body("{\"title\": ").send().await.unwrap();
    problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    let res =
        http.post(&url).header("content-type", "text/plain").body("{\"title\":\"x\"}").send().await.unwrap();
    problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let res = http.post(&url).body("{\"title\":\"x\"}").send().await.unwrap();
    problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let big = json!({"title": "x", "description": "y".repeat(70 * 1024)});
    problem(
        http.post(&url).json(&big).send().await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    let deep = format!("{{\"title\": \"x\", \"tags\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    let res = http.post(&url).header("content-type", "application/json").body(deep).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = user.client.get("/api/v1/tasks/not-a-uuid").await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["id"]);
    let res = user.client.post("/api/v1/tasks", &json!({"title": "x", "colour": "red"})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["colour"]);
    let res = http
        .post(&url)
        .header("idempotency-key", "has space")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;
    assert_eq!(app.outbox_count().await, 0);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn reminders_follow_the_due_time_and_stop_on_completion(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user
        .create_task(json!({
            "title": "Dentist",
            "dueAt": "2099-05-01T10:00:00Z",
            "reminders": [{"offsetMinutes": 60}, {"at": "2099-04-30T18:00:00Z"}],
        }))
        .await;
    let id = task["id"].as_str().unwrap();
    let schedule = || async {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "select fire_at from reminder where fired_at is null order by fire_at",
        )
        .fetch_all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(chrono::DateTime::to_rfc3339)
        .collect::<Vec<_>>()
    };
    assert_eq!(schedule().await, ["2099-04-30T18:00:00+00:00", "2099-05-01T09:00:00+00:00"]);
    let fixed_reminder = || async {
        sqlx::query_scalar::<_, uuid::Uuid>(
            "select reminder_id from reminder where fire_at = '2099-04-30T18:00:00Z'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    let before = fixed_reminder().await;
    user.client.patch(&format!("/api/v1/tasks/{id}"), &json!({"dueAt": "2099-05-02T10:00:00Z"})).await;
    assert_eq!(schedule().await, ["2099-04-30T18:00:00+00:00", "2099-05-02T09:00:00+00:00"]);
    assert_eq!(fixed_reminder().await, before, "a reminder whose time stays is kept, not replaced");
    user.client.post_empty(&format!("/api/v1/tasks/{id}/complete")).await;
    assert!(schedule().await.is_empty());
    user.client.post_empty(&format!("/api/v1/tasks/{id}/incomplete")).await;
    assert_eq!(schedule().await.len(), 2);
    user.client.delete(&format!("/api/v1/tasks/{id}")).await;
    assert!(schedule().await.is_empty());
}
