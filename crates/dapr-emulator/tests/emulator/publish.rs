//! The publish API (§1): what gets stored, and every error answer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use dapr_emulator::Emulator;
use events::{DEFAULT_PUBSUB, TOPIC, TaskEvent, dapr::CloudEvent};
use reqwest::{StatusCode, header::CONTENT_TYPE};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{
        Run, TRACEPARENT, WAIT, client, publish_event, raw_bulk_publish, raw_publish, task_event,
        try_publish_bulk, try_publish_event,
    },
    sidecar::{Sidecar, SidecarKind, on_both_sidecars},
};

async fn emulator() -> dapr_emulator::EmulatorHandle {
    Emulator::builder().app_id("backend").start().await.expect("the emulator starts")
}

async fn error_body(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.expect("a JSON error body"))
}

// --- Shared with a real daprd (see `sidecar`) -------------------------------------------------

on_both_sidecars!(
    an_unknown_pubsub_is_404_and_not_retryable,
    the_api_token_is_required_except_for_health,
    an_empty_topic_is_not_a_publish_route,
    an_invalid_cloud_event_is_a_500_serialization_error,
    a_bad_raw_payload_flag_is_400,
    a_bulk_entry_without_a_unique_entry_id_is_400,
    a_bulk_entry_whose_event_does_not_match_its_content_type_is_400,
    the_v1_bulk_path_is_a_publish_to_a_pubsub_named_bulk,
);

async fn an_unknown_pubsub_is_404_and_not_retryable(kind: SidecarKind) {
    let sidecar = Sidecar::builder().start(kind).await;
    let data = json!({});
    let message = events::client::OutgoingMessage {
        id: "1",
        event_type: "tasks.created",
        partition_key: "k",
        correlation_id: None,
        traceparent: None,
        data: &data,
    };
    let err =
        sidecar.client(None).publish("pubsub-redis", TOPIC, &message).await.expect_err("unknown component");
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND), "{err:?}");
    assert_eq!(err.error_code(), Some("ERR_PUBSUB_NOT_FOUND"), "{err:?}");
    let response =
        sidecar.raw_publish(&format!("pubsub-redis/{TOPIC}")).body("{}").send().await.expect("sent");
    let (_, body) = error_body(response).await;
    assert_eq!(body["message"], "pubsub pubsub-redis is not found");
    assert_eq!(reason(&body), Some("DAPR_PUBSUB_NOT_FOUND"));
    assert!(!err.is_retryable());
    if let Some(emulator) = sidecar.emulator() {
        assert!(emulator.published(TOPIC).is_empty());
    }
}

async fn the_api_token_is_required_except_for_health(kind: SidecarKind) {
    let sidecar = Sidecar::builder().api_token("right-token").start(kind).await;
    let run = Run::new();

    let response =
        sidecar.raw_publish(&format!("{DEFAULT_PUBSUB}/{TOPIC}")).body("{}").send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    assert_eq!(content_type, Some("text/plain; charset=utf-8"));
    assert_eq!(response.text().await.expect("a body"), "invalid api token\n", "Go's http.Error");

    let wrong = "wrong-secret-token";
    let err = try_publish_event(&sidecar.client(Some(wrong)), &run.event(Uuid::now_v7(), "x"))
        .await
        .expect_err("wrong token");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains(wrong) && !format!("{err:?}").contains(wrong));
    if let Some(emulator) = sidecar.emulator() {
        assert!(emulator.published(TOPIC).is_empty());
    }

    publish_event(&sidecar.client(Some("right-token")), &run.event(Uuid::now_v7(), "x")).await;
    if let Some(emulator) = sidecar.emulator() {
        assert_eq!(emulator.published(TOPIC).len(), 1);
        let recorded = emulator.published(TOPIC)[0].headers.get("dapr-api-token").cloned();
        assert_eq!(recorded.as_ref().and_then(|v| v.to_str().ok()), Some("right-token"));
    }

    for path in ["/v1.0/healthz", "/v1.0/healthz/outbound"] {
        let response = reqwest::get(format!("{}{path}", sidecar.base_url())).await.expect("sent");
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{path}");
    }
    assert!(sidecar.client(None).outbound_healthy().await);
}

