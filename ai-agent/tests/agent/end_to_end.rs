//! The whole pipeline in-process: backend API → outbox → relay → Dapr stand-in → ai-agent →
//! suggestion visible through the backend's API. Real PostgreSQL, real HTTP between the parts.

use std::time::{Duration, Instant};

use dapr_emulator::Emulator;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const TASKS: usize = 200;

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_overdue_task_becomes_exactly_one_suggestion_visible_through_the_api(db: PgPool) {
    let shutdown = CancellationToken::new();
    let _stop = shutdown.clone().drop_guard();

    let agent_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let agent_url = format!("http://{}", agent_listener.local_addr().unwrap());
    let mut agent = ai_agent::Config::for_database_url("postgres://unused@127.0.0.1/unused");
    agent.agents.cron_enabled = false; // only the event path may produce the suggestions
    agent.agents.suggestions_per_hour = 10_000; // one user, many tasks: not a rate-limit test
    tokio::spawn(ai_agent::run(agent, db.clone(), agent_listener, shutdown.clone()));

    let dapr = Emulator::builder().app_url(agent_url).start().await.unwrap();

    let backend_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", backend_listener.local_addr().unwrap());
    let mut backend = backend::Config::for_database_url("postgres://unused@127.0.0.1/unused");
    backend.auth_rate_limit_per_minute = 0;
    backend.outbox.dapr_http_endpoint = Some(dapr.base_url().to_owned());
    let pools = backend::Pools { db: db.clone(), listen: db.clone() };
    tokio::spawn(backend::run(backend, pools, backend_listener, shutdown.clone()));

    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"email": "e2e@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let mut latencies = Vec::with_capacity(TASKS);
    for i in 0..TASKS {
        let started = Instant::now();
        let task: Value = client
            .post(format!("{base}/api/v1/tasks"))
            .json(&json!({"title": format!("Submit report {i}"), "dueAt": "2020-01-01T09:00:00Z"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = task["id"].as_str().unwrap().to_owned();
        loop {
            let list: Value =
                client.get(format!("{base}/api/v1/suggestions")).send().await.unwrap().json().await.unwrap();
            let seen = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["taskId"] == id.as_str() && s["kind"] == "overdue");
            if seen {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(1), "task {i}: no overdue suggestion within 1 s");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.push(started.elapsed());
    }

    let per_task: Vec<(i64,)> = sqlx::query_as(
        "select count(*) from task left join suggestion s on s.task_id = task.task_id and s.kind = 'overdue'
         group by task.task_id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(per_task.len(), TASKS);
    assert!(per_task.iter().all(|(n,)| *n == 1), "exactly one overdue suggestion per task");

    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    eprintln!(
        "end-to-end create → suggestion visible over {TASKS} tasks (debug build): p50 {:?}, p95 {:?}, max {:?}",
        pick(0.50),
        pick(0.95),
        latencies[latencies.len() - 1]
    );
}

/// The spec's headline flow through the chat: "add task Submit report due yesterday" → the
/// task's `tasks.created` event → the overdue assistant's suggestion → the chat lists it.
#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_task_added_in_the_chat_gets_an_overdue_suggestion_the_chat_can_list(db: PgPool) {
    let shutdown = CancellationToken::new();
    let _stop = shutdown.clone().drop_guard();

    let agent_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let agent_url = format!("http://{}", agent_listener.local_addr().unwrap());
    let mut agent = ai_agent::Config::for_database_url("postgres://unused@127.0.0.1/unused");
    agent.agents.cron_enabled = false; // the event alone must produce the suggestion
    tokio::spawn(ai_agent::run(agent, db.clone(), agent_listener, shutdown.clone()));
    let dapr = Emulator::builder().app_url(agent_url).start().await.unwrap();

    let backend_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", backend_listener.local_addr().unwrap());
    let mut backend = backend::Config::for_database_url("postgres://unused@127.0.0.1/unused");
    backend.auth_rate_limit_per_minute = 0;
    backend.outbox.dapr_http_endpoint = Some(dapr.base_url().to_owned());
    backend.chat.chat_engine = backend::config::ChatEngineKind::Offline;
    backend.chat.chat_rate_limit_per_minute = 0; // the test polls through the chat
    let pools = backend::Pools { db: db.clone(), listen: db.clone() };
    tokio::spawn(backend::run(backend, pools, backend_listener, shutdown.clone()));

    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"email": "chat-e2e@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let chat = |message: &str, conversation: Option<Value>| {
        let mut body = json!({"message": message});
        if let Some(id) = conversation {
            body["conversationId"] = id;
        }
        let request = client.post(format!("{base}/api/v1/ai/chat")).json(&body);
        async move {
            let res = request.send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };

    let added = chat("add task Submit report due yesterday", None).await;
    assert_eq!(added["actions"][0]["kind"], "created", "{added}");
    let task_id = added["actions"][0]["tasks"][0]["id"].clone();
    let started = Instant::now();
    loop {
        let listed = chat("show my suggestions", Some(added["conversationId"].clone())).await;
        let suggestions = listed["actions"][0]["suggestions"].as_array().cloned().unwrap_or_default();
        if let Some(s) = suggestions.iter().find(|s| s["taskId"] == task_id) {
            assert_eq!(s["kind"], "overdue");
            assert!(listed["reply"].as_str().unwrap().contains("1 open suggestion"), "{listed}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no overdue suggestion reached the chat");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
