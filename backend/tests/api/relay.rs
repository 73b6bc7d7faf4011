//! The outbox relay against a sidecar stand-in that follows the Dapr contract.

use std::{sync::Arc, time::Duration};

use backend::relay::{RefusalPolicy, Relay, RelayOutcome};
use dapr_emulator::{Emulator, PublishedMessage};
use events::{TOPIC, client::DaprClient};
use platform::trace::TraceParent;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, User, eventually, json};

/// Generous: only reached when a test is about to fail anyway.
const WAIT: Duration = Duration::from_secs(30);

/// The outbox as (event id, payload), in publishing order.
async fn outbox(db: &PgPool) -> Vec<(String, Value)> {
    sqlx::query_as::<_, (uuid::Uuid, Value)>("select event_id, payload from outbox order by outbox_id")
        .fetch_all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, p)| (id.to_string(), p))
        .collect()
}

async fn unpublished(db: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from outbox where published_at is null").fetch_one(db).await.unwrap()
}

fn published_ids(messages: &[PublishedMessage]) -> Vec<String> {
    messages.iter().map(|m| m.id().unwrap().to_owned()).collect()
}

async fn create_many(user: &User, n: usize, label: &str) {
    for i in 0..n {
        user.create_task(json!({"title": format!("{label} {i}")})).await;
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn an_event_reaches_the_sidecar_as_the_contract_says(db: PgPool) {
    let dapr = Arc::new(Emulator::builder().api_token("sidecar-secret").start().await.unwrap());
    let app =
        TestApp::spawn_with_dapr(db, dapr, |c| c.outbox.dapr_api_token = Some("sidecar-secret".into())).await;
    let user = app.signed_up().await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let res = user
        .client
        .http
        .post(user.client.url("/api/v1/tasks"))
        .header("traceparent", traceparent)
        .header("x-correlation-id", "corr-7")
        .json(&json!({"title": "Publish me", "priority": "high"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let messages = app.dapr.wait_for(TOPIC, 1, WAIT).await.unwrap();
    let message = &messages[0];
    let (event_id, payload) = outbox(&app.db).await.remove(0);
    assert_eq!(message.pubsub, "pubsub-kafka");
    assert_eq!(message.topic, "tasks-lifecycle");
    assert_eq!(message.partition_key(), Some(user.id.to_string().as_str()), "partitioned by user");
    assert_eq!(message.id(), Some(event_id.as_str()), "the CloudEvent id is the event id");
    assert_eq!(message.headers["content-type"], "application/json");
    assert_eq!(message.headers["dapr-api-token"], "sidecar-secret");
    assert_eq!(message.metadata.get("correlationId").map(String::as_str), Some("corr-7"));
    let ce = message.cloud_event.as_ref().unwrap();
    assert_eq!(ce["type"], "tasks.created");
    assert_eq!(ce["datacontenttype"], "application/json");
    // The request's trace continues through the event. A real sidecar publishes in a span of
    // its own (same trace id, new span id), so only the trace id is the app's promise.
    let delivered = ce["traceparent"].as_str().and_then(TraceParent::parse).expect("a valid traceparent");
    assert_eq!(delivered.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736", "the request's trace continues");
    assert_eq!(message.data(), Some(&payload));
    let marked = eventually(WAIT, || async {
        sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>("select published_at from outbox")
            .fetch_one(&app.db)
            .await
            .unwrap()
    })
    .await;
    assert!(marked.is_some(), "the row is marked published");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn events_wait_while_the_sidecar_is_down_and_all_go_out_in_order(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    create_many(&user, 3, "before").await;
    app.dapr.wait_for(TOPIC, 3, WAIT).await.unwrap();

    app.dapr.stop().await;
    create_many(&user, 25, "during").await; // the API keeps working
    let ready = json(app.client().get("/ready").await).await;
    assert!(ready["outboxBacklog"].as_i64().unwrap() > 0, "{ready}");
    // The relay has tried, and failed, more than once while the sidecar was down...
    let tried = eventually(WAIT, || async {
        let attempts: Option<i32> =
            sqlx::query_scalar("select max(attempts) from outbox where published_at is null")
                .fetch_one(&app.db)
                .await
                .unwrap();
        attempts.filter(|n| *n >= 2)
    })
    .await;
    assert!(tried.is_some(), "the relay retries while the sidecar is down");
    // ...and nothing got through or was taken for published.
    assert_eq!(app.dapr.published(TOPIC).len(), 3, "nothing got through while the sidecar was down");
    assert_eq!(unpublished(&app.db).await, 25, "every event waits");
    app.dapr.restart().await.unwrap();
    create_many(&user, 2, "after").await;

    let messages = app.dapr.wait_for(TOPIC, 30, WAIT).await.map_err(|e| format!("{e}")).unwrap();
    let expected: Vec<String> = outbox(&app.db).await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(expected.len(), 30);
    assert_eq!(published_ids(&messages), expected, "every event, once, in commit order");
    let attempts: i32 =
        sqlx::query_scalar("select max(attempts) from outbox").fetch_one(&app.db).await.unwrap();

    assert!(attempts >= 2, "the first waiting event was retried");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn events_wait_while_the_broker_is_down(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    app.dapr.set_broker_down(true);
    create_many(&user, 10, "queued").await;
    // The relay has tried and been refused...
    let refused = eventually(WAIT, || async {
        sqlx::query_scalar::<_, Option<String>>(
            "select last_error from outbox where published_at is null order by outbox_id limit 1",
        )
        .fetch_optional(&app.db)
        .await
        .unwrap()
        .flatten()
    })
    .await;
    assert!(refused.is_some(), "the refusal is recorded");
    // ...and nothing was accepted or taken for published.
    assert!(app.dapr.published(TOPIC).is_empty());
    assert_eq!(unpublished(&app.db).await, 10, "every event waits");
    app.dapr.set_broker_down(false);
    let messages = app.dapr.wait_for(TOPIC, 10, WAIT).await.unwrap();
    let expected: Vec<String> = outbox(&app.db).await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(published_ids(&messages), expected);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_refusing_sidecar_never_loses_events(db: PgPool) {
    // A token mismatch is a configuration error: events must wait for it to be fixed.
    let dapr = Arc::new(Emulator::builder().api_token("right").start().await.unwrap());
    let app = TestApp::spawn_with_dapr(db, dapr, |c| c.outbox.dapr_api_token = Some("wrong".into())).await;
    let user = app.signed_up().await;
    user.create_task(json!({"title": "kept"})).await;
    let error = eventually(WAIT, || async {
        sqlx::query_scalar::<_, Option<String>>("select last_error from outbox")
            .fetch_one(&app.db)
            .await
            .unwrap()
    })
    .await
    .expect("the failure is recorded");
    assert!(error.contains("401"), "{error}");
    assert!(!error.contains("wrong"), "the token never appears in errors: {error}");
    assert_eq!(unpublished(&app.db).await, 1);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn two_replicas_publish_each_event_once_in_order_per_user(db: PgPool) {
    let first = TestApp::spawn(db.clone()).await;
    let dapr = Arc::clone(&first.dapr);
    let second = TestApp::spawn_with_dapr(db, Arc::clone(&dapr), |_| {}).await;
    let a = first.signed_up().await;
    let b = second.signed_up().await;
    for i in 0..40 {
        let user = if i % 2 == 0 { &a } else { &b };
        user.create_task(json!({"title": format!("task {i}")})).await;
    }
    dapr.wait_for(TOPIC, 40, WAIT).await.unwrap();
    // Once both relays have stopped nothing more can be published: what the sidecar holds then
    // is all there will ever be.
    let (db, _) = first.stop().await;
    second.stop().await;
    assert_eq!(unpublished(&db).await, 0, "every event is marked published");
    let messages_after = dapr.published(TOPIC);
    assert_eq!(messages_after.len(), 40, "nothing published twice");
    // Kafka keeps order per partition key (the user): each user's events arrive in commit order.
    for user in [&a, &b] {
        let key = user.id.to_string();
        let expected: Vec<String> = outbox(&db)
            .await
            .into_iter()
            .filter(|(_, payload)| payload["userId"] == key.as_str())
            .map(|(id, _)| id)
            .collect();
        let theirs: Vec<PublishedMessage> =
            messages_after.iter().filter(|m| m.partition_key() == Some(key.as_str())).cloned().collect();
        assert_eq!(expected.len(), 20);
        assert_eq!(published_ids(&theirs), expected);
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_lone_change_goes_out_at_once_and_a_stream_of_them_in_few_passes(db: PgPool) {
    const INTERVAL_MS: u64 = 1000;
    let interval = Duration::from_millis(INTERVAL_MS);
    let app = TestApp::spawn_with(db, |c| {
        c.outbox.min_pass_interval_ms = INTERVAL_MS;
        // Only the API's wakes start passes here.
        c.outbox.poll_interval_ms = 60_000;
    })
    .await;
    let user = app.signed_up().await;
    // The sign-up woke the relay, whose pass came at most an interval later: past the interval
    // after that one, a change goes out at once.
    tokio::time::sleep(interval * 2 + Duration::from_millis(100)).await;
    // A change every 50 ms or so: each would have a pass of its own without the interval.
    for i in 0..4 {
        user.create_task(json!({"title": format!("stream {i}")})).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eventually(WAIT, || async { (unpublished(&app.db).await == 0).then_some(()) })
        .await
        .expect("the changes were published");
    // A pass marks its rows with its transaction's start: one time per pass. For each pass, how
    // long its first row had waited, in milliseconds.
    let passes: Vec<(f64,)> = sqlx::query_as(
        "select extract(epoch from published_at - min(created_at))::float8 * 1000
         from outbox where user_id = $1 group by published_at order by published_at",
    )
    .bind(user.id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        passes.len(),
        2,
        "the first change alone, the three written during its interval together: {passes:?}"
    );
    let first_wait_ms = passes[0].0;
    assert!(
        first_wait_ms < interval.as_secs_f64() * 1000.0 / 2.0,
        "the lone change waited {first_wait_ms} ms"
    );
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn one_relay_pass_publishes_a_batch_and_then_finds_nothing(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let user = app.signed_up().await;
    create_many(&user, 5, "stepped").await;
    let relay = stepped_relay(&app, 3);
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Published(3)));
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Published(2)));
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Idle));
    assert_eq!(app.dapr.published(TOPIC).len(), 5);

    app.dapr.stop().await;
    user.create_task(json!({"title": "stuck"})).await;
    match relay.relay_once().await.unwrap() {
        RelayOutcome::Stalled { published: 0, error } => assert!(error.is_retryable()),
        other => panic!("expected a stall, got {other:?}"),
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn published_rows_are_purged_after_the_retention_and_waiting_ones_never(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let user = app.signed_up().await;
    create_many(&user, 4, "kept").await;
    // Two published long ago, one published just now, one still waiting (and old).
    sqlx::query(
        "update outbox set published_at = now() - interval '8 days', created_at = now() - interval '8 days'
         where outbox_id in (select outbox_id from outbox order by outbox_id limit 2)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "update outbox set published_at = now() where outbox_id = (select min(outbox_id) + 2 from outbox)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("update outbox set created_at = now() - interval '30 days' where published_at is null")
        .execute(&app.db)
        .await
        .unwrap();
    let removed = backend::maintenance::purge_once(&app.db, Duration::from_hours(7 * 24)).await.unwrap();
    assert_eq!(removed, 2);
    let left: Vec<(bool,)> = sqlx::query_as("select published_at is not null from outbox order by outbox_id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(left, [(true,), (false,)]);
}

fn stepped_relay(app: &TestApp, batch_size: u32) -> Relay {
    Relay {
        db: app.db.clone(),
        dapr: DaprClient::new(app.dapr.base_url(), None, WAIT).unwrap(),
        pubsub: events::DEFAULT_PUBSUB.to_owned(),
        batch_size,
        refusals: RefusalPolicy { first_retry: RETRY, max_retry: RETRY, park_after: 15 },
    }
}

/// A refused event's wait before its next try, in the stepped relays.
const RETRY: Duration = Duration::from_millis(50);

/// The user's events as the sidecar holds them, and as the outbox has them, both as ids.
async fn sent_and_expected(app: &TestApp, user: &User) -> (Vec<String>, Vec<String>) {
    let key = user.id.to_string();
    let sent: Vec<PublishedMessage> =
        app.dapr.published(TOPIC).into_iter().filter(|m| m.partition_key() == Some(key.as_str())).collect();
    let expected = outbox(&app.db)
        .await
        .into_iter()
        .filter(|(_, payload)| payload["userId"] == key.as_str())
        .map(|(id, _)| id)
        .collect();
    (published_ids(&sent), expected)
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_refused_user_waits_in_order_while_the_others_go_out(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let (refused, healthy) = (app.signed_up().await, app.signed_up().await);
    for i in 0..4 {
        refused.create_task(json!({"title": format!("refused {i}")})).await;
        healthy.create_task(json!({"title": format!("healthy {i}")})).await;
    }
    app.dapr.set_key_refused(&refused.id.to_string(), true);
    let mut relay = stepped_relay(&app, 100);
    // Long enough that the pass right after the refusal surely finds the user still waiting.
    let retry = Duration::from_secs(2);
    (relay.refusals.first_retry, relay.refusals.max_retry) = (retry, retry);

    match relay.relay_once().await.unwrap() {
        RelayOutcome::Refused { published: 4, refused: 1, parked: 0, error } => {
            assert!(error.to_string().contains("500"), "{error}");
        }
        other => panic!("expected the healthy user's 4 events and a refusal, got {other:?}"),
    }
    let (sent, expected) = sent_and_expected(&app, &healthy).await;
    assert_eq!(sent, expected, "the healthy user's events all went out, in order");
    let (sent, _) = sent_and_expected(&app, &refused).await;
    assert!(sent.is_empty(), "nothing of the refused user went out: {sent:?}");
    let waiting: Vec<(i32, Option<String>)> = sqlx::query_as(
        "select attempts, last_error from outbox where published_at is null order by outbox_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(waiting.len(), 4, "the refused user's events wait");
    assert_eq!(waiting[0].0, 1, "the refusal is recorded on the user's first event");
    assert!(waiting[0].1.as_deref().is_some_and(|e| e.contains("500")), "{waiting:?}");
    assert!(waiting[1..].iter().all(|(attempts, _)| *attempts == 0), "later events were not tried");

    app.dapr.set_key_refused(&refused.id.to_string(), false);
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Idle), "the refused user waits");
    tokio::time::sleep(retry).await;
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Published(4)));
    let (sent, expected) = sent_and_expected(&app, &refused).await;
    assert_eq!(sent, expected, "once accepted, every event of the refused user, once, in order");
    assert_eq!(app.dapr.published(TOPIC).len(), 8);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn one_users_refused_backlog_does_not_starve_the_others(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let (refused, healthy) = (app.signed_up().await, app.signed_up().await);
    // More refused events than a pass takes, all older than the healthy user's.
    create_many(&refused, 12, "refused").await;
    create_many(&healthy, 3, "healthy").await;
    app.dapr.set_key_refused(&refused.id.to_string(), true);
    let mut relay = stepped_relay(&app, 10);
    relay.refusals.first_retry = WAIT; // the refused user waits through the whole test
    relay.refusals.max_retry = WAIT;

    assert!(matches!(
        relay.relay_once().await.unwrap(),
        RelayOutcome::Refused { published: 0, refused: 1, .. }
    ));
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Published(3)));
    let (sent, expected) = sent_and_expected(&app, &healthy).await;
    assert_eq!(sent, expected, "the healthy user's events went out on the next pass");
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Idle));
    assert_eq!(unpublished(&app.db).await, 12, "the refused user's events wait, none tried again yet");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn an_event_refused_again_and_again_is_parked_and_can_be_replayed(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let user = app.signed_up().await;
    user.create_task(json!({"title": "refused for good"})).await;
    app.dapr.set_key_refused(&user.id.to_string(), true);
    let mut relay = stepped_relay(&app, 10);
    relay.refusals.park_after = 3;
    let mut parked = 0;
    for _ in 0..3 {
        match relay.relay_once().await.unwrap() {
            RelayOutcome::Refused { published: 0, refused: 1, parked: p, .. } => parked += p,
            other => panic!("expected a refusal, got {other:?}"),
        }
        tokio::time::sleep(RETRY).await;
    }
    assert_eq!(parked, 1, "parked at the third refusal");
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Idle), "a parked event is not tried");

    // The user's later events are no longer held up by it.
    app.dapr.set_key_refused(&user.id.to_string(), false);
    user.create_task(json!({"title": "after the parked one"})).await;
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Published(1)));
    let parked: Vec<(i32, String)> =
        sqlx::query_as("select refusals, last_error from outbox where parked_at is not null")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert_eq!(parked[0].0, 3);

    // The replay command puts it back in line; it goes out once.
    let replayed = backend::db::outbox::unpark(&app.db, None).await.unwrap();
    assert_eq!(replayed, 1);
    assert!(matches!(relay.relay_once().await.unwrap(), RelayOutcome::Published(1)));
    let (mut sent, mut expected) = sent_and_expected(&app, &user).await;
    sent.sort();
    expected.sort();
    assert_eq!(sent, expected, "every event out exactly once");
}

/// Relay throughput: 20,000 waiting events of 100 users, drained against the stand-in sidecar.
/// Prints events/s; asserts only that nothing is lost or reordered, since the machine is shared.
/// `cargo test -p backend --release --test api -- --ignored relay_throughput --nocapture`;
/// `RELAY_BENCH_BATCH` sets the batch size (default: the backend's `OUTBOX_BATCH_SIZE` default).
#[sqlx::test(migrator = "backend::MIGRATOR")]
#[ignore = "a benchmark: run it on its own, with --nocapture"]
async fn relay_throughput(db: PgPool) {
    const EVENTS: i64 = 20_000;
    const USERS: i64 = 100;
    let mut batch_size = 0;
    let app = TestApp::spawn_with(db, |c| {
        c.outbox.relay_enabled = false;
        batch_size = std::env::var("RELAY_BENCH_BATCH")
            .ok()
            .and_then(|b| b.parse().ok())
            .unwrap_or(c.outbox.batch_size);
    })
    .await;
    sqlx::query(
        "with users as (select n, gen_random_uuid() as user_id from generate_series(0, $2 - 1) n)
         insert into outbox (event_id, user_id, task_id, event_type, topic, payload, correlation_id)
         select gen_random_uuid(), u.user_id, gen_random_uuid(), 'tasks.updated', $3,
                jsonb_build_object('userId', u.user_id, 'title', 'task ' || i, 'seq', i), 'bench-' || i
         from generate_series(0, $1 - 1) i join users u on u.n = i % $2
         order by i",
    )
    .bind(EVENTS)
    .bind(USERS)
    .bind(TOPIC)
    .execute(&app.db)
    .await
    .unwrap();
    let relay = stepped_relay(&app, batch_size);

    let started = std::time::Instant::now();
    loop {
        match relay.relay_once().await.unwrap() {
            RelayOutcome::Published(_) => {}
            RelayOutcome::Idle => break,
            other => panic!("the relay did not drain the backlog: {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    #[expect(clippy::cast_precision_loss, reason = "a printed rate")]
    let rate = EVENTS as f64 / elapsed.as_secs_f64();
    println!(
        "relay_throughput: {EVENTS} events of {USERS} users, batch {batch_size}: {elapsed:.2?}, {rate:.0} events/s"
    );

    assert_eq!(unpublished(&app.db).await, 0);
    let published = app.dapr.published(TOPIC);
    assert_eq!(published.len(), usize::try_from(EVENTS).unwrap(), "every event once");
    let rows: Vec<(uuid::Uuid, uuid::Uuid)> =
        sqlx::query_as("select event_id, user_id from outbox order by outbox_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let mut expected: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for (event_id, user_id) in rows {
        expected.entry(user_id.to_string()).or_default().push(event_id.to_string());
    }
    let mut sent: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for message in &published {
        sent.entry(message.partition_key().unwrap().to_owned())
            .or_default()
            .push(message.id().unwrap().to_owned());
    }
    assert_eq!(sent.len(), usize::try_from(USERS).unwrap());
    assert_eq!(sent, expected, "each user's events in commit order");
}