async fn an_empty_topic_is_not_a_publish_route(kind: SidecarKind) {
    let sidecar = Sidecar::builder().start(kind).await;
    // daprd routes it to service invocation, before looking at the pub/sub name.
    for path in [format!("{DEFAULT_PUBSUB}/"), "pubsub-redis/".to_owned()] {
        let response = sidecar.raw_publish(&path).body("{}").send().await.expect("sent");
        let (status, body) = error_body(response).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["errorCode"], "ERR_DIRECT_INVOKE", "{path}");
    }
}

async fn an_invalid_cloud_event_is_a_500_serialization_error(kind: SidecarKind) {
    let sidecar = Sidecar::builder().start(kind).await;
    let response = sidecar
        .raw_publish(&format!("{DEFAULT_PUBSUB}/{TOPIC}"))
        .header(CONTENT_TYPE, "application/cloudevents+json")
        .body("{not json")
        .send()
        .await
        .expect("sent");
    let (status, body) = error_body(response).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["errorCode"], "ERR_PUBSUB_CLOUD_EVENTS_SER");
    assert_eq!(body["message"], "cannot create cloudevent");
    assert_eq!(reason(&body), Some("DAPR_PUBSUB_CLOUD_EVENT_CREATION"));
    if let Some(emulator) = sidecar.emulator() {
        assert!(emulator.published(TOPIC).is_empty());
    }
}

async fn a_bad_raw_payload_flag_is_400(kind: SidecarKind) {
    let sidecar = Sidecar::builder().start(kind).await;
    let path = format!("{DEFAULT_PUBSUB}/{TOPIC}?metadata.rawPayload=yes");
    let response = sidecar.raw_publish(&path).body("x").send().await.expect("sent");
    let (status, body) = error_body(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "ERR_PUBSUB_REQUEST_METADATA");
    assert_eq!(
        body["message"],
        "failed deserializing metadata. Error: rawPayload value must be a valid boolean: actual is 'yes'"
    );
    assert_eq!(reason(&body), Some("DAPR_PUBSUB_METADATA_DESERIALIZATION"));
}

fn bulk_entry(entry_id: Option<&str>, run: &Run) -> Value {
    let mut entry = json!({
        "event": { "run": run.id },
        "contentType": "application/json",
        "metadata": { "partitionKey": "k" },
    });
    if let Some(id) = entry_id {
        entry["entryId"] = json!(id);
    }
    entry
}

async fn a_bulk_entry_without_a_unique_entry_id_is_400(kind: SidecarKind) {
    let sidecar = Sidecar::builder().start(kind).await;
    let run = Run::new();
    let missing = json!([bulk_entry(Some("a"), &run), bulk_entry(None, &run)]);
    let duplicated = json!([bulk_entry(Some("a"), &run), bulk_entry(Some("a"), &run)]);
    for body in [missing, duplicated] {
        let response = raw_bulk_publish(sidecar.base_url(), &body).send().await.expect("sent");
        let (status, answer) = error_body(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["errorCode"], "ERR_PUBSUB_EVENTS_SER");
        assert_eq!(
            answer["message"],
            format!(
                "error marshaling events to bytes for topic {TOPIC} pubsub {DEFAULT_PUBSUB}. \
                 error: entryId is duplicated or not present for entry"
            )
        );
        assert_eq!(reason(&answer), Some("DAPR_PUBSUB_MARSHAL_EVENTS"));
    }
    if let Some(emulator) = sidecar.emulator() {
        assert!(emulator.published(TOPIC).is_empty(), "nothing of a refused call is published");
    }
}

async fn a_bulk_entry_whose_event_does_not_match_its_content_type_is_400(kind: SidecarKind) {
    let sidecar = Sidecar::builder().start(kind).await;
    let run = Run::new();
    let mut text_with_object = bulk_entry(Some("b"), &run);
    text_with_object["contentType"] = json!("text/plain");
    let mut no_content_type = bulk_entry(Some("c"), &run);
    no_content_type.as_object_mut().expect("an object").remove("contentType");
    for entry in [text_with_object, no_content_type] {
        let body = json!([bulk_entry(Some("a"), &run), entry]);
        let response = raw_bulk_publish(sidecar.base_url(), &body).send().await.expect("sent");
        let (status, answer) = error_body(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["errorCode"], "ERR_PUBSUB_EVENTS_SER");
        assert_eq!(reason(&answer), Some("DAPR_PUBSUB_MARSHAL_ENVELOPE"));
    }
    if let Some(emulator) = sidecar.emulator() {
        assert!(emulator.published(TOPIC).is_empty());
    }
}

