//! Delivery to the app (§2, §3): discovery, answers, retries, the dead-letter topic, ordering.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dapr_emulator::{DeliveryOutcome, DiscoveryError, RetryPolicy};
use events::{DEAD_LETTER_TOPIC, DEFAULT_PUBSUB, TOPIC, TaskEvent, dapr::CloudEvent};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::{
    helpers::{
        Received, Run, TRACEPARENT, TestApp, TestAppBuilder, WAIT, client, fast_emulator, publish_event,
        raw_publish, status, subscription, tag_of, task_event, try_publish_bulk, try_publish_event_to,
    },
    sidecar::{Sidecar, SidecarKind, on_both_sidecars},
};

// --- Shared with a real daprd (see `sidecar`) -------------------------------------------------

on_both_sidecars!(
    a_delivery_carries_the_cloud_event_and_the_dapr_headers,
    retry_then_success_is_delivered_again_after_the_retry_interval,
    drop_goes_to_the_dead_letter_topic_without_retries,
    not_found_is_acked_without_a_dead_letter_copy,
    exhausted_retries_go_to_the_dead_letter_topic,
    a_lowercase_status_is_retried_like_an_error,
    any_2xx_without_a_known_status_is_success,
    order_is_kept_per_key_while_a_message_is_retried,
    a_bulk_publish_delivers_each_entry_with_our_id_key_and_trace,
);

const EVENTS_ROUTE: &str = "/events";
const DEAD_LETTER_ROUTE: &str = "/dead-letters";

/// The product's subscriptions: the lifecycle topic with its dead-letter topic, and the
/// dead-letter topic itself, so a test sees what the sidecar dead-letters.
fn product_subscriptions() -> Value {
    json!([
        subscription(TOPIC, EVENTS_ROUTE),
        { "pubsubname": DEFAULT_PUBSUB, "topic": DEAD_LETTER_TOPIC, "route": DEAD_LETTER_ROUTE },
    ])
}

/// An app for `run` that answers dead-letter copies with SUCCESS and events with `answer`.
fn app_answering(
    kind: SidecarKind,
    run: &Run,
    answer: impl Fn(&Received) -> (StatusCode, String) + Send + Sync + 'static,
) -> TestAppBuilder {
    TestApp::builder(product_subscriptions())
        .only(run)
        .patience(kind.patience())
        .responder(move |r| if r.path == DEAD_LETTER_ROUTE { status("SUCCESS") } else { answer(r) })
}

#[track_caller]
fn assert_same_trace(traceparent: &str) {
    assert_eq!(traceparent.split('-').nth(1), TRACEPARENT.split('-').nth(1), "same trace: {traceparent}");
}

