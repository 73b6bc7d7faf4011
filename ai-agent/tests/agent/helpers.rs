//! Seeding the database, building events as the sidecar delivers them, and talking to the
//! agent in-process (through its router) or over TCP (through the Dapr stand-in).

use std::time::Duration;

use ai_agent::{AppState, Config, agents::Settings};
use axum::{
    Router,
    body::{Body, to_bytes},
    http::{Request, StatusCode},
};
use chrono::{DateTime, TimeDelta, Utc};
use dapr_emulator::{Emulator, EmulatorHandle, RetryPolicy};
use events::{
    EventPayload, Priority, TaskChanges, TaskEvent,
    client::{DaprClient, OutgoingMessage},
};
use serde_json::{Value, json};
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use uuid::Uuid;

/// Generous: only reached when a test is about to fail anyway.
pub const WAIT: Duration = Duration::from_secs(30);

pub const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// Defaults as a test wants them: no cron (tests call the passes themselves).
pub fn config() -> Config {
    let mut config = Config::for_database_url("postgres://unused@127.0.0.1/unused");
    config.agents.cron_enabled = false;
    // In-process tests deliver without the sidecar's token; `security.rs` covers the token.
    config.allow_unauthenticated_deliveries = true;
    config
}

pub fn state(db: &PgPool) -> AppState {
    AppState::new(db.clone(), config())
}

pub fn settings() -> Settings {
    Settings::default()
}

/// A pool whose database never answers: nothing listens on port 1.
pub fn unreachable_pool() -> PgPool {
    PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(300))
        .connect_lazy("postgres://postgres@127.0.0.1:1/gone")
        .unwrap()
}

// --- seeding -------------------------------------------------------------------------------

pub async fn user(db: &PgPool) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("insert into app_user (user_id, email, password_hash) values ($1, $2, 'not-a-hash')")
        .bind(id)
        .bind(format!("user-{}@example.com", id.simple()))
        .execute(db)
        .await
        .unwrap();
    id
}

pub async fn set_agents_enabled(db: &PgPool, user_id: Uuid, enabled: bool) {
    sqlx::query(
        "insert into user_preference (user_id, autonomous_agents_enabled) values ($1, $2)
         on conflict (user_id) do update set autonomous_agents_enabled = excluded.autonomous_agents_enabled",
    )
    .bind(user_id)
    .bind(enabled)
    .execute(db)
    .await
    .unwrap();
}

/// A task to seed; `TaskSeed::due(…)` and friends set the interesting field.
#[derive(Debug, Clone)]
pub struct TaskSeed {
    pub title: String,
    pub priority: Priority,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl TaskSeed {
    pub fn undated() -> Self {
        Self {
            title: "Write the report".into(),
            priority: Priority::Medium,
            due_at: None,
            completed_at: None,
            updated_at: Utc::now(),
        }
    }

    pub fn due(due_at: DateTime<Utc>) -> Self {
        Self { due_at: Some(due_at), ..Self::undated() }
    }

    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    pub fn completed(mut self) -> Self {
        self.completed_at = Some(Utc::now());
        self
    }

    pub fn updated_at(mut self, at: DateTime<Utc>) -> Self {
        self.updated_at = at;
        self
    }

    pub fn titled(mut self, title: &str) -> Self {
        self.title = title.into();
        self
    }
}

pub async fn task(db: &PgPool, user_id: Uuid, seed: TaskSeed) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into task (task_id, user_id, title, priority, due_at, completed_at, series_id, created_at, updated_at,
                           project_id)
         select $1, $2, $3, $4::task_priority, $5, $6, $1, $7, $7, project_id
         from project where user_id = $2 and is_inbox",
    )
    .bind(id)
    .bind(user_id)
    .bind(&seed.title)
    .bind(seed.priority.as_str())
    .bind(seed.due_at)
    .bind(seed.completed_at)
    .bind(seed.updated_at)
    .execute(db)
    .await
    .unwrap();
    id
}

pub async fn reminder(db: &PgPool, task_id: Uuid, user_id: Uuid, fire_at: DateTime<Utc>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("insert into reminder (reminder_id, task_id, user_id, fire_at) values ($1, $2, $3, $4)")
        .bind(id)
        .bind(task_id)
        .bind(user_id)
        .bind(fire_at)
        .execute(db)
        .await
        .unwrap();
    id
}

pub fn ago(minutes: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::minutes(minutes)
}

pub fn from_now(minutes: i64) -> DateTime<Utc> {
    Utc::now() + TimeDelta::minutes(minutes)
}

// --- events --------------------------------------------------------------------------------

/// The `tasks.created` event the backend writes for `task_id` as it is in the database: its
/// due time and priority, which the handlers look at before opening a transaction.
pub async fn created_for(db: &PgPool, task_id: Uuid) -> TaskEvent {
    let (user_id, priority, due_at): (Uuid, String, Option<DateTime<Utc>>) =
        sqlx::query_as("select user_id, priority::text, due_at from task where task_id = $1")
            .bind(task_id)
            .fetch_one(db)
            .await
            .unwrap();
    let mut event = created(task_id, user_id, due_at);
    if let EventPayload::Created { priority: p, .. } = &mut event.payload {
        *p = priority.parse().unwrap();
    }
    event
}

