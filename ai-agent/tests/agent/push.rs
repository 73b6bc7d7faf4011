//! Web Push end to end: a reminder fires, the trigger queues a push per registered browser,
//! the sender encrypts and signs it, and the push-service stand-in verifies VAPID, decrypts the
//! message and keeps it. Also: a gone subscription is removed, a failing service is retried
//! (then given up on), concurrent senders send each push once, and a user who switched the
//! assistants off gets nothing.

use ai_agent::{
    agents::reminders,
    config::PushConfig,
    push::{
        crypto::VapidKey,
        sender::{SendOutcome, SendReport, Sender, send_once},
    },
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use push_stand_in::{Failure, PushService, Subscription};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TaskSeed, ago, config, from_now, reminder, set_agents_enabled, settings, task, user};

fn push_config() -> PushConfig {
    let mut push = config().push;
    let (private, _) = VapidKey::generate().unwrap();
    push.vapid_private_key = Some(private.into());
    push.vapid_subject = Some("mailto:ops@example.com".into());
    push.endpoints.push_endpoint_hosts = vec!["127.0.0.1".into()];
    push.endpoints.push_allow_http_endpoints = true;
    push
}

fn sender(config: &PushConfig) -> Sender {
    Sender::from_config(config).unwrap().expect("a key is configured")
}