async fn a_delivery_carries_the_cloud_event_and_the_dapr_headers(kind: SidecarKind) {
    let run = Run::new();
    let app = app_answering(kind, &run, |_| status("SUCCESS")).require_token("app-secret").spawn().await;
    let sidecar = Sidecar::builder().app(&app).app_token("app-secret").start(kind).await;
    let event = run.event(Uuid::now_v7(), "one");
    publish_event(&sidecar.client(None), &event).await;

    let received = &app.wait_received_on(EVENTS_ROUTE, 1).await[0];
    let subscribe_call = &app.subscribe_calls()[0];
    assert_eq!(subscribe_call.get("dapr-api-token").and_then(|v| v.to_str().ok()), Some("app-secret"));

    let cloud_event = received.json();
    let event_id = event.event_id.to_string();
    assert_eq!(cloud_event["id"], event_id.as_str());
    assert_eq!(cloud_event["type"], "tasks.deleted");
    assert_eq!(cloud_event["source"], sidecar.app_id());
    assert_eq!(cloud_event["specversion"], "1.0");
    assert_eq!(cloud_event["datacontenttype"], "application/json");
    assert_eq!(cloud_event["topic"], TOPIC);
    assert_eq!(cloud_event["pubsubname"], DEFAULT_PUBSUB);
    assert_eq!(cloud_event["tracestate"], "");
    assert_eq!(cloud_event["traceid"], cloud_event["traceparent"]);
    assert_same_trace(cloud_event["traceparent"].as_str().expect("a traceparent"));
    assert_ne!(cloud_event["traceparent"], TRACEPARENT, "the sidecar's publish span");
    let time = cloud_event["time"].as_str().expect("a time");
    let parsed = DateTime::parse_from_rfc3339(time).expect("RFC 3339");
    assert!(time.ends_with('Z') && !time.contains('.'), "{time}");
    assert!((Utc::now() - parsed.with_timezone(&Utc)).num_seconds().abs() < 60);
    let typed: CloudEvent = serde_json::from_value(cloud_event.clone()).expect("parses");
    assert_eq!(TaskEvent::from_cloud_event(&typed), Ok(event.clone()));

    assert_eq!(received.path, EVENTS_ROUTE);
    assert_eq!(received.header("content-type"), Some("application/cloudevents+json"));
    assert_eq!(received.header("dapr-api-token"), Some("app-secret"));
    assert_eq!(received.header("pubsubname"), Some(DEFAULT_PUBSUB));
    assert_eq!(received.header("__topic"), Some(TOPIC));
    assert_eq!(received.header("__key"), Some(event.task_id.to_string().as_str()));
    assert_eq!(received.header("correlationid"), Some("corr-one"));
    assert_eq!(received.header("cloudevent.id"), Some(event_id.as_str()));
    assert_eq!(received.header("cloudevent.type"), Some("tasks.deleted"));
    assert!(received.header("__partition").is_some_and(|p| p.parse::<u32>().is_ok()));
    assert!(received.header("__offset").is_some_and(|o| o.parse::<u64>().is_ok()));
    let timestamp = received.header("__timestamp").and_then(|t| t.parse::<i64>().ok()).expect("a timestamp");
    assert!((Utc::now().timestamp_millis() - timestamp).abs() < 60_000, "{timestamp}");
    let traceparent = received.header("traceparent").expect("a trace header");
    assert_same_trace(traceparent);
    assert_ne!(Some(traceparent), cloud_event["traceparent"].as_str(), "the sidecar's callback span");

    if let Some(emulator) = sidecar.emulator() {
        assert_eq!(received.body, emulator.published(TOPIC)[0].body, "the stored bytes");
        let records = emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished");
        assert_eq!(records[0].outcome, DeliveryOutcome::Success);
        assert_eq!(records[0].attempts, 1);
        assert_eq!(records[0].message_id, Some(event_id));
        assert!(emulator.published(DEAD_LETTER_TOPIC).is_empty());
    }
}

async fn retry_then_success_is_delivered_again_after_the_retry_interval(kind: SidecarKind) {
    let run = Run::new();
    let app = app_answering(kind, &run, |r| if r.attempt == 0 { status("RETRY") } else { status("SUCCESS") })
        .spawn()
        .await;
    let sidecar = Sidecar::builder().app(&app).start(kind).await;
    let key = Uuid::now_v7();
    publish_event(&sidecar.client(None), &run.event(key, "retried")).await;
    publish_event(&sidecar.client(None), &run.event(key, "next")).await;

    // The next message of the key waits until the retried one is acked, so it arrives last.
    let received = app.wait_received_on(EVENTS_ROUTE, 3).await;
    assert_eq!(received.iter().map(tag_of).collect::<Vec<_>>(), ["retried", "retried", "next"]);
    assert_eq!(received[0].body, received[1].body);
    assert!(received[1].at - received[0].at >= kind.retry_policy().interval);

    if let Some(emulator) = sidecar.emulator() {
        let record = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished")[0];
        assert_eq!((record.outcome.clone(), record.attempts), (DeliveryOutcome::Success, 2));
        assert!(record.last_error.as_deref().is_some_and(|e| e.contains("RETRY")));
        assert!(emulator.published(DEAD_LETTER_TOPIC).is_empty());
    }
}

