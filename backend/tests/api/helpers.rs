//! Starting the app in-process and talking to it like a client would.

use std::{sync::Arc, time::Duration};

use backend::{Config, Pools};
use dapr_emulator::{Emulator, EmulatorHandle};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub struct TestApp {
    pub base: String,
    pub db: PgPool,
    pub dapr: Arc<EmulatorHandle>,
    shutdown: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    pub async fn spawn(db: PgPool) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: PgPool, tweak: impl FnOnce(&mut Config)) -> Self {
        let dapr = Emulator::builder().start().await.expect("the sidecar stand-in starts");
        Self::spawn_with_dapr(db, Arc::new(dapr), tweak).await
    }

    pub async fn spawn_with_dapr(
        db: PgPool,
        dapr: Arc<EmulatorHandle>,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::for_database_url("postgres://unused@127.0.0.1/unused");
        config.auth_rate_limit_per_minute = 0;
        // The built-in chat engine whatever the environment says; tests that want the
        // OpenAI-compatible one point it at a stand-in.
        config.chat.chat_engine = backend::config::ChatEngineKind::Offline;
        // Only the tests of the wording ask the stand-in model to phrase suggestions.
        config.chat.assistant_model_wording = false;
        config.chat.chat_rate_limit_per_minute = 0;
        config.quotas.write_rate_limit_per_minute = 0;
        config.outbox.dapr_http_endpoint = Some(dapr.base_url().to_owned());
        // Generous, so a loaded machine does not turn a slow publish into a retry.
        config.outbox.publish_timeout_ms = 30_000;
        tweak(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("bound"));
        let shutdown = CancellationToken::new();
        let pools = Pools { db: db.clone(), listen: db.clone(), relay: db.clone() };
        let server = tokio::spawn(backend::run(config, pools, listener, shutdown.clone()));
        Self { base, db, dapr, shutdown, server }
    }

    /// Stops the app the way SIGTERM would and hands back what outlives it.
    pub async fn stop(mut self) -> (PgPool, Arc<EmulatorHandle>) {
        self.shutdown.cancel();
        (&mut self.server).await.expect("the server task").expect("a clean shutdown");
        (self.db.clone(), Arc::clone(&self.dapr))
    }

    /// A browser-like client with its own cookie jar.
    pub fn client(&self) -> Client {
        let http = reqwest::Client::builder().cookie_store(true).build().expect("a client");
        Client { http, base: self.base.clone() }
    }

    pub async fn signed_up(&self) -> User {
        let client = self.client();
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        let res = client
            .post("/api/v1/auth/signup", &json!({"email": email, "password": "correct horse battery"}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.expect("json");
        let id = body["id"].as_str().and_then(|s| s.parse().ok()).expect("a user id");
        User { client, id, email }
    }

    /// The events written to the outbox for `task_id`, oldest first: (type, payload).
    pub async fn outbox_events(&self, task_id: &str) -> Vec<(String, Value)> {
        let id: Uuid = task_id.parse().expect("a task id");
        sqlx::query_as("select event_type, payload from outbox where task_id = $1 order by outbox_id")
            .bind(id)
            .fetch_all(&self.db)
            .await
            .expect("outbox rows")
    }

    pub async fn outbox_count(&self) -> i64 {
        sqlx::query_scalar("select count(*) from outbox").fetch_one(&self.db).await.expect("count")
    }
}

/// A test that ends without `stop` still shuts the app down, so its database connections
/// close and the per-test database can be dropped at once.
impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub struct User {
    pub client: Client,
    pub id: Uuid,
    pub email: String,
}

impl User {
    /// Sends a chat message and returns the response JSON, asserting success.
    pub async fn say(&self, message: &str, conversation: Option<&str>) -> Value {
        let mut body = json!({"message": message});
        if let Some(id) = conversation {
            body["conversationId"] = json!(id);
        }
        let res = self.client.post("/api/v1/ai/chat", &body).await;
        assert_eq!(res.status(), StatusCode::OK, "saying {message:?}");
        res.json().await.expect("json")
    }

    /// The user's tasks (first page, all statuses).
    pub async fn tasks(&self) -> Vec<Value> {
        let res = self.client.get("/api/v1/tasks?limit=200").await;
        assert_eq!(res.status(), StatusCode::OK);
        let page: Value = res.json().await.expect("json");
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// Creates a task and returns its JSON, asserting success.
    pub async fn create_task(&self, body: Value) -> Value {
        let res = self.client.post("/api/v1/tasks", &body).await;
        assert_eq!(res.status(), StatusCode::CREATED, "creating {body}");
        res.json().await.expect("json")
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http.post(self.url(path)).json(body).send().await.expect("request sent")
    }

    pub async fn post_empty(&self, path: &str) -> Response {
        self.http.post(self.url(path)).send().await.expect("request sent")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.http.patch(self.url(path)).json(body).send().await.expect("request sent")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.http.delete(self.url(path)).send().await.expect("request sent")
    }

    /// A DELETE with a JSON body (deleting the account takes the password).
    pub async fn delete_json(&self, path: &str, body: &Value) -> Response {
        self.http.delete(self.url(path)).json(body).send().await.expect("request sent")
    }
}

/// Asserts a problem response: status, content type, code, and (for validation) the fields.
#[track_caller]
pub fn assert_problem(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
    expected: StatusCode,
    code: &str,
) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], expected.as_u16(), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
}

/// Reads a problem response and checks it; returns the body.
pub async fn problem(res: Response, expected: StatusCode, code: &str) -> Value {
    let status = res.status();
    let headers = res.headers().clone();
    let body: Value = res.json().await.expect("a JSON problem body");
    assert_problem(status, &headers, &body, expected, code);
    body
}

/// The field names of a validation problem.
pub fn problem_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

pub async fn json(res: Response) -> Value {
    res.json().await.expect("a JSON body")
}

/// Polls `probe` until it returns `Some`, for effects that happen in the background.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = probe().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
