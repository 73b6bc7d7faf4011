//! OpenTelemetry export (issue 7 §2): with an OTLP endpoint configured, the request span reaches
//! the collector in the trace the caller's `traceparent` names, the same trace id the outbox
//! row carries on to the agent. Its own test binary, because it owns the process's global
//! tracing subscriber.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use platform::telemetry::{self, OtlpConfig, TelemetryGuard};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[path = "api/helpers.rs"]
#[expect(dead_code, reason = "shared with the api test binary, which uses the rest")]
mod helpers;

use helpers::TestApp;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// What the stand-in collector was sent: (content type, body) per POST to `/v1/traces`.
type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

/// A stand-in OTLP/HTTP collector on a free loopback port.
async fn start_collector() -> (String, Received) {
    async fn receive(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let content_type =
            headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        received.lock().expect("not poisoned").push((content_type, body));
        StatusCode::OK
    }
    let received = Received::default();
    let app = Router::new().route("/v1/traces", post(receive)).with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, received)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

/// Flushes on a blocking thread: the exporter's HTTP call must reach the collector, which runs
/// on this (single-threaded) runtime.
async fn flush(guard: &Arc<TelemetryGuard>) {
    let guard = Arc::clone(guard);
    tokio::task::spawn_blocking(move || guard.flush()).await.expect("flush ran");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn request_spans_are_exported_in_the_callers_trace(db: PgPool) {
    let (collector, received) = start_collector().await;
    let guard = Arc::new(telemetry::init_with(
        telemetry::LogFormat::Json,
        "warn,backend=info",
        Some(OtlpConfig::new(&collector, "backend-test")),
    ));
    assert!(guard.exporting(), "this binary owns the subscriber");

    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let res = user
        .client
        .http
        .post(user.client.url("/api/v1/tasks"))
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-01"))
        .json(&json!({"title": "traced"}))
        .send()
        .await
        .expect("request sent");
    assert_eq!(res.status(), StatusCode::CREATED);

    // The outbox row continues the caller's trace ...
    let traceparents: Vec<Option<String>> =
        sqlx::query_scalar("select traceparent from outbox").fetch_all(&app.db).await.expect("outbox rows");
    assert!(
        traceparents.iter().flatten().any(|t| t.contains(TRACE_ID)),
        "an outbox row carries the trace: {traceparents:?}"
    );

    // ... and so does the exported request span, as a child of the caller's span.
    let (trace_id, parent_id) = (hex_bytes(TRACE_ID), hex_bytes(PARENT_ID));
    let mut exported = false;
    for _ in 0..50 {
        flush(&guard).await;
        exported = received.lock().expect("not poisoned").iter().any(|(_, body)| {
            body.windows(16).any(|w| w == trace_id.as_slice())
                && body.windows(8).any(|w| w == parent_id.as_slice())
        });
        if exported {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let posts = received.lock().expect("not poisoned").clone();
    assert!(exported, "no export carried trace {TRACE_ID} with parent {PARENT_ID} ({} posts)", posts.len());
    assert!(
        posts.iter().all(|(content_type, _)| content_type == "application/x-protobuf"),
        "OTLP/HTTP protobuf: {:?}",
        posts.iter().map(|(c, _)| c).collect::<Vec<_>>()
    );
    assert!(
        posts.iter().any(|(_, body)| body.windows(12).any(|w| w == b"backend-test")),
        "the service name is on the resource"
    );

    app.stop().await;
    // Shutting down flushes too, and blocks: keep it off the runtime the collector runs on.
    let guard = Arc::try_unwrap(guard).expect("the only handle left");
    tokio::task::spawn_blocking(move || drop(guard)).await.expect("shutdown ran");
}