/// Before 1.17 the bulk endpoint exists only as `v1.0-alpha1`; the same path under `v1.0` is a
/// single publish whose pub/sub is `bulk`, which is why the client uses the alpha path.
async fn the_v1_bulk_path_is_a_publish_to_a_pubsub_named_bulk(kind: SidecarKind) {
    let sidecar = Sidecar::builder().start(kind).await;
    let response = sidecar
        .raw_publish(&format!("bulk/{DEFAULT_PUBSUB}/{TOPIC}"))
        .json(&json!([bulk_entry(Some("a"), &Run::new())]))
        .send()
        .await
        .expect("sent");
    let (status, body) = error_body(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errorCode"], "ERR_PUBSUB_NOT_FOUND");
    assert_eq!(body["message"], "pubsub bulk is not found");
}

/// The `reason` of the `ErrorInfo` entry in a Dapr error's `details`.
fn reason(body: &Value) -> Option<&str> {
    body["details"]
        .as_array()?
        .iter()
        .find(|d| d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")?["reason"]
        .as_str()
}

// --- Emulator only ------------------------------------------------------------------------------

#[tokio::test]
async fn client_publish_stores_the_cloud_event_consumers_expect() {
    let emulator = emulator().await;
    let event = task_event(Uuid::now_v7(), "report");
    publish_event(&client(&emulator, None), &event).await;

    let published = emulator.wait_for(TOPIC, 1, WAIT).await.expect("one message");
    let message = &published[0];
    let cloud_event = message.cloud_event.as_ref().expect("a CloudEvent");
    let event_id = event.event_id.to_string();
    assert_eq!(message.pubsub, DEFAULT_PUBSUB);
    assert_eq!(message.id(), Some(event_id.as_str()));
    assert_eq!(cloud_event["type"], "tasks.deleted");
    assert_eq!(cloud_event["source"], "backend");
    assert_eq!(cloud_event["specversion"], "1.0");
    assert_eq!(cloud_event["datacontenttype"], "application/json");
    assert_eq!(cloud_event["topic"], TOPIC);
    assert_eq!(cloud_event["pubsubname"], DEFAULT_PUBSUB);
    // The sidecar's publish span: the caller's trace, a span of its own.
    assert_eq!(cloud_event["traceid"], cloud_event["traceparent"]);
    let traceparent = cloud_event["traceparent"].as_str().expect("a traceparent");
    assert_eq!(traceparent[..36], TRACEPARENT[..36], "{traceparent}");
    assert_ne!(traceparent, TRACEPARENT);
    assert_eq!(cloud_event["tracestate"], "");
    let time = cloud_event["time"].as_str().expect("a time");
    let parsed = DateTime::parse_from_rfc3339(time).expect("RFC 3339");
    assert!(time.ends_with('Z') && !time.contains('.'), "{time}");
    assert!((Utc::now() - parsed.with_timezone(&Utc)).num_seconds().abs() < 60);

    let task_key = event.task_id.to_string();
    assert_eq!(message.partition_key(), Some(task_key.as_str()));
    assert_eq!(message.metadata.get("correlationId").map(String::as_str), Some("corr-report"));
    assert_eq!(message.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/json"));

    let typed: CloudEvent = serde_json::from_value(cloud_event.clone()).expect("parses");
    assert_eq!(TaskEvent::from_cloud_event(&typed), Ok(event));
}

#[tokio::test]
async fn every_publish_gets_a_new_id_unless_cloudevent_id_is_set() {
    let emulator = emulator().await;
    for _ in 0..2 {
        let response = raw_publish(&emulator, "t1")
            .header(CONTENT_TYPE, "application/json")
            .body("{}")
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let response = raw_publish(&emulator, "t2?metadata.cloudevent.id=stable")
            .header(CONTENT_TYPE, "application/json")
            .body("{}")
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let generated: Vec<String> =
        emulator.published("t1").iter().map(|m| m.id().expect("an id").to_owned()).collect();
    assert_ne!(generated[0], generated[1]);
    for id in &generated {
        assert_eq!(Uuid::parse_str(id).map(|u| u.get_version_num()), Ok(4));
    }
    let fixed: Vec<_> = emulator.published("t2").iter().map(|m| m.id().map(str::to_owned)).collect();
    assert_eq!(fixed, [Some("stable".to_owned()), Some("stable".to_owned())]);
}

#[tokio::test]
async fn json_without_a_content_type_is_stored_as_a_string() {
    let emulator = emulator().await;
    let response = raw_publish(&emulator, "t").body(r#"{"a":1}"#).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let message = &emulator.published("t")[0];
    assert_eq!(message.data(), Some(&json!(r#"{"a":1}"#)));
    assert_eq!(message.cloud_event.as_ref().map(|ce| &ce["datacontenttype"]), Some(&json!("text/plain")));
}

#[tokio::test]
async fn an_apps_own_cloud_event_is_kept_with_topic_and_pubsub_overwritten() {
    let emulator = emulator().await;
    let response = raw_publish(&emulator, "t?metadata.cloudevent.id=ignored")
        .header(CONTENT_TYPE, "application/cloudevents+json")
        .body(r#"{"id":"mine","type":"custom","topic":"elsewhere","data":{"n":1}}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cloud_event = emulator.published("t")[0].cloud_event.clone().expect("JSON");
    assert_eq!(cloud_event["id"], "mine");
    assert_eq!(cloud_event["type"], "custom");
    assert_eq!(cloud_event["source"], "Dapr");
    assert_eq!(cloud_event["topic"], "t");
    assert_eq!(cloud_event["pubsubname"], DEFAULT_PUBSUB);
    assert_eq!(cloud_event["data"], json!({ "n": 1 }));
}

#[tokio::test]
async fn raw_payloads_are_stored_verbatim_and_bad_flags_are_400() {
    let emulator = emulator().await;
    let response = raw_publish(&emulator, "t?metadata.rawPayload=true&metadata.ttlInSeconds=60")
        .header(CONTENT_TYPE, "application/json")
        .body("not a cloud event")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let message = &emulator.published("t")[0];
    assert!(message.raw_payload);
    assert_eq!(&message.body[..], b"not a cloud event");
    assert_eq!(message.cloud_event, None);

    let response = raw_publish(&emulator, "t?metadata.rawPayload=yes").body("x").send().await.expect("sent");
    let (status, body) = error_body(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "ERR_PUBSUB_REQUEST_METADATA");
    assert_eq!(emulator.published("t").len(), 1);
}

#[tokio::test]
async fn ttl_sets_an_expiration_on_cloud_events() {
    let emulator = emulator().await;
    raw_publish(&emulator, "t?metadata.ttlInSeconds=3600")
        .header(CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .expect("sent");
    let cloud_event = emulator.published("t")[0].cloud_event.clone().expect("JSON");
    let expiration = cloud_event["expiration"].as_str().expect("an expiration");
    let expiration = DateTime::parse_from_rfc3339(expiration).expect("RFC 3339");
    let remaining = expiration.with_timezone(&Utc) - Utc::now();
    assert!((3590..=3600).contains(&remaining.num_seconds()), "{remaining}");
}

#[tokio::test]
async fn put_and_topics_with_slashes_are_accepted() {
    let emulator = emulator().await;
    let response = reqwest::Client::new()
        .put(format!("{}/v1.0/publish/{DEFAULT_PUBSUB}/orders/eu", emulator.base_url()))
        .header(CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let messages = emulator.published("orders/eu");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].cloud_event.as_ref().map(|ce| &ce["topic"]), Some(&json!("orders/eu")));
}

#[tokio::test]
async fn the_first_value_of_a_repeated_metadata_key_wins() {
    let emulator = emulator().await;
    raw_publish(
        &emulator,
        "t?metadata.partitionKey=first&metadata.partitionKey=second&metadata.cloudevent.type=x",
    )
    .body("{}")
    .send()
    .await
    .expect("sent");
    let message = &emulator.published("t")[0];
    assert_eq!(message.partition_key(), Some("first"));
    assert_eq!(message.cloud_event.as_ref().map(|ce| &ce["type"]), Some(&json!("x")));
}

#[tokio::test]
async fn a_broker_outage_answers_500_and_the_client_may_retry() {
    let emulator = emulator().await;
    let client = client(&emulator, None);
    let event = task_event(Uuid::now_v7(), "x");

    emulator.set_broker_down(true);
    let err = try_publish_event(&client, &event).await.expect_err("broker down");
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(err.error_code(), Some("ERR_PUBSUB_PUBLISH_MESSAGE"));
    assert!(err.is_retryable());
    assert!(emulator.published(TOPIC).is_empty());
    assert!(client.outbound_healthy().await, "the sidecar itself is still up");

    emulator.set_broker_down(false);
    publish_event(&client, &event).await;
    assert_eq!(emulator.published(TOPIC).len(), 1);
}

#[tokio::test]
async fn a_stopped_sidecar_refuses_connections_until_restarted_on_the_same_port() {
    let emulator = emulator().await;
    let client = client(&emulator, None);
    let port = emulator.port();
    publish_event(&client, &task_event(Uuid::now_v7(), "before")).await;

    emulator.stop().await;
    let err = try_publish_event(&client, &task_event(Uuid::now_v7(), "during")).await.expect_err("down");
    assert!(matches!(err, events::client::PublishError::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(!client.outbound_healthy().await);

    emulator.restart().await.expect("restarts");
    assert_eq!(emulator.port(), port);
    assert!(client.outbound_healthy().await);
    publish_event(&client, &task_event(Uuid::now_v7(), "after")).await;
    let titles: Vec<_> =
        emulator.published(TOPIC).iter().map(|m| m.data().map(|d| d["title"].clone())).collect();
    assert_eq!(titles, [Some(json!("before")), Some(json!("after"))]);
}

#[tokio::test]
async fn wait_for_gives_up_with_what_it_saw() {
    let emulator = emulator().await;
    let err =
        emulator.wait_for("nothing", 1, Duration::from_millis(20)).await.expect_err("nothing published");
    assert_eq!((err.wanted, err.seen), (1, 0));
    assert!(err.to_string().contains("`nothing`"), "{err}");
}

#[tokio::test]
async fn bulk_publish_stores_each_entry_in_order_with_its_own_metadata() {
    let emulator = emulator().await;
    let key = Uuid::now_v7();
    let events = [task_event(key, "one"), task_event(Uuid::now_v7(), "two"), task_event(key, "three")];
    try_publish_bulk(&client(&emulator, None), &events).await.expect("published");

    let published = emulator.wait_for(TOPIC, 3, WAIT).await.expect("three messages");
    for (message, event) in published.iter().zip(&events) {
        assert_eq!(message.id(), Some(event.event_id.to_string().as_str()));
        assert_eq!(message.partition_key(), Some(event.task_id.to_string().as_str()));
        let cloud_event = message.cloud_event.as_ref().expect("a CloudEvent");
        assert_eq!(cloud_event["traceparent"], TRACEPARENT);
        let typed: CloudEvent = serde_json::from_value(cloud_event.clone()).expect("parses");
        assert_eq!(TaskEvent::from_cloud_event(&typed).as_ref(), Ok(event));
    }
}

#[tokio::test]
async fn bulk_request_metadata_fills_in_what_an_entry_lacks() {
    let emulator = emulator().await;
    let body = json!([
        { "entryId": "a", "event": {}, "contentType": "application/json",
          "metadata": { "cloudevent.type": "own" } },
        { "entryId": "b", "event": {}, "contentType": "application/json" },
    ]);
    let response = reqwest::Client::new()
        .post(format!(
            "{}/v1.0-alpha1/publish/bulk/{DEFAULT_PUBSUB}/{TOPIC}?metadata.cloudevent.type=req&metadata.partitionKey=k",
            emulator.base_url()
        ))
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let published = emulator.wait_for(TOPIC, 2, WAIT).await.expect("two messages");
    let types: Vec<&Value> =
        published.iter().map(|m| &m.cloud_event.as_ref().expect("a CloudEvent")["type"]).collect();
    // daprd merges request metadata into an entry's only when the entry has metadata of its own.
    assert_eq!(types, [&json!("own"), &json!("com.dapr.event.sent")]);
    assert!(published.iter().all(|m| m.partition_key() == Some("k")), "Kafka gets the request's metadata");
}

#[tokio::test]
async fn bulk_publish_reports_the_entries_the_broker_refused() {
    let emulator = emulator().await;
    let client = client(&emulator, None);
    let (healthy, refused) = (Uuid::now_v7(), Uuid::now_v7());
    emulator.set_key_refused(&refused.to_string(), true);
    let events = [task_event(healthy, "h1"), task_event(refused, "r1"), task_event(healthy, "h2")];

    let response = raw_bulk_publish(
        emulator.base_url(),
        &json!([bulk_entry_of(&events[0]), bulk_entry_of(&events[1]), bulk_entry_of(&events[2]),]),
    )
    .send()
    .await
    .expect("sent");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(
        answer,
        json!({
            "failedEntries": [{ "entryId": events[1].event_id, "error": "broker unavailable (injected fault)" }],
            "errorCode": "ERR_PUBSUB_PUBLISH_MESSAGE",
        })
    );
    let ids: Vec<String> =
        emulator.published(TOPIC).iter().filter_map(|m| m.id().map(str::to_owned)).collect();
    assert_eq!(ids, [events[0].event_id.to_string(), events[2].event_id.to_string()]);

    // Through the client: the failed entries by id, the rest published.
    let again = [task_event(refused, "r2"), task_event(healthy, "h3")];
    let err = try_publish_bulk(&client, &again).await.expect_err("one entry refused");
    assert!(err.has_failed(&again[0].event_id.to_string()));
    assert!(!err.has_failed(&again[1].event_id.to_string()));
    assert!(err.error().is_retryable());
    // A single publish of a refused key is refused whole.
    let err = try_publish_event(&client, &task_event(refused, "r3")).await.expect_err("refused key");
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));

    emulator.set_key_refused(&refused.to_string(), false);
    emulator.set_broker_down(true);
    let err = try_publish_bulk(&client, &again).await.expect_err("broker down");
    assert!(again.iter().all(|e| err.has_failed(&e.event_id.to_string())), "{err:?}");
    emulator.set_broker_down(false);
    try_publish_bulk(&client, &again).await.expect("broker back");
    assert_eq!(emulator.published(TOPIC).len(), 5);
}

#[tokio::test]
async fn bulk_publish_checks_the_pubsub_token_raw_payload_and_body_first() {
    let emulator = Emulator::builder().app_id("backend").api_token("t0k").start().await.expect("starts");
    let bulk = |path: &str| {
        reqwest::Client::new().post(format!("{}/v1.0-alpha1/publish/bulk/{path}", emulator.base_url()))
    };
    let response = bulk(&format!("{DEFAULT_PUBSUB}/{TOPIC}")).body("[]").send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let response =
        bulk(&format!("nope/{TOPIC}")).header("dapr-api-token", "t0k").body("[]").send().await.expect("sent");
    let (status, body) = error_body(response).await;
    assert_eq!((status, body["errorCode"].as_str()), (StatusCode::NOT_FOUND, Some("ERR_PUBSUB_NOT_FOUND")));

    let path = format!("{DEFAULT_PUBSUB}/{TOPIC}?metadata.rawPayload=maybe");
    let response = bulk(&path).header("dapr-api-token", "t0k").body("not json").send().await.expect("sent");
    let (status, body) = error_body(response).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("ERR_PUBSUB_REQUEST_METADATA"))
    );

    let response = bulk(&format!("{DEFAULT_PUBSUB}/{TOPIC}"))
        .header("dapr-api-token", "t0k")
        .body("{}")
        .send()
        .await
        .expect("sent");
    let (status, body) = error_body(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "ERR_PUBSUB_EVENTS_SER");
    assert_eq!(reason(&body), Some("DAPR_PUBSUB_UNMARSHAL_EVENTS"));

    let response = bulk(&format!("{DEFAULT_PUBSUB}/{TOPIC}"))
        .header("dapr-api-token", "t0k")
        .body("[]")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "an empty list publishes nothing");
    assert!(emulator.published(TOPIC).is_empty());
}

fn bulk_entry_of(event: &TaskEvent) -> Value {
    json!({
        "entryId": event.event_id,
        "event": event,
        "contentType": "application/json",
        "metadata": { "cloudevent.id": event.event_id, "partitionKey": event.task_id },
    })
}