async fn drop_goes_to_the_dead_letter_topic_without_retries(kind: SidecarKind) {
    let run = Run::new();
    let app = app_answering(kind, &run, |_| status("DROP")).spawn().await;
    let sidecar = Sidecar::builder().app(&app).start(kind).await;
    let event = run.event(Uuid::now_v7(), "poison");
    publish_event(&sidecar.client(None), &event).await;

    let dead = &app.wait_received_on(DEAD_LETTER_ROUTE, 1).await[0];
    let delivered = app.received_on(EVENTS_ROUTE);
    assert_eq!(delivered.len(), 1, "no retries");
    assert_eq!(dead.body, delivered[0].body, "the original bytes");
    assert_eq!(dead.json()["topic"], TOPIC, "the original topic");
    // The copy carries the original record's coordinates as headers, and they win.
    for header in
        ["__topic", "__partition", "__offset", "__timestamp", "__key", "correlationid", "cloudevent.id"]
    {
        assert_eq!(dead.header(header), delivered[0].header(header), "{header}");
    }
    assert_eq!(dead.header("__topic"), Some(TOPIC));
    assert_eq!(dead.header("__key"), Some(event.task_id.to_string().as_str()));

    if let Some(emulator) = sidecar.emulator() {
        let record = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished")[0];
        assert_eq!((record.outcome.clone(), record.attempts), (DeliveryOutcome::Dropped, 1));
        assert_eq!(record.dead_letter_topic.as_deref(), Some(DEAD_LETTER_TOPIC));
        assert_eq!(emulator.published(DEAD_LETTER_TOPIC)[0].dead_letter_of.as_deref(), Some(TOPIC));
    }
}

async fn not_found_is_acked_without_a_dead_letter_copy(kind: SidecarKind) {
    let run = Run::new();
    let app = app_answering(kind, &run, |r| {
        if tag_of(r) == "missing" { (StatusCode::NOT_FOUND, String::new()) } else { status("SUCCESS") }
    })
    .spawn()
    .await;
    let sidecar = Sidecar::builder().app(&app).start(kind).await;
    let client = sidecar.client(None);
    let key = Uuid::now_v7();
    publish_event(&client, &run.event(key, "missing")).await;
    publish_event(&client, &run.event(key, "next")).await;

    // Once the next message of the key arrives, the 404 was settled: any dead-letter copy of
    // it was written by then, so it would reach the (one-partition) dead-letter topic before a
    // marker published now.
    let received = app.wait_received_on(EVENTS_ROUTE, 2).await;
    assert_eq!(received.iter().map(tag_of).collect::<Vec<_>>(), ["missing", "next"], "no retries");
    try_publish_event_to(&client, DEAD_LETTER_TOPIC, &run.event(key, "marker")).await.expect("published");
    let dead = app.wait_received_on(DEAD_LETTER_ROUTE, 1).await;
    assert_eq!(dead.iter().map(tag_of).collect::<Vec<_>>(), ["marker"]);

    if let Some(emulator) = sidecar.emulator() {
        let record = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished")[0];
        assert_eq!((record.outcome.clone(), record.attempts), (DeliveryOutcome::NotFound, 1));
        assert_eq!(record.dead_letter_topic, None);
    }
}

async fn exhausted_retries_go_to_the_dead_letter_topic(kind: SidecarKind) {
    let run = Run::new();
    let app = app_answering(kind, &run, |_| (StatusCode::INTERNAL_SERVER_ERROR, "boom".into())).spawn().await;
    let sidecar = Sidecar::builder().app(&app).start(kind).await;
    publish_event(&sidecar.client(None), &run.event(Uuid::now_v7(), "x")).await;

    let dead = &app.wait_received_on(DEAD_LETTER_ROUTE, 1).await[0];
    let attempts = app.received_on(EVENTS_ROUTE);
    let policy = kind.retry_policy();
    assert_eq!(attempts.len(), policy.max_retries as usize + 1, "one attempt and every retry");
    assert!(attempts.iter().all(|a| a.body == dead.body));
    assert!(attempts.windows(2).all(|pair| pair[1].at - pair[0].at >= policy.interval));

    if let Some(emulator) = sidecar.emulator() {
        let record = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished")[0];
        assert_eq!(record.outcome, DeliveryOutcome::RetriesExhausted);
        assert_eq!(record.dead_letter_topic.as_deref(), Some(DEAD_LETTER_TOPIC));
        assert!(record.last_error.as_deref().is_some_and(|e| e.contains("500")));
    }
}

async fn a_lowercase_status_is_retried_like_an_error(kind: SidecarKind) {
    let run = Run::new();
    let app = app_answering(kind, &run, |_| status("success")).spawn().await;
    let sidecar = Sidecar::builder().app(&app).start(kind).await;
    publish_event(&sidecar.client(None), &run.event(Uuid::now_v7(), "x")).await;

    app.wait_received_on(DEAD_LETTER_ROUTE, 1).await;
    assert_eq!(app.received_on(EVENTS_ROUTE).len(), kind.retry_policy().max_retries as usize + 1);
}