async fn stand_in() -> PushService {
    PushService::start("127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// Registers the stand-in's browser for `user`, as the backend's API does.
async fn register(db: &PgPool, user: Uuid, subscription: &Subscription) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into push_subscription (push_subscription_id, user_id, endpoint, p256dh, auth)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(user)
    .bind(&subscription.endpoint)
    .bind(URL_SAFE_NO_PAD.decode(&subscription.keys.p256dh).unwrap())
    .bind(URL_SAFE_NO_PAD.decode(&subscription.keys.auth).unwrap())
    .execute(db)
    .await
    .unwrap();
    id
}

/// A user with a task whose reminder is due.
async fn due_reminder(db: &PgPool, title: &str) -> Uuid {
    let user = user(db).await;
    let task = task(db, user, TaskSeed::due(from_now(30)).titled(title)).await;
    reminder(db, task, user, ago(1)).await;
    user
}

async fn fire(db: &PgPool) {
    reminders::fire_due_once(db, &settings(), Utc::now()).await.unwrap();
}

async fn send(db: &PgPool, sender: &Sender, now: DateTime<Utc>) -> SendReport {
    match send_once(db, sender, now).await.unwrap() {
        SendOutcome::Sent(report) => report,
        SendOutcome::Idle => SendReport::default(),
    }
}

/// Rows in one of the two push tables.
async fn count(db: &PgPool, table: &'static str) -> i64 {
    let sql = match table {
        "push_delivery" => "select count(*) from push_delivery",
        "push_subscription" => "select count(*) from push_subscription",
        _ => unreachable!("not a push table: {table}"),
    };
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_fired_reminder_reaches_the_browser_decrypted(db: PgPool) {
    let service = stand_in().await;
    let browser = service.subscribe();
    let user = due_reminder(&db, "Call the bank").await;
    register(&db, user, &browser).await;
    // Another user's reminder, without a browser: nothing is queued for it.
    due_reminder(&db, "Water the plants").await;

    fire(&db).await;
    assert_eq!(count(&db, "push_delivery").await, 1);
    let sender = sender(&push_config());
    assert_eq!(send(&db, &sender, Utc::now()).await, SendReport { delivered: 1, ..SendReport::default() });
    assert_eq!(send_once(&db, &sender, Utc::now()).await.unwrap(), SendOutcome::Idle, "sent once");

    let (suggestion, message): (Uuid, String) =
        sqlx::query_as("select suggestion_id, message from suggestion where user_id = $1")
            .bind(user)
            .fetch_one(&db)
            .await
            .unwrap();
    let received = service.messages(browser.id);
    assert_eq!(received.len(), 1);
    let payload: Value = serde_json::from_str(&received[0].data).unwrap();
    assert_eq!(
        payload,
        json!({
            "title": "Reminder: Call the bank",
            "body": message,
            "tag": suggestion,
            "url": format!("/?suggestion={suggestion}"),
            "kind": "reminder",
        })
    );
    assert_eq!(received[0].ttl, 4 * 3600);
    assert_eq!(received[0].urgency.as_deref(), Some("high"));
    assert_eq!(received[0].topic, Some(suggestion.simple().to_string()));
    assert_eq!(count(&db, "push_delivery").await, 0);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn only_reminder_suggestions_are_pushed(db: PgPool) {
    let service = stand_in().await;
    let user = user(&db).await;
    register(&db, user, &service.subscribe()).await;
    sqlx::query(
        "insert into suggestion (suggestion_id, user_id, kind, title, message, dedupe_key, expires_at)
         values ($1, $2, 'overload', 'Busy week', 'Twelve tasks are due this week.', 'overload:x', now() + interval '1 day')",
    )
    .bind(Uuid::now_v7())
    .bind(user)
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(count(&db, "push_delivery").await, 0);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_subscription_the_service_says_is_gone_is_removed(db: PgPool) {
    let service = stand_in().await;
    let browser = service.subscribe();
    let user = due_reminder(&db, "Call the bank").await;
    register(&db, user, &browser).await;
    service.unsubscribe(browser.id);

    fire(&db).await;
    let report = send(&db, &sender(&push_config()), Utc::now()).await;
    assert_eq!(report, SendReport { expired: 1, ..SendReport::default() });
    assert_eq!(count(&db, "push_subscription").await, 0);
    assert_eq!(count(&db, "push_delivery").await, 0);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_failing_push_service_is_retried_after_its_retry_after_then_delivered(db: PgPool) {
    let service = stand_in().await;
    let browser = service.subscribe();
    let user = due_reminder(&db, "Call the bank").await;
    register(&db, user, &browser).await;
    service.fail_next(browser.id, Failure { status: 503, retry_after: Some(120) }, 1);

    fire(&db).await;
    let sender = sender(&push_config());
    let now = Utc::now();
    assert_eq!(send(&db, &sender, now).await, SendReport { retried: 1, ..SendReport::default() });
    let (attempts, next): (i32, DateTime<Utc>) =
        sqlx::query_as("select attempts, next_attempt_at from push_delivery").fetch_one(&db).await.unwrap();
    assert_eq!(attempts, 1);
    // Retry-After (120 s) is longer than the first back-off (30 s); the database keeps microseconds.
    assert!((next - now - TimeDelta::seconds(120)).num_microseconds().unwrap().abs() <= 1, "{next} {now}");
    assert_eq!(
        send_once(&db, &sender, now + TimeDelta::seconds(60)).await.unwrap(),
        SendOutcome::Idle,
        "not yet"
    );

    let report = send(&db, &sender, now + TimeDelta::seconds(121)).await;
    assert_eq!(report, SendReport { delivered: 1, ..SendReport::default() });
    assert_eq!(service.messages(browser.id).len(), 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_push_that_keeps_failing_is_dropped_after_the_last_attempt(db: PgPool) {
    let service = stand_in().await;
    let browser = service.subscribe();
    let user = due_reminder(&db, "Call the bank").await;
    register(&db, user, &browser).await;
    service.fail_next(browser.id, Failure { status: 500, retry_after: None }, 10);

    fire(&db).await;
    let mut config = push_config();
    config.push_max_attempts = 2;
    let sender = sender(&config);
    let later = Utc::now() + TimeDelta::hours(2);
    assert_eq!(send(&db, &sender, Utc::now()).await.retried, 1);
    assert_eq!(send(&db, &sender, later).await, SendReport { gave_up: 1, ..SendReport::default() });
    assert_eq!(count(&db, "push_delivery").await, 0);
    assert_eq!(count(&db, "push_subscription").await, 1, "the browser stays registered");
    assert!(service.messages(browser.id).is_empty());
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn concurrent_senders_send_each_push_once(db: PgPool) {
    let service = stand_in().await;
    let mut browsers = Vec::new();
    for _ in 0..3 {
        let user = due_reminder(&db, "Call the bank").await;
        for _ in 0..2 {
            let browser = service.subscribe();
            register(&db, user, &browser).await;
            browsers.push(browser);
        }
    }
    fire(&db).await;
    let config = push_config();
    let (a, b) = (sender(&config), sender(&config));
    let now = Utc::now();
    let (first, second) = tokio::join!(send(&db, &a, now), send(&db, &b, now));
    assert_eq!(first.delivered + second.delivered, 6);
    assert_eq!(service.requests(), 6, "no push went out twice");
    for browser in &browsers {
        assert_eq!(service.messages(browser.id).len(), 1);
    }
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn nothing_is_pushed_to_a_user_who_switched_the_assistants_off(db: PgPool) {
    let service = stand_in().await;
    let user = due_reminder(&db, "Call the bank").await;
    register(&db, user, &service.subscribe()).await;
    set_agents_enabled(&db, user, false).await;

    fire(&db).await;
    assert_eq!(send_once(&db, &sender(&push_config()), Utc::now()).await.unwrap(), SendOutcome::Idle);
    assert_eq!(service.requests(), 0);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_sender_refuses_endpoints_outside_the_allow_list(db: PgPool) {
    let service = stand_in().await;
    let browser = service.subscribe();
    let user = due_reminder(&db, "Call the bank").await;
    register(&db, user, &browser).await;

    fire(&db).await;
    let mut config = push_config();
    config.endpoints.push_allow_http_endpoints = false;
    let report = send(&db, &sender(&config), Utc::now()).await;
    assert_eq!(report, SendReport { skipped: 1, ..SendReport::default() });
    assert_eq!(service.requests(), 0);
}

#[test]
fn push_is_off_without_a_key_and_refused_without_a_subject() {
    assert!(Sender::from_config(&config().push).unwrap().is_none());
    let mut push = push_config();
    push.vapid_subject = Some("ops@example.com".into());
    assert!(Sender::from_config(&push).is_err());
}