pub fn created(task_id: Uuid, user_id: Uuid, due: Option<DateTime<Utc>>) -> TaskEvent {
    TaskEvent::new(
        task_id,
        user_id,
        "corr-created",
        EventPayload::Created {
            title: "Write the report".into(),
            priority: Priority::Medium,
            due_date: due.map(events::truncate_to_millis),
            recurring: false,
        },
    )
}

pub fn updated(task_id: Uuid, user_id: Uuid, changes: TaskChanges) -> TaskEvent {
    TaskEvent::new(task_id, user_id, "corr-updated", EventPayload::Updated { changes })
}

pub fn completed(task_id: Uuid, user_id: Uuid) -> TaskEvent {
    TaskEvent::new(
        task_id,
        user_id,
        "corr-completed",
        EventPayload::Completed {
            title: "Write the report".into(),
            completed_at: events::truncate_to_millis(Utc::now()),
            next_task_id: None,
        },
    )
}

pub fn incomplete(task_id: Uuid, user_id: Uuid) -> TaskEvent {
    TaskEvent::new(
        task_id,
        user_id,
        "corr-incomplete",
        EventPayload::Incomplete { title: "Write the report".into() },
    )
}

/// `event` in the CloudEvent envelope the sidecar delivers for our relay's publish (§3.2).
pub fn cloud_event(event: &TaskEvent) -> Value {
    cloud_event_with(
        &event.event_id.to_string(),
        event.event_type().as_str(),
        &serde_json::to_value(event).unwrap(),
    )
}

pub fn cloud_event_with(id: &str, event_type: &str, data: &Value) -> Value {
    json!({
        "id": id,
        "specversion": "1.0",
        "source": "backend",
        "type": event_type,
        "datacontenttype": "application/json",
        "data": data,
        "topic": events::TOPIC,
        "pubsubname": events::DEFAULT_PUBSUB,
        "traceid": TRACEPARENT,
        "traceparent": TRACEPARENT,
        "tracestate": "",
        "time": "2026-11-28T09:00:00Z",
    })
}

// --- in-process HTTP -----------------------------------------------------------------------

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// The Dapr status of a delivery answer, asserting the HTTP status is 200.
    #[track_caller]
    pub fn dapr_status(&self) -> &str {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        self.body["status"].as_str().expect("a delivery answer")
    }
}

pub async fn send(router: Router, request: Request<Body>) -> Answer {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Answer { status, body }
}

/// POSTs `body` to `path` exactly as the sidecar does (content type included).
pub async fn post_raw(state: &AppState, path: &str, body: impl Into<Body>) -> Answer {
    let request = Request::post(path)
        .header("content-type", "application/cloudevents+json")
        .header("traceparent", TRACEPARENT)
        .body(body.into())
        .unwrap();
    send(ai_agent::app(state.clone()), request).await
}

/// Delivers a CloudEvent to the task events route; returns the Dapr status.
pub async fn deliver(state: &AppState, cloud_event: &Value) -> String {
    post_raw(state, "/events/tasks-lifecycle", cloud_event.to_string()).await.dapr_status().to_owned()
}

pub async fn deliver_event(state: &AppState, event: &TaskEvent) -> String {
    deliver(state, &cloud_event(event)).await
}

// --- reading back --------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SuggestionRow {
    pub suggestion_id: Uuid,
    pub user_id: Uuid,
    pub task_id: Option<Uuid>,
    pub kind: String,
    pub status: String,
    pub title: String,
    pub message: String,
    pub reason: Option<String>,
    pub resolved_by: String,
    pub proposed_change: Option<Value>,
    pub source_event: Option<String>,
    pub correlation_id: Option<String>,
    pub dedupe_key: String,
    pub expires_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn suggestions(db: &PgPool, user_id: Uuid) -> Vec<SuggestionRow> {
    sqlx::query_as("select * from suggestion where user_id = $1 order by created_at, suggestion_id")
        .bind(user_id)
        .fetch_all(db)
        .await
        .unwrap()
}

pub async fn suggestion_count(db: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from suggestion").fetch_one(db).await.unwrap()
}

/// Events the agent wrote to the outbox, oldest first, decoded.
pub async fn outbox(db: &PgPool) -> Vec<TaskEvent> {
    let rows: Vec<(String, Value)> =
        sqlx::query_as("select topic, payload from outbox order by outbox_id").fetch_all(db).await.unwrap();
    rows.into_iter()
        .map(|(topic, payload)| {
            assert_eq!(topic, events::TOPIC);
            TaskEvent::from_cloud_event_data(&payload).unwrap()
        })
        .collect()
}

pub async fn processed_count(db: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from processed_event").fetch_one(db).await.unwrap()
}

#[derive(Debug, sqlx::FromRow)]
pub struct DeadLetterRow {
    pub event_id: Option<String>,
    pub topic: String,
    pub event_type: Option<String>,
    pub payload: Value,
    pub reason: String,
}

