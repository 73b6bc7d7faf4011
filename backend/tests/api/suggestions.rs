//! Reading and resolving the assistants' suggestions.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use platform::metrics::sample;
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

/// Inserts a suggestion covering several tasks as the agent would: `items` are (task, change,
/// reason) in display order.
async fn suggest_items(
    app: &TestApp,
    user: &User,
    kind: &str,
    title: &str,
    items: &[(&Value, Value, &str)],
) -> String {
    let id: Uuid = sqlx::query_scalar(
        "insert into suggestion (suggestion_id, user_id, kind, title, message, reason, dedupe_key, expires_at)
         values (gen_random_uuid(), $1, $2, $3, 'These are late', 'Three tasks are overdue', gen_random_uuid()::text, now() + interval '1 day')
         returning suggestion_id",
    )
    .bind(user.id)
    .bind(kind)
    .bind(title)
    .fetch_one(&app.db)
    .await
    .unwrap();
    for (ordinal, (task, change, reason)) in items.iter().enumerate() {
        sqlx::query(
            "insert into suggestion_item (suggestion_id, task_id, ordinal, proposed_change, reason)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(task_id(task))
        .bind(i16::try_from(ordinal).unwrap())
        .bind(change)
        .bind(reason)
        .execute(&app.db)
        .await
        .unwrap();
    }
    id.to_string()
}

fn task_id(task: &Value) -> Uuid {
    task["id"].as_str().unwrap().parse().unwrap()
}

async fn due_of(user: &User, task: &Value) -> Option<DateTime<Utc>> {
    let now = json(user.client.get(&format!("/api/v1/tasks/{}", task_id(task))).await).await;
    now["dueAt"].as_str().map(|d| d.parse().unwrap())
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().unwrap()
}

async fn overdue_task(user: &User, title: &str) -> Value {
    user.create_task(json!({"title": title, "dueAt": "2020-01-01T09:00:00Z"})).await
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_reschedule_is_accepted_as_proposed_or_for_another_day(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let report = overdue_task(&user, "Report").await;
    let taxes = overdue_task(&user, "Taxes").await;
    let proposal = json!({"dueAt": "2030-01-02T09:00:00Z"});
    let first =
        suggest(&app, &user, Some(&report), "schedule_adjustment", Some(proposal.clone()), "7 days").await;
    let second = suggest(&app, &user, Some(&taxes), "schedule_adjustment", Some(proposal), "7 days").await;

    let list = json(user.client.get("/api/v1/suggestions").await).await;
    assert_eq!(list["items"][0]["items"], json!([]), "a single-task proposal has no items");

    let accepted = json(user.client.post_empty(&format!("/api/v1/suggestions/{first}/accept")).await).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(due_of(&user, &report).await, Some(at("2030-01-02T09:00:00Z")));
    let events = app.outbox_events(&task_id(&report).to_string()).await;
    assert_eq!(events.last().unwrap().0, "tasks.updated");
    assert!(events.last().unwrap().1["changes"]["dueDate"].is_object(), "{:?}", events.last());

    let res = user
        .client
        .post(&format!("/api/v1/suggestions/{second}/accept"), &json!({"dueAt": "2030-01-05T14:30:00Z"}))
        .await;
    assert_eq!(json(res).await["status"], "accepted");
    assert_eq!(
        due_of(&user, &taxes).await,
        Some(at("2030-01-05T14:30:00Z")),
        "the day picked, not the proposal"
    );
    let events = app.outbox_events(&task_id(&taxes).to_string()).await;
    assert!(events.last().unwrap().1["changes"]["dueDate"].is_object());
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn another_day_replaces_only_a_proposed_due_time_and_must_be_a_time(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = overdue_task(&user, "Report").await;
    let priority =
        suggest(&app, &user, Some(&task), "priority", Some(json!({"priority": "high"})), "7 days").await;
    let res = user
        .client
        .post(&format!("/api/v1/suggestions/{priority}/accept"), &json!({"dueAt": "2030-01-05T14:30:00Z"}))
        .await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["dueAt"]);

    let reschedule = suggest(
        &app,
        &user,
        Some(&task),
        "schedule_adjustment",
        Some(json!({"dueAt": "2030-01-02T09:00:00Z"})),
        "7 days",
    )
    .await;
    let url = format!("/api/v1/suggestions/{reschedule}/accept");
    for bad in [json!({"dueAt": "someday"}), json!({"dueAt": null}), json!({})] {
        let body =
            problem(user.client.post(&url, &bad).await, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&body), ["dueAt"], "{bad}");
    }
    let body = problem(
        user.client.post(&url, &json!({"due": "2030-01-05"})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("due"), "{body}");
    assert_eq!(due_of(&user, &task).await, Some(at("2020-01-01T09:00:00Z")), "nothing applied");
    let list = json(user.client.get("/api/v1/suggestions").await).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "both still open");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn accepting_a_grouped_reschedule_moves_every_open_task_and_skips_completed_ones(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let a = overdue_task(&user, "Alpha").await;
    let b = overdue_task(&user, "Beta").await;
    let c = overdue_task(&user, "Gamma").await;
    let id = suggest_items(
        &app,
        &user,
        "schedule_adjustment",
        "Spread 3 overdue tasks over the next 2 days",
        &[
            (&b, json!({"dueAt": "2030-01-02T09:00:00Z"}), "Two days late"),
            (&a, json!({"dueAt": "2030-01-02T11:00:00Z"}), "A week late"),
            (&c, json!({"dueAt": "2030-01-03T09:00:00Z"}), "Late and low priority"),
        ],
    )
    .await;
    let list = json(user.client.get("/api/v1/suggestions").await).await;
    let listed = &list["items"][0];
    assert_eq!(listed["reason"], "Three tasks are overdue");
    assert_eq!(listed["taskId"], Value::Null);
    let titles: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|i| i["taskTitle"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Beta", "Alpha", "Gamma"], "in the agent's order");
    assert_eq!(listed["items"][0]["proposedChange"], json!({"dueAt": "2030-01-02T09:00:00Z"}));
    assert_eq!(listed["items"][0]["reason"], "Two days late");
    assert_eq!(listed["items"][0]["status"], "open");

    let done = user.client.post_empty(&format!("/api/v1/tasks/{}/complete", task_id(&a))).await;
    assert!(done.status().is_success());
    let events_of_a = app.outbox_events(&task_id(&a).to_string()).await.len();

    let accepted = json(user.client.post_empty(&format!("/api/v1/suggestions/{id}/accept")).await).await;
    assert_eq!(accepted["status"], "accepted");
    let statuses: Vec<&str> =
        accepted["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["accepted", "skipped", "accepted"]);
    assert_eq!(due_of(&user, &b).await, Some(at("2030-01-02T09:00:00Z")));
    assert_eq!(due_of(&user, &c).await, Some(at("2030-01-03T09:00:00Z")));
    assert_eq!(due_of(&user, &a).await, Some(at("2020-01-01T09:00:00Z")), "a completed task is left alone");
    assert_eq!(app.outbox_events(&task_id(&a).to_string()).await.len(), events_of_a);
    for task in [&b, &c] {
        let events = app.outbox_events(&task_id(task).to_string()).await;
        assert!(events.last().unwrap().1["changes"]["dueDate"].is_object(), "an event per change");
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_grouped_reschedule_accepted_for_another_day_moves_every_task_to_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let a = overdue_task(&user, "Alpha").await;
    let b = overdue_task(&user, "Beta").await;
    let items = [
        (&a, json!({"dueAt": "2030-01-02T09:00:00Z"}), "Late"),
        (&b, json!({"dueAt": "2030-01-03T09:00:00Z"}), "Late"),
    ];
    let id = suggest_items(&app, &user, "schedule_adjustment", "Spread 2 overdue tasks", &items).await;
    let res =
        user.client.post(&format!("/api/v1/suggestions/{id}/accept"), &json!({"dueAt": "2030-02-01"})).await;
    assert_eq!(json(res).await["status"], "accepted");
    // A date alone is the end of that day in the user's zone (UTC by default).
    assert_eq!(due_of(&user, &a).await, Some(at("2030-02-01T23:59:59Z")));
    assert_eq!(due_of(&user, &b).await, Some(at("2030-02-01T23:59:59Z")));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn items_are_answered_one_by_one_and_the_last_answer_resolves_the_suggestion(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = app.signed_up().await;
    let a = overdue_task(&user, "Alpha").await;
    let b = overdue_task(&user, "Beta").await;
    let items = [
        (&a, json!({"dueAt": "2030-01-02T09:00:00Z"}), "Late"),
        (&b, json!({"dueAt": "2030-01-03T09:00:00Z"}), "Later"),
    ];
    let id = suggest_items(&app, &user, "schedule_adjustment", "Spread 2 overdue tasks", &items).await;
    let item =
        |task: &Value, action: &str| format!("/api/v1/suggestions/{id}/items/{}/{action}", task_id(task));

    for path in [item(&a, "accept"), item(&a, "skip")] {
        problem(other.client.post_empty(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let stranger = other.create_task(json!({"title": "Not in it"})).await;
    problem(user.client.post_empty(&item(&stranger, "skip")).await, StatusCode::NOT_FOUND, "not_found").await;
    let body = problem(
        user.client.post(&item(&a, "accept"), &json!({"dueAt": "soon"})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&body), ["dueAt"]);

    let after_a =
        json(user.client.post(&item(&a, "accept"), &json!({"dueAt": "2030-03-01T08:00:00Z"})).await).await;
    assert_eq!(after_a["status"], "open", "Beta is still open");
    assert_eq!(after_a["items"][0]["status"], "accepted");
    assert_eq!(due_of(&user, &a).await, Some(at("2030-03-01T08:00:00Z")));
    let events = app.outbox_events(&task_id(&a).to_string()).await;
    assert!(events.last().unwrap().1["changes"]["dueDate"].is_object());
    problem(
        user.client.post_empty(&item(&a, "skip")).await,
        StatusCode::CONFLICT,
        "suggestion_item_resolved",
    )
    .await;

    let after_b = json(user.client.post_empty(&item(&b, "skip")).await).await;
    assert_eq!(after_b["status"], "accepted", "one item was accepted");
    assert_eq!(after_b["items"][1]["status"], "skipped");
    assert_eq!(due_of(&user, &b).await, Some(at("2020-01-01T09:00:00Z")));
    problem(user.client.post_empty(&item(&b, "accept")).await, StatusCode::CONFLICT, "suggestion_resolved")
        .await;

    let again = suggest_items(&app, &user, "schedule_adjustment", "Spread 2 overdue tasks", &items).await;
    for task in [&a, &b] {
        user.client.post_empty(&format!("/api/v1/suggestions/{again}/items/{}/skip", task_id(task))).await;
    }
    let all = json(user.client.get("/api/v1/suggestions?status=all").await).await;
    let skipped = all["items"].as_array().unwrap().iter().find(|s| s["id"] == again.as_str()).unwrap();
    assert_eq!(skipped["status"], "dismissed", "every item skipped");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_daily_plan_item_already_due_today_is_accepted_as_it_is(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let today = user.create_task(json!({"title": "Today", "dueAt": "2030-01-02T17:00:00Z"})).await;
    let moved = user.create_task(json!({"title": "Moved", "dueAt": "2030-01-09T17:00:00Z"})).await;
    let id = suggest_items(
        &app,
        &user,
        "daily_plan",
        "Your plan for Wed 2 Jan",
        &[
            (&today, json!({}), "Due today"),
            (&moved, json!({"dueAt": "2030-01-02T15:00:00Z"}), "High priority"),
        ],
    )
    .await;
    let before = app.outbox_events(&task_id(&today).to_string()).await.len();
    let path = format!("/api/v1/suggestions/{id}/items/{}/accept", task_id(&today));
    let body = problem(
        user.client.post(&path, &json!({"dueAt": "2030-01-03T09:00:00Z"})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&body), ["dueAt"], "nothing to move");
    let res = json(user.client.post_empty(&path).await).await;
    assert_eq!(res["items"][0]["status"], "accepted");
    assert_eq!(app.outbox_events(&task_id(&today).to_string()).await.len(), before, "no change, no event");
    let res = json(user.client.post_empty(&format!("/api/v1/suggestions/{id}/accept")).await).await;
    assert_eq!(res["status"], "accepted");
    assert_eq!(res["items"][1]["status"], "accepted");
    assert_eq!(due_of(&user, &moved).await, Some(at("2030-01-02T15:00:00Z")));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn dismissing_skips_the_open_items_and_changes_no_task(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let a = overdue_task(&user, "Alpha").await;
    let b = overdue_task(&user, "Beta").await;
    let id = suggest_items(
        &app,
        &user,
        "schedule_adjustment",
        "Spread 2 overdue tasks",
        &[
            (&a, json!({"dueAt": "2030-01-02T09:00:00Z"}), "Late"),
            (&b, json!({"dueAt": "2030-01-03T09:00:00Z"}), "Late"),
        ],
    )
    .await;
    user.client.post_empty(&format!("/api/v1/suggestions/{id}/items/{}/accept", task_id(&a))).await;
    let before = app.outbox_count().await;
    let dismissed = json(user.client.post_empty(&format!("/api/v1/suggestions/{id}/dismiss")).await).await;
    assert_eq!(dismissed["status"], "dismissed");
    let statuses: Vec<&str> =
        dismissed["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["accepted", "skipped"], "an answered item keeps its answer");
    assert_eq!(app.outbox_count().await, before);
    assert_eq!(due_of(&user, &b).await, Some(at("2020-01-01T09:00:00Z")));
    problem(
        user.client.post_empty(&format!("/api/v1/suggestions/{id}/items/{}/skip", task_id(&b))).await,
        StatusCode::CONFLICT,
        "suggestion_resolved",
    )
    .await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn answers_are_counted_per_kind_and_outcome(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = overdue_task(&user, "Report").await;
    let change = Some(json!({"dueAt": "2030-01-02T09:00:00Z"}));
    let accepted = |text: &str| {
        sample(
            text,
            "suggestions_resolved_total",
            &[("kind", "schedule_adjustment"), ("outcome", "accepted")],
        )
    };
    let dismissed = |text: &str| {
        sample(
            text,
            "suggestions_resolved_total",
            &[("kind", "schedule_adjustment"), ("outcome", "dismissed")],
        )
    };
    let scrape = || async { app.client().get("/metrics").await.text().await.unwrap() };
    let before = scrape().await;
    let one = suggest(&app, &user, Some(&task), "schedule_adjustment", change.clone(), "7 days").await;
    let two = suggest(&app, &user, Some(&task), "schedule_adjustment", change, "7 days").await;
    user.client.post_empty(&format!("/api/v1/suggestions/{one}/accept")).await;
    user.client.post_empty(&format!("/api/v1/suggestions/{two}/dismiss")).await;
    // A refused answer rolls back and is not counted (other tests may still add to the series).
    user.client.post(&format!("/api/v1/suggestions/{two}/accept"), &json!({"dueAt": "x"})).await;
    let after = scrape().await;
    assert!(accepted(&after) >= accepted(&before) + 1.0, "{after}");
    assert!(dismissed(&after) >= dismissed(&before) + 1.0, "{after}");
}

/// Records the SQL statements sqlx runs on this thread (the test runtime is single-threaded,
/// so the app's handlers run here too).
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Visitor<'a>(&'a mut Vec<String>);
        impl tracing::field::Visit for Visitor<'_> {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "db.statement" {
                    self.0.push(value.to_owned());
                }
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "db.statement" {
                    self.0.push(format!("{value:?}"));
                }
            }
        }
        if event.metadata().target() == "sqlx::query" {
            event.record(&mut Visitor(&mut self.0.lock().unwrap()));
        }
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_items_of_a_page_are_loaded_in_one_query(db: PgPool) {
    use tracing_subscriber::layer::SubscriberExt;

    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    for n in 0..5 {
        let a = overdue_task(&user, &format!("Alpha {n}")).await;
        let b = overdue_task(&user, &format!("Beta {n}")).await;
        let change = json!({"dueAt": "2030-01-02T09:00:00Z"});
        suggest_items(
            &app,
            &user,
            "schedule_adjustment",
            "Spread",
            &[(&a, change.clone(), "Late"), (&b, change, "Late")],
        )
        .await;
    }
    let statements = Statements::default();
    let subscriber = tracing_subscriber::registry().with(statements.clone());
    let list = {
        let _guard = tracing::subscriber::set_default(subscriber);
        json(user.client.get("/api/v1/suggestions").await).await
    };
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
    assert!(list["items"].as_array().unwrap().iter().all(|s| s["items"].as_array().unwrap().len() == 2));
    let seen = statements.0.lock().unwrap();
    let item_queries = seen.iter().filter(|sql| sql.contains("from suggestion_item")).count();
    assert!(!seen.is_empty(), "the statements were observed");
    assert_eq!(item_queries, 1, "{seen:#?}");
}