async fn any_2xx_without_a_known_status_is_success(kind: SidecarKind) {
    let run = Run::new();
    let app = app_answering(kind, &run, |_| (StatusCode::ACCEPTED, "OK".into())).spawn().await;
    let sidecar = Sidecar::builder().app(&app).start(kind).await;
    let key = Uuid::now_v7();
    publish_event(&sidecar.client(None), &run.event(key, "first")).await;
    publish_event(&sidecar.client(None), &run.event(key, "second")).await;

    // A retry of the first would arrive before the second: same key, same partition.
    let received = app.wait_received_on(EVENTS_ROUTE, 2).await;
    assert_eq!(received.iter().map(tag_of).collect::<Vec<_>>(), ["first", "second"]);
    assert!(app.received_on(DEAD_LETTER_ROUTE).is_empty());
}

async fn order_is_kept_per_key_while_a_message_is_retried(kind: SidecarKind) {
    let run = Run::new();
    let app = app_answering(kind, &run, |r| {
        if tag_of(r) == "a1" && r.attempt == 0 { status("RETRY") } else { status("SUCCESS") }
    })
    .spawn()
    .await;
    let sidecar = Sidecar::builder().app(&app).start(kind).await;
    let client = sidecar.client(None);
    let key = Uuid::now_v7();
    for tag in ["a1", "a2", "a3", "a4"] {
        publish_event(&client, &run.event(key, tag)).await;
    }

    let received = app.wait_received_on(EVENTS_ROUTE, 5).await;
    assert_eq!(received.iter().map(tag_of).collect::<Vec<_>>(), ["a1", "a1", "a2", "a3", "a4"]);
    if let Some(emulator) = sidecar.emulator() {
        let records = emulator.wait_for_deliveries(TOPIC, 4, WAIT).await.expect("finished");
        assert!(records.iter().all(|r| r.outcome == DeliveryOutcome::Success));
    }
}

/// The relay's bulk publish: the consumers de-duplicate on the CloudEvent id, so every entry
/// must arrive with the id, type and key its own metadata gave it, not ones the sidecar made up.
async fn a_bulk_publish_delivers_each_entry_with_our_id_key_and_trace(kind: SidecarKind) {
    let run = Run::new();
    let app = app_answering(kind, &run, |_| status("SUCCESS")).spawn().await;
    let sidecar = Sidecar::builder().app(&app).start(kind).await;
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let events = [run.event(first, "b1"), run.event(second, "b2"), run.event(first, "b3")];
    try_publish_bulk(&sidecar.client(None), &events).await.expect("all entries published");

    let received = app.wait_received_on(EVENTS_ROUTE, 3).await;
    for event in &events {
        let tag = match &event.payload {
            events::EventPayload::Deleted { title } => title.as_str(),
            other => panic!("unexpected payload {other:?}"),
        };
        let got = received.iter().find(|r| tag_of(r) == tag).unwrap_or_else(|| panic!("{tag} delivered"));
        let cloud_event = got.json();
        assert_eq!(cloud_event["id"], event.event_id.to_string().as_str(), "{tag}");
        assert_eq!(cloud_event["type"], "tasks.deleted");
        assert_eq!(cloud_event["source"], sidecar.app_id());
        assert_eq!(cloud_event["datacontenttype"], "application/json");
        // The entry's own trace context, verbatim: a bulk call has no per-entry header.
        assert_eq!(cloud_event["traceparent"], TRACEPARENT);
        assert_eq!(cloud_event["traceid"], TRACEPARENT);
        assert_eq!(got.header("__key"), Some(event.task_id.to_string().as_str()), "{tag}");
        assert_eq!(got.header("correlationid"), Some(format!("corr-{tag}").as_str()));
        assert_same_trace(got.header("traceparent").expect("a trace header"));
        let typed: CloudEvent = serde_json::from_value(cloud_event).expect("parses");
        assert_eq!(TaskEvent::from_cloud_event(&typed).as_ref(), Ok(event));
    }
    // Entries of one key in one call: written in the order given while none fails.
    let of_first: Vec<String> = received
        .iter()
        .filter(|r| r.header("__key") == Some(first.to_string().as_str()))
        .map(tag_of)
        .collect();
    assert_eq!(of_first, ["b1", "b3"]);
}