pub async fn dead_letters(db: &PgPool) -> Vec<DeadLetterRow> {
    sqlx::query_as(
        "select event_id, topic, event_type, payload, reason from dead_letter order by dead_letter_id",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

// --- over TCP, through the Dapr stand-in ---------------------------------------------------

/// The agent served on a free port by the real `serve`.
pub struct RunningAgent {
    pub url: String,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningAgent {
    pub async fn start(state: AppState) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(ai_agent::serve(state, listener, shutdown.clone()));
        Self { url, shutdown, task }
    }

    /// Stops it the way SIGTERM would and asserts a clean exit.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        (&mut self.task).await.unwrap().unwrap();
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A stand-in sidecar delivering to `agent` with quick retries and no endless redelivery, so a
/// failing test fails fast.
pub async fn sidecar_for(agent: &RunningAgent, app_token: Option<&str>) -> EmulatorHandle {
    let mut builder = Emulator::builder()
        .app_id("backend")
        .app_url(&agent.url)
        .retry_policy(RetryPolicy { max_retries: 1, interval: Duration::from_millis(20) })
        .redelivery_interval(None);
    if let Some(token) = app_token {
        builder = builder.app_token(token);
    }
    builder.start().await.unwrap()
}

/// Publishes `data` the way the backend's relay does: CloudEvent id and type set, keyed by user.
pub async fn publish(sidecar: &EmulatorHandle, id: &str, event_type: &str, user_id: Uuid, data: &Value) {
    let client = DaprClient::new(sidecar.base_url(), None, Duration::from_secs(5)).unwrap();
    let key = user_id.to_string();
    let message = OutgoingMessage {
        id,
        event_type,
        partition_key: &key,
        correlation_id: Some("corr-published"),
        traceparent: Some(TRACEPARENT),
        data,
    };
    client.publish(events::DEFAULT_PUBSUB, events::TOPIC, &message).await.unwrap();
}

pub async fn publish_event(sidecar: &EmulatorHandle, event: &TaskEvent) {
    let data = serde_json::to_value(event).unwrap();
    publish(sidecar, &event.event_id.to_string(), event.event_type().as_str(), event.user_id, &data).await;
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub task_id: Uuid,
    pub ordinal: i16,
    pub proposed_change: Value,
    pub reason: String,
    pub status: String,
    pub dedupe_key: Option<String>,
}

/// The items of `suggestion_id`, in display order.
pub async fn items(db: &PgPool, suggestion_id: Uuid) -> Vec<ItemRow> {
    sqlx::query_as(
        "select task_id, ordinal, proposed_change, reason, status, dedupe_key
         from suggestion_item where suggestion_id = $1 order by ordinal",
    )
    .bind(suggestion_id)
    .fetch_all(db)
    .await
    .unwrap()
}

/// The tasks `user` has a proposal for, alone or as an item, sorted.
pub async fn proposed_tasks(db: &PgPool, user_id: Uuid) -> Vec<Uuid> {
    let mut tasks: Vec<Uuid> = sqlx::query_scalar(
        "select task_id from suggestion where user_id = $1 and task_id is not null
         union all
         select i.task_id from suggestion_item i join suggestion s using (suggestion_id) where s.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
    .unwrap();
    tasks.sort();
    tasks
}

/// Sets `user_id`'s working calendar and plan size (the rest of the preferences as they are).
pub async fn working_hours(
    db: &PgPool,
    user_id: Uuid,
    days: i16,
    hours: (&str, &str),
    zone: &str,
    plan_size: i16,
) {
    sqlx::query(
        "insert into user_preference (user_id, work_days, work_start, work_end, time_zone, daily_plan_size)
         values ($1, $2, $3::time, $4::time, $5, $6)
         on conflict (user_id) do update set work_days = excluded.work_days, work_start = excluded.work_start,
             work_end = excluded.work_end, time_zone = excluded.time_zone, daily_plan_size = excluded.daily_plan_size",
    )
    .bind(user_id)
    .bind(days)
    .bind(hours.0)
    .bind(hours.1)
    .bind(zone)
    .bind(plan_size)
    .execute(db)
    .await
    .unwrap();
}

/// Sets a task's estimate and creation time (the plan weighs both).
pub async fn estimate_and_age(db: &PgPool, task_id: Uuid, minutes: Option<i32>, created_at: DateTime<Utc>) {
    sqlx::query("update task set estimate_minutes = $2, created_at = $3 where task_id = $1")
        .bind(task_id)
        .bind(minutes)
        .bind(created_at)
        .execute(db)
        .await
        .unwrap();
}

/// A suggestion whose texts and de-duplication key derive from `key` (for the insert paths'
/// tests, which care about the gate, not the wording).
pub fn advice(
    user_id: Uuid,
    task_id: Option<Uuid>,
    kind: ai_agent::suggestion::Kind,
    key: &str,
) -> ai_agent::suggestion::NewSuggestion {
    ai_agent::suggestion::NewSuggestion {
        user_id,
        task_id,
        kind,
        title: format!("title {key}"),
        message: format!("message {key}"),
        reason: format!("reason {key}"),
        proposed_change: None,
        dedupe_key: key.to_owned(),
        source_event: None,
        correlation_id: Some("test".to_owned()),
    }
}
