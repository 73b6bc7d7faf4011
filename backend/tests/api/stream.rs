//! Live updates: what an open tab hears, and what it must not.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{
    helpers::{TestApp, User, eventually, problem},
    suggestions::suggest,
};

/// One open `text/event-stream` response, read event by event.
pub struct EventStream {
    body: futures::stream::BoxStream<'static, reqwest::Result<axum::body::Bytes>>,
    buffer: String,
}

impl EventStream {
    pub async fn open(user: &User) -> Self {
        let res = user.client.http.get(user.client.url("/api/v1/stream")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        let mut stream = Self { body: res.bytes_stream().boxed(), buffer: String::new() };
        assert_eq!(stream.next().await.0, "ready", "a stream opens with `ready`");
        stream
    }

    /// The next event's name and data, skipping keep-alive comments.
    pub async fn next(&mut self) -> (String, Value) {
        self.next_within(Duration::from_secs(5)).await.expect("an event within 5 s")
    }

    async fn next_within(&mut self, timeout: Duration) -> Option<(String, Value)> {
        tokio::time::timeout(timeout, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let field = |name: &str| {
                        block.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start().to_owned()))
                    };
                    if let Some(event) = field("event:") {
                        let data = serde_json::from_str(&field("data:").unwrap_or_default()).unwrap();
                        return (event, data);
                    }
                    continue;
                }
                let chunk = self.body.next().await.expect("the stream stays open").unwrap();
                self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
        .await
        .ok()
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_stream_needs_a_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    problem(app.client().get("/api/v1/stream").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn every_tab_hears_its_own_users_task_changes_and_no_one_elses(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ada = app.signed_up().await;
    let bob = app.signed_up().await;
    let mut ada_tab_1 = EventStream::open(&ada).await;
    let mut ada_tab_2 = EventStream::open(&ada).await;
    let mut bob_tab = EventStream::open(&bob).await;

    let task = ada.create_task(json!({"title": "Submit report"})).await;
    let task_id = task["id"].as_str().unwrap();
    for tab in [&mut ada_tab_1, &mut ada_tab_2] {
        let (event, data) = tab.next().await;
        assert_eq!(event, "task");
        assert_eq!(data, json!({"eventType": "tasks.created", "taskId": task_id}));
    }
    let res = ada.client.post_empty(&format!("/api/v1/tasks/{task_id}/complete")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ada_tab_1.next().await.1["eventType"], "tasks.completed");

    // Bob's next event is about his own task: Ada's two changes never reached him.
    let own = bob.create_task(json!({"title": "Bob's"})).await;
    assert_eq!(bob_tab.next().await.1["taskId"], own["id"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn suggestions_and_fired_reminders_are_pushed(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ada = app.signed_up().await;
    let task = ada.create_task(json!({"title": "Call the bank"})).await;
    // The task's own update goes out with its event; open the tab after that, so the first
    // thing it hears is the suggestion.
    let announced = eventually(Duration::from_secs(10), || async {
        let waiting: i64 = sqlx::query_scalar("select count(*) from outbox where published_at is null")
            .fetch_one(&app.db)
            .await
            .unwrap();
        (waiting == 0).then_some(())
    })
    .await;
    assert!(announced.is_some(), "the task's event went out");
    let mut tab = EventStream::open(&ada).await;

    let id = suggest(&app, &ada, Some(&task), "overdue", None, "7 days").await;
    let (event, data) = tab.next().await;
    assert_eq!(event, "suggestion");
    assert_eq!(data["suggestionId"], id);
    assert_eq!(data["status"], "open");
    assert_eq!(data["kind"], "overdue");
    assert_eq!(data["taskId"], task["id"]);

    let res = ada.client.post_empty(&format!("/api/v1/suggestions/{id}/dismiss")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (event, data) = tab.next().await;
    assert_eq!((event.as_str(), &data["status"]), ("suggestion", &json!("dismissed")));

    // The ai-agent fires a reminder by writing a `tasks.reminder` event to the outbox.
    sqlx::query(
        "insert into outbox (event_id, user_id, task_id, event_type, topic, payload, correlation_id)
         values (gen_random_uuid(), $1, $2, 'tasks.reminder', 'tasks-lifecycle',
                 jsonb_build_object('title', 'Call the bank', 'dueDate', '2026-12-01T17:00:00.000Z'), 'test')",
    )
    .bind(ada.id)
    .bind(task["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap())
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(tab.next().await.1["eventType"], "tasks.reminder");
    let (event, data) = tab.next().await;
    assert_eq!(event, "reminder");
    assert_eq!(
        data,
        json!({"taskId": task["id"], "title": "Call the bank", "dueAt": "2026-12-01T17:00:00.000Z"})
    );
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_rolled_back_change_is_never_announced(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ada = app.signed_up().await;
    let mut tab = EventStream::open(&ada).await;
    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("select user_stream_notify($1, 'task', '{\"eventType\":\"tasks.created\"}')")
        .bind(ada.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(tab.next_within(Duration::from_millis(500)).await, None);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn streams_end_on_shutdown_and_after_their_lifetime(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.stream_max_seconds = 1).await;
    let ada = app.signed_up().await;
    let mut tab = EventStream::open(&ada).await;
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(chunk) = tab.body.next().await {
            chunk.unwrap();
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends after its lifetime");

    let mut tab = EventStream::open(&ada).await;
    let stopping = tokio::spawn(app.stop());
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(chunk) = tab.body.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "an open stream does not hold up shutdown");
    stopping.await.unwrap();
}

async fn open_from(user: &User, address: &str) -> reqwest::Response {
    user.client.http.get(user.client.url("/api/v1/stream")).header("x-real-ip", address).send().await.unwrap()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn streams_are_capped_per_user_and_a_closed_one_frees_its_slot(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.stream_max_per_user = 2).await;
    let ada = app.signed_up().await;
    let _first = EventStream::open(&ada).await;
    let second = EventStream::open(&ada).await;
    let res = ada.client.get("/api/v1/stream").await;
    assert_eq!(res.headers()["retry-after"], "2");
    problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_streams").await;
    // Another user is not held back by Ada's streams.
    EventStream::open(&app.signed_up().await).await;

    // The tab closes: the server notices the connection is gone and gives the slot back.
    drop(second);
    let reopened = eventually(Duration::from_secs(10), || async {
        let res = ada.client.get("/api/v1/stream").await;
        (res.status() == StatusCode::OK).then_some(res)
    })
    .await;
    assert!(reopened.is_some(), "closing a stream frees its slot");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn streams_are_capped_per_client_address_an_ipv6_client_by_its_64(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| {
        c.trust_proxy_headers = true;
        c.stream_max_per_address = 2;
    })
    .await;
    let mut open = Vec::new();
    for address in ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9"] {
        let res = open_from(&app.signed_up().await, address).await;
        assert_eq!(res.status(), StatusCode::OK);
        open.push(res);
    }
    let res = open_from(&app.signed_up().await, "2001:db8:1:2::3").await;
    problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_streams").await;
    let res = open_from(&app.signed_up().await, "2001:db8:1:3::1").await;
    assert_eq!(res.status(), StatusCode::OK, "the next /64 is another client");
    let res = open_from(&app.signed_up().await, "192.0.2.1").await;
    assert_eq!(res.status(), StatusCode::OK);
}