// --- Emulator only ------------------------------------------------------------------------------

#[tokio::test]
async fn messages_published_before_the_app_subscribes_are_delivered_once_discovered() {
    let app = TestApp::builder(json!([])).spawn().await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    let client = client(&emulator, None);
    let key = Uuid::now_v7();
    publish_event(&client, &task_event(key, "first")).await;
    publish_event(&client, &task_event(key, "second")).await;
    assert!(emulator.deliveries(TOPIC).is_empty());

    app.set_subscriptions(json!([subscription(TOPIC, "/events")]));
    let discovered = emulator.discover().await.expect("discovered");
    assert_eq!(discovered.len(), 1);

    let received = app.wait_received(2).await;
    assert_eq!(received.iter().map(tag_of).collect::<Vec<_>>(), ["first", "second"]);
    // Re-discovery keeps the consumer position: nothing is delivered twice.
    emulator.discover().await.expect("discovered again");
    publish_event(&client, &task_event(key, "third")).await;
    let received = app.wait_received(3).await;
    assert_eq!(received.iter().map(tag_of).collect::<Vec<_>>(), ["first", "second", "third"]);
}

#[tokio::test]
async fn discovery_waits_for_the_app_to_listen() {
    // Reserve a port, free it, and start the app there only after the emulator.
    let port = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr").port();
    let url = format!("http://127.0.0.1:{port}");
    let emulator = dapr_emulator::Emulator::builder()
        .app_url(&url)
        .retry_policy(RetryPolicy { max_retries: 0, interval: Duration::ZERO })
        .start()
        .await
        .expect("starts although the app is down");
    assert!(emulator.subscriptions().is_empty());
    publish_event(&client(&emulator, None), &task_event(Uuid::now_v7(), "early")).await;

    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("the reserved port is free");
    let app = TestApp::builder(json!([subscription(TOPIC, "/events")])).spawn_on(listener);
    let received = app.wait_received(1).await;
    assert_eq!(tag_of(&received[0]), "early");
}

#[tokio::test]
async fn without_a_dead_letter_topic_the_message_is_redelivered_until_it_succeeds() {
    let no_dead_letter = json!([{ "pubsubname": DEFAULT_PUBSUB, "topic": TOPIC, "route": "/events" }]);
    let app = TestApp::builder(no_dead_letter)
        .responder(|r| if r.attempt < 4 { status("RETRY") } else { status("SUCCESS") })
        .spawn()
        .await;
    let emulator = fast_emulator(&app)
        .retry_policy(RetryPolicy { max_retries: 1, interval: Duration::from_millis(5) })
        .redelivery_interval(Some(Duration::from_millis(10)))
        .start()
        .await
        .expect("starts");
    publish_event(&client(&emulator, None), &task_event(Uuid::now_v7(), "x")).await;

    let record = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished")[0];
    assert_eq!(record.outcome, DeliveryOutcome::Success);
    assert_eq!(record.attempts, 5, "two policy runs of two attempts, then a third run");
    assert_eq!(record.dead_letter_topic, None);
}

#[tokio::test]
async fn without_dead_letter_or_redelivery_the_message_is_skipped() {
    let no_dead_letter = json!([{ "pubsubname": DEFAULT_PUBSUB, "topic": TOPIC, "route": "/events" }]);
    let app = TestApp::builder(no_dead_letter)
        .responder(|r| if tag_of(r) == "bad" { status("RETRY") } else { status("SUCCESS") })
        .spawn()
        .await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    let client = client(&emulator, None);
    let key = Uuid::now_v7();
    publish_event(&client, &task_event(key, "bad")).await;
    publish_event(&client, &task_event(key, "good")).await;

    let records = emulator.wait_for_deliveries(TOPIC, 2, WAIT).await.expect("finished");
    assert_eq!(records[0].outcome, DeliveryOutcome::RetriesExhausted);
    assert_eq!(records[0].dead_letter_topic, None);
    assert_eq!(records[1].outcome, DeliveryOutcome::Success);
    assert!(emulator.published(DEAD_LETTER_TOPIC).is_empty());
}

