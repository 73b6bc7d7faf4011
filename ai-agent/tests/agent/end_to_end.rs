//! The whole pipeline in-process: backend API → outbox → relay → Dapr stand-in → ai-agent →
//! suggestion visible through the backend's API. Real PostgreSQL, real HTTP between the parts.

use std::time::{Duration, Instant};

use dapr_emulator::Emulator;
use platform::trace::TraceParent;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const TASKS: usize = 200;

/// Generous: only reached when a test is about to fail anyway. Latency is measured by the
/// benchmarks, not asserted here.
const CEILING: Duration = Duration::from_secs(30);

/// The whole pipeline on free ports: the ai-agent (event path only, no cron), the Dapr
/// stand-in delivering to it, and the backend publishing to the stand-in, plus a client
/// signed up as a fresh user. Bind every field: a handle dropped early stops its part.
struct Pipeline {
    base: String,
    client: reqwest::Client,
    dapr: dapr_emulator::EmulatorHandle,
    _stop: tokio_util::sync::DropGuard,
}

impl Pipeline {
    async fn start(db: &PgPool, tweak_agent: impl FnOnce(&mut ai_agent::Config)) -> Self {
        let shutdown = CancellationToken::new();
        let agent_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let agent_url = format!("http://{}", agent_listener.local_addr().unwrap());
        let mut agent = ai_agent::Config::for_database_url("postgres://unused@127.0.0.1/unused");
        agent.agents.cron_enabled = false; // only the event path may produce the suggestions
        agent.allow_unauthenticated_deliveries = true; // the stand-in here sends no app token
        tweak_agent(&mut agent);
        tokio::spawn(ai_agent::run(agent, db.clone(), agent_listener, shutdown.clone()));
        let dapr = Emulator::builder().app_url(agent_url).start().await.unwrap();

        let backend_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", backend_listener.local_addr().unwrap());
        let mut backend = backend::Config::for_database_url("postgres://unused@127.0.0.1/unused");
        backend.auth_rate_limit_per_minute = 0;
        backend.outbox.dapr_http_endpoint = Some(dapr.base_url().to_owned());
        backend.chat.chat_engine = backend::config::ChatEngineKind::Offline;
        backend.chat.chat_rate_limit_per_minute = 0; // tests poll through the chat
        let pools = backend::Pools { db: db.clone(), listen: db.clone(), relay: db.clone() };
        tokio::spawn(backend::run(backend, pools, backend_listener, shutdown.clone()));

        let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let res = client
            .post(format!("{base}/api/v1/auth/signup"))
            .json(&json!({"email": "e2e@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        Self { base, client, dapr, _stop: shutdown.drop_guard() }
    }
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_overdue_task_becomes_exactly_one_suggestion_visible_through_the_api(db: PgPool) {
    // One user, many tasks: not a rate-limit test.
    let Pipeline { base, client, dapr, _stop } =
        Pipeline::start(&db, |a| a.agents.suggestions_per_hour = 10_000).await;

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
                .any(|s| s["taskId"] == id.as_str() && s["kind"] == "schedule_adjustment");
            if seen {
                break;
            }
            assert!(started.elapsed() < CEILING, "task {i}: no overdue suggestion");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies.push(started.elapsed());
    }

    // Every message on the topic (the backend's events and the agent's own) has been handled,
    // so a second suggestion for a task would be in the database by now.
    let started = Instant::now();
    loop {
        let published = dapr.published(events::TOPIC).len();
        if published >= TASKS && dapr.deliveries(events::TOPIC).len() >= published {
            break;
        }
        assert!(started.elapsed() < CEILING, "not every event was delivered: {published} published");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let per_task: Vec<(i64,)> = sqlx::query_as(
        "select count(*) from task left join suggestion s on s.task_id = task.task_id and s.kind = 'schedule_adjustment'
         group by task.task_id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(per_task.len(), TASKS);
    assert!(per_task.iter().all(|(n,)| *n == 1), "exactly one overdue suggestion per task");

    latencies.sort();
    // Nearest-rank percentile.
    let pick = |percent: usize| latencies[(latencies.len() * percent).div_ceil(100).saturating_sub(1)];
    eprintln!(
        "end-to-end create → suggestion visible over {TASKS} tasks (debug build): p50 {:?}, p95 {:?}, max {:?}",
        pick(50),
        pick(95),
        latencies[latencies.len() - 1]
    );
}

/// W3C trace context end to end: the `traceparent` of the API request is in the outbox row,
/// the CloudEvent the sidecar got, the delivery to the agent, and the event the agent published
/// while handling it; a request without one starts a trace of its own.
#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_request_trace_reaches_the_sidecar_and_the_agents_handling(db: PgPool) {
    let Pipeline { base, client, dapr, _stop } = Pipeline::start(&db, |_| {}).await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let traceparent = format!("00-{trace_id}-b7ad6b7169203331-01");
    let res = client
        .post(format!("{base}/api/v1/tasks"))
        .header("traceparent", &traceparent)
        .json(&json!({"title": "Traced", "dueAt": "2020-01-01T09:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // The sidecar got the request's trace with the event: the backend publishes in bulk, so as
    // the entry's `cloudevent.traceparent` rather than a request header. Only the trace id is
    // compared: each hop (the backend's publish, a real sidecar) may add a span of its own.
    let published = dapr.wait_for(events::TOPIC, 1, CEILING).await.unwrap();
    let trace_of = |header: Option<&str>| header.and_then(TraceParent::parse).map(|t| t.trace_id);
    let sent = published[0].metadata.get("cloudevent.traceparent").map(String::as_str);
    assert_eq!(trace_of(sent).as_deref(), Some(trace_id));
    let in_event = published[0].cloud_event.as_ref().unwrap()["traceparent"].as_str();
    assert_eq!(trace_of(in_event).as_deref(), Some(trace_id));
    // ...delivered it to the agent...
    let deliveries = dapr.wait_for_deliveries(events::TOPIC, 1, CEILING).await.unwrap();
    assert!(!deliveries.is_empty());
    // ...and the agent's handling continued it: the tasks.overdue event it published while
    // handling the delivery carries the same trace id.
    let started = Instant::now();
    let agent_trace = loop {
        let found: Option<String> =
            sqlx::query_scalar("select traceparent from outbox where event_type = 'tasks.overdue'")
                .fetch_optional(&db)
                .await
                .unwrap()
                .flatten();
        if let Some(found) = found {
            break found;
        }
        assert!(started.elapsed() < CEILING, "the agent published no tasks.overdue with a traceparent");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(TraceParent::parse(&agent_trace).unwrap().trace_id, trace_id);

    // Without a traceparent, the backend starts a trace: the event still carries one.
    client.post(format!("{base}/api/v1/tasks")).json(&json!({"title": "Untraced"})).send().await.unwrap();
    let generated: Option<String> = sqlx::query_scalar(
        "select o.traceparent from outbox o join task t on t.task_id = o.task_id where t.title = 'Untraced'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    let generated = TraceParent::parse(&generated.unwrap()).expect("a valid traceparent");
    assert_ne!(generated.trace_id, trace_id);
}

/// The spec's headline flow through the chat: "add task Submit report due yesterday" → the
/// task's `tasks.created` event → the overdue assistant's suggestion → the chat lists it.
#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_task_added_in_the_chat_gets_an_overdue_suggestion_the_chat_can_list(db: PgPool) {
    let Pipeline { base, client, dapr: _dapr, _stop } = Pipeline::start(&db, |_| {}).await;
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
            assert_eq!(s["kind"], "schedule_adjustment");
            assert!(listed["reply"].as_str().unwrap().contains("1 open suggestion"), "{listed}");
            break;
        }
        assert!(started.elapsed() < CEILING, "no overdue suggestion reached the chat");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