#[tokio::test]
async fn a_retried_key_does_not_block_other_keys() {
    let app = TestApp::builder(json!([subscription(TOPIC, "/events")]))
        .responder(
            |r| if tag_of(r) == "slow" && r.attempt == 0 { status("RETRY") } else { status("SUCCESS") },
        )
        .spawn()
        .await;
    let emulator = fast_emulator(&app)
        .retry_policy(RetryPolicy { max_retries: 1, interval: Duration::from_secs(2) })
        .start()
        .await
        .expect("starts");
    let client = client(&emulator, None);
    publish_event(&client, &task_event(Uuid::now_v7(), "slow")).await;
    publish_event(&client, &task_event(Uuid::now_v7(), "fast")).await;

    let first = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("one finished")[0];
    assert_eq!(first.message_id, emulator.published(TOPIC)[1].id().map(str::to_owned), "the other key first");
    let records = emulator.wait_for_deliveries(TOPIC, 2, WAIT).await.expect("both finished");
    assert_eq!((records[1].outcome.clone(), records[1].attempts), (DeliveryOutcome::Success, 2));
}

#[tokio::test]
async fn without_the_app_token_discovery_finds_no_subscriptions() {
    let app =
        TestApp::builder(json!([subscription(TOPIC, "/events")])).require_token("app-secret").spawn().await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    assert!(emulator.subscriptions().is_empty());
    assert_eq!(emulator.discover().await, Err(DiscoveryError::Status(401)));
    assert!(app.subscribe_calls()[0].get("dapr-api-token").is_none());
}

#[tokio::test]
async fn a_non_string_metadata_value_cancels_every_subscription() {
    let app = TestApp::builder(json!([
        subscription("other", "/other"),
        {
            "pubsubname": DEFAULT_PUBSUB,
            "topic": TOPIC,
            "route": "/e",
            "metadata": { "rawPayload": true }
        }
    ]))
    .spawn()
    .await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    assert!(emulator.subscriptions().is_empty());
    assert!(matches!(emulator.discover().await, Err(DiscoveryError::Invalid(_))));
}

#[tokio::test]
async fn routing_rules_choose_the_path() {
    let app = TestApp::builder(json!([{
        "pubsubname": DEFAULT_PUBSUB,
        "topic": TOPIC,
        "routes": {
            "rules": [{ "match": "event.type == \"tasks.created\"", "path": "/created" }],
            "default": "/other"
        }
    }]))
    .spawn()
    .await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    for event_type in ["tasks.created", "tasks.deleted"] {
        raw_publish(&emulator, &format!("{TOPIC}?metadata.cloudevent.type={event_type}"))
            .header(CONTENT_TYPE, "application/json")
            .body("{}")
            .send()
            .await
            .expect("sent");
    }
    let received = app.wait_received(2).await;
    let mut paths: Vec<_> = received.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/created", "/other"]);
}

#[tokio::test]
async fn an_unroutable_message_is_acked_and_dead_lettered() {
    let app = TestApp::builder(json!([{
        "pubsubname": DEFAULT_PUBSUB,
        "topic": TOPIC,
        "routes": { "rules": [{ "match": "event.type == \"never\"", "path": "/never" }] },
        "deadLetterTopic": DEAD_LETTER_TOPIC
    }]))
    .spawn()
    .await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    publish_event(&client(&emulator, None), &task_event(Uuid::now_v7(), "x")).await;

    let record = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished")[0];
    assert_eq!((record.outcome.clone(), record.attempts), (DeliveryOutcome::Unroutable, 0));
    assert_eq!(emulator.published(DEAD_LETTER_TOPIC).len(), 1);
    assert!(app.received().is_empty());
}

#[tokio::test]
async fn an_expired_message_is_not_delivered_but_dead_lettered() {
    let app = TestApp::builder(json!([subscription(TOPIC, "/events")])).spawn().await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    raw_publish(&emulator, TOPIC)
        .header(CONTENT_TYPE, "application/cloudevents+json")
        .body(r#"{"id":"old","expiration":"2000-01-01T00:00:00Z","data":{}}"#)
        .send()
        .await
        .expect("sent");

    let record = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished")[0];
    assert_eq!(record.outcome, DeliveryOutcome::Expired);
    assert_eq!(emulator.published(DEAD_LETTER_TOPIC).len(), 1);
    assert!(app.received().is_empty());
}

#[tokio::test]
async fn a_raw_payload_subscription_gets_a_synthesized_cloud_event() {
    let app = TestApp::builder(json!([{
        "pubsubname": DEFAULT_PUBSUB, "topic": "raw", "route": "/raw",
        "metadata": { "rawPayload": "true" }
    }]))
    .spawn()
    .await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    raw_publish(&emulator, "raw?metadata.rawPayload=true").body("hello").send().await.expect("sent");

    let delivered = app.wait_received(1).await[0].json();
    assert_eq!(delivered["data_base64"], "aGVsbG8=");
    assert_eq!(delivered["datacontenttype"], "application/octet-stream");
    assert_eq!(delivered["source"], "Dapr");
    assert!(delivered["id"].as_str().is_some_and(|id| Uuid::parse_str(id).is_ok()));
}

#[tokio::test]
async fn a_raw_payload_on_a_cloud_event_subscription_is_dead_lettered() {
    let app = TestApp::builder(json!([subscription(TOPIC, "/events")])).spawn().await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    raw_publish(&emulator, &format!("{TOPIC}?metadata.rawPayload=true"))
        .body("not json")
        .send()
        .await
        .expect("sent");

    let record = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished")[0];
    assert!(matches!(record.outcome, DeliveryOutcome::Undeliverable(_)), "{:?}", record.outcome);
    assert_eq!(emulator.published(DEAD_LETTER_TOPIC)[0].body, "not json".as_bytes());
    assert!(app.received().is_empty());
}

#[tokio::test]
async fn a_failed_dead_letter_publish_is_redelivered_until_the_broker_is_back() {
    let app = TestApp::builder(json!([])).responder(|_| status("DROP")).spawn().await;
    let emulator = fast_emulator(&app)
        .redelivery_interval(Some(Duration::from_millis(10)))
        .start()
        .await
        .expect("starts");
    publish_event(&client(&emulator, None), &task_event(Uuid::now_v7(), "x")).await;

    emulator.set_broker_down(true);
    app.set_subscriptions(json!([subscription(TOPIC, "/events")]));
    emulator.discover().await.expect("discovered");
    app.wait_received(2).await;
    assert!(emulator.deliveries(TOPIC).is_empty(), "not acked while the DLQ write fails");

    emulator.set_broker_down(false);
    let record = &emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("finished")[0];
    assert_eq!(record.outcome, DeliveryOutcome::Dropped);
    assert_eq!(record.dead_letter_topic.as_deref(), Some(DEAD_LETTER_TOPIC));
    assert_eq!(emulator.published(DEAD_LETTER_TOPIC).len(), 1);
}

#[tokio::test]
async fn a_restart_rediscovers_and_delivers_what_was_published_meanwhile() {
    let app = TestApp::builder(json!([subscription(TOPIC, "/events")])).spawn().await;
    let emulator = fast_emulator(&app).start().await.expect("starts");
    let client = client(&emulator, None);
    publish_event(&client, &task_event(Uuid::now_v7(), "before")).await;
    // Wait for the ack, not just the receipt: stopping in between would redeliver it.
    emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("acked");

    emulator.stop().await;
    emulator.restart().await.expect("restarts");
    assert_eq!(app.subscribe_calls().len(), 2, "a sidecar asks once per start");
    publish_event(&client, &task_event(Uuid::now_v7(), "after")).await;

    let received = app.wait_received(2).await;
    assert_eq!(received.iter().map(tag_of).collect::<Vec<_>>(), ["before", "after"]);
    let records = emulator.wait_for_deliveries(TOPIC, 2, WAIT).await.expect("finished");
    assert_eq!(records.len(), 2, "the acked message is not delivered again");
}

#[tokio::test]
async fn a_message_in_flight_during_a_restart_is_delivered_again() {
    let app = TestApp::builder(json!([subscription(TOPIC, "/events")]))
        .responder(|r| if r.attempt == 0 { status("RETRY") } else { status("SUCCESS") })
        .spawn()
        .await;
    // The retry wait keeps the message in flight long after the first attempt.
    let emulator = fast_emulator(&app)
        .retry_policy(RetryPolicy { max_retries: 1, interval: Duration::from_secs(30) })
        .start()
        .await
        .expect("starts");
    publish_event(&client(&emulator, None), &task_event(Uuid::now_v7(), "x")).await;
    app.wait_received(1).await;

    emulator.restart().await.expect("restarts");
    let received = app.wait_received(2).await;
    assert_eq!(received[0].body, received[1].body);
    let records = emulator.wait_for_deliveries(TOPIC, 1, WAIT).await.expect("acked after the restart");
    assert_eq!((records[0].outcome.clone(), records[0].attempts), (DeliveryOutcome::Success, 1));
}

#[tokio::test]
async fn instances_of_one_app_share_the_keys_like_a_consumer_group() {
    let spawn = || TestApp::builder(json!([subscription(TOPIC, "/events")])).spawn();
    let (first, second) = (spawn().await, spawn().await);
    let emulator = fast_emulator(&first).app_url(&second.url).start().await.expect("starts");
    let client = client(&emulator, None);
    // Enough keys that both instances get some (each key lands on one: 2^-31 that all share one).
    let keys: Vec<Uuid> = (0..32).map(|_| Uuid::now_v7()).collect();
    for round in 0..3 {
        for (k, key) in keys.iter().enumerate() {
            publish_event(&client, &task_event(*key, &format!("{k}-{round}"))).await;
        }
    }

    let deadline = Instant::now() + WAIT;
    while first.received().len() + second.received().len() < keys.len() * 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (at_first, at_second) = (first.received(), second.received());
    assert_eq!(at_first.len() + at_second.len(), keys.len() * 3, "each message delivered once");
    assert!(!at_first.is_empty() && !at_second.is_empty(), "both instances consume");
    for k in 0..keys.len() {
        let of_key = |received: &[Received]| -> Vec<String> {
            received.iter().map(tag_of).filter(|tag| tag.starts_with(&format!("{k}-"))).collect()
        };
        let (a, b) = (of_key(&at_first), of_key(&at_second));
        let expected: Vec<String> = (0..3).map(|round| format!("{k}-{round}")).collect();
        assert!(
            (a == expected && b.is_empty()) || (b == expected && a.is_empty()),
            "key {k}: one instance, in order; got {a:?} and {b:?}"
        );
    }
}

#[tokio::test]
async fn a_process_forgets_what_it_delivered_and_keeps_what_it_has_not() {
    let app = TestApp::builder(json!([])).spawn().await;
    let emulator = fast_emulator(&app).forget_delivered().start().await.expect("starts");
    let client = client(&emulator, None);
    let key = Uuid::now_v7();
    // Published before the app subscribes: kept until delivered, then forgotten.
    for tag in ["one", "two", "three"] {
        publish_event(&client, &task_event(key, tag)).await;
    }
    assert_eq!(emulator.published(TOPIC).len(), 3);
    app.set_subscriptions(json!([subscription(TOPIC, "/events")]));
    emulator.discover().await.expect("discovered");
    let received = app.wait_received(3).await;
    assert_eq!(received.iter().map(tag_of).collect::<Vec<_>>(), ["one", "two", "three"]);
    let deadline = Instant::now() + WAIT;
    while !emulator.published(TOPIC).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(emulator.published(TOPIC).is_empty(), "delivered messages are forgotten");
    assert!(emulator.deliveries(TOPIC).is_empty(), "no delivery records kept");
    // Offsets go on from where the forgotten ones ended.
    publish_event(&client, &task_event(key, "four")).await;
    let received = app.wait_received(4).await;
    assert_eq!(tag_of(&received[3]), "four");
    assert_eq!(received[3].header("__offset"), Some("3"));
}

#[tokio::test]
async fn a_publisher_only_process_keeps_nothing() {
    let emulator = dapr_emulator::Emulator::builder().forget_delivered().start().await.expect("starts");
    let client = client(&emulator, None);
    let key = Uuid::now_v7();
    for tag in ["one", "two", "three"] {
        publish_event(&client, &task_event(key, tag)).await;
    }
    assert!(emulator.published(TOPIC).is_empty(), "no app will read them: nothing is kept");
    emulator.stop().await;
}
