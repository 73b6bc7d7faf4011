//! Web Push registrations: the config endpoint with and without a VAPID key, validation naming
//! each field, the push-service allow-list, one row per browser (moving between users), the
//! 10-per-account cap, and each user seeing and removing only their own.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, User, json, problem, problem_fields};

/// A valid-looking public key: the uncompressed-point prefix and 64 bytes.
fn point(fill: u8) -> String {
    let mut bytes = [fill; 65];
    bytes[0] = 4;
    URL_SAFE_NO_PAD.encode(bytes)
}

fn vapid_public_key() -> String {
    point(9)
}

async fn spawn(db: PgPool) -> TestApp {
    TestApp::spawn_with(db, |config| config.push.vapid_public_key = Some(vapid_public_key())).await
}

fn subscription(endpoint: &str) -> Value {
    json!({
        "endpoint": endpoint,
        "expirationTime": null,
        "keys": {"p256dh": point(1), "auth": URL_SAFE_NO_PAD.encode([2u8; 16])},
    })
}

fn fcm(n: usize) -> String {
    format!("https://fcm.googleapis.com/fcm/send/device-{n}")
}

async fn subscribe(user: &User, body: &Value) -> Value {
    let res = user.client.post("/api/v1/push/subscriptions", body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "subscribing {body}");
    json(res).await
}

async fn endpoints(user: &User) -> Vec<String> {
    let res = user.client.get("/api/v1/push/subscriptions").await;
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["endpoint"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_config_names_the_public_key_only_when_one_is_configured(db: PgPool) {
    let app = spawn(db.clone()).await;
    let user = app.signed_up().await;
    let config = json(user.client.get("/api/v1/push/config").await).await;
    assert_eq!(config, json!({"enabled": true, "publicKey": vapid_public_key()}));
    assert_eq!(app.client().get("/api/v1/push/config").await.status(), StatusCode::UNAUTHORIZED);
    drop(app);

    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let config = json(user.client.get("/api/v1/push/config").await).await;
    assert_eq!(config, json!({"enabled": false, "publicKey": null}));
    let res = user.client.post("/api/v1/push/subscriptions", &subscription(&fcm(1))).await;
    problem(res, StatusCode::CONFLICT, "push_not_configured").await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_browser_subscription_is_registered_and_listed(db: PgPool) {
    let app = spawn(db).await;
    let user = app.signed_up().await;
    let mut body = subscription(&fcm(1));
    body["label"] = json!("Chromium on Linux");
    let created = subscribe(&user, &body).await;
    assert_eq!(created["endpoint"], fcm(1));
    assert_eq!(created["label"], "Chromium on Linux");
    assert!(created["id"].as_str().is_some() && created["createdAt"].as_str().is_some(), "{created}");
    let list = json(user.client.get("/api/v1/push/subscriptions").await).await;
    assert_eq!(list["items"], json!([created]));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn invalid_subscriptions_are_refused_naming_each_field(db: PgPool) {
    let app = spawn(db).await;
    let user = app.signed_up().await;
    let cases = [
        (
            json!({"endpoint": "not a url", "keys": {"p256dh": point(1), "auth": URL_SAFE_NO_PAD.encode([2u8; 16])}}),
            vec!["endpoint"],
        ),
        (json!({"keys": {"p256dh": point(1), "auth": URL_SAFE_NO_PAD.encode([2u8; 16])}}), vec!["endpoint"]),
        (
            json!({"endpoint": fcm(1), "keys": {"p256dh": "!!", "auth": URL_SAFE_NO_PAD.encode([2u8; 15])}}),
            vec!["keys.p256dh", "keys.auth"],
        ),
        (
            json!({"endpoint": fcm(1), "keys": {"p256dh": URL_SAFE_NO_PAD.encode([4u8; 33]), "auth": URL_SAFE_NO_PAD.encode([2u8; 16])}}),
            vec!["keys.p256dh"],
        ),
        (
            json!({"endpoint": fcm(1), "keys": {"auth": URL_SAFE_NO_PAD.encode([2u8; 16])}}),
            vec!["keys.p256dh"],
        ),
        (json!({"endpoint": fcm(1)}), vec!["keys"]),
        (
            json!({"endpoint": fcm(1), "keys": {"p256dh": point(1), "auth": URL_SAFE_NO_PAD.encode([2u8; 16])}, "label": "x".repeat(101)}),
            vec!["label"],
        ),
    ];
    for (body, fields) in cases {
        let res = user.client.post("/api/v1/push/subscriptions", &body).await;
        let problem = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&problem), fields, "{body}");
    }
    let res = user.client.post("/api/v1/push/subscriptions", &json!({"endpoint": 5})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a malformed body is a 400 too");
    assert!(endpoints(&user).await.is_empty());
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn only_https_endpoints_at_known_push_services_are_accepted(db: PgPool) {
    let app = spawn(db.clone()).await;
    let user = app.signed_up().await;
    for endpoint in [
        "https://internal-service.default.svc.cluster.local/admin",
        "https://169.254.169.254/latest/meta-data",
        "https://evil-fcm.googleapis.com.attacker.example/x",
        "http://fcm.googleapis.com/fcm/send/x",
        &format!("https://fcm.googleapis.com/{}", "a".repeat(2048)),
    ] {
        let res = user.client.post("/api/v1/push/subscriptions", &subscription(endpoint)).await;
        let problem = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&problem), ["endpoint"], "{endpoint}");
    }
    for endpoint in [
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/QGx",
        "https://wns2-par02p.notify.windows.com/w/?token=abc",
    ] {
        subscribe(&user, &subscription(endpoint)).await;
    }
    drop(app);

    // The local stand-in's plain-http endpoints, only with the opt-in.
    let app = TestApp::spawn_with(db, |config| {
        config.push.vapid_public_key = Some(vapid_public_key());
        config.push.endpoints.push_endpoint_hosts = vec!["127.0.0.1".into()];
        config.push.endpoints.push_allow_http_endpoints = true;
    })
    .await;
    let user = app.signed_up().await;
    subscribe(&user, &subscription("http://127.0.0.1:9/push/1")).await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn subscribing_again_replaces_the_row_and_moves_it_between_users(db: PgPool) {
    let app = spawn(db.clone()).await;
    let (alice, bob) = (app.signed_up().await, app.signed_up().await);
    let first = subscribe(&alice, &subscription(&fcm(1))).await;
    let mut again = subscription(&fcm(1));
    again["keys"]["p256dh"] = json!(point(3));
    again["label"] = json!("Renewed");
    let second = subscribe(&alice, &again).await;
    assert_eq!(second["id"], first["id"], "one row per browser");
    assert_eq!(second["label"], "Renewed");
    let stored: Vec<u8> =
        sqlx::query_scalar("select p256dh from push_subscription").fetch_one(&db).await.unwrap();
    assert_eq!(URL_SAFE_NO_PAD.encode(stored), point(3), "the new keys replace the old");

    // The browser's user signs in to another account: it now notifies that account only.
    subscribe(&bob, &subscription(&fcm(1))).await;
    assert!(endpoints(&alice).await.is_empty());
    assert_eq!(endpoints(&bob).await, [fcm(1)]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn an_account_keeps_its_ten_newest_browsers(db: PgPool) {
    let app = spawn(db).await;
    let user = app.signed_up().await;
    for n in 0..11 {
        subscribe(&user, &subscription(&fcm(n))).await;
    }
    let expected: Vec<String> = (1..11).map(fcm).collect();
    assert_eq!(endpoints(&user).await, expected, "the oldest went");
    // Renewing the oldest makes it the newest, so the next one in line goes instead.
    subscribe(&user, &subscription(&fcm(1))).await;
    subscribe(&user, &subscription(&fcm(11))).await;
    let mut expected: Vec<String> = (3..11).map(fcm).collect();
    expected.extend([fcm(1), fcm(11)]);
    assert_eq!(endpoints(&user).await, expected);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn users_see_and_remove_only_their_own_subscriptions(db: PgPool) {
    let app = spawn(db).await;
    let (alice, bob) = (app.signed_up().await, app.signed_up().await);
    let mine = subscribe(&alice, &subscription(&fcm(1))).await;
    subscribe(&bob, &subscription(&fcm(2))).await;
    assert_eq!(endpoints(&alice).await, [fcm(1)]);
    assert_eq!(endpoints(&bob).await, [fcm(2)]);

    let path = format!("/api/v1/push/subscriptions/{}", mine["id"].as_str().unwrap());
    problem(bob.client.delete(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(endpoints(&alice).await, [fcm(1)], "another user's delete changed nothing");
    assert_eq!(alice.client.delete(&path).await.status(), StatusCode::NO_CONTENT);
    assert!(endpoints(&alice).await.is_empty());
    problem(alice.client.delete(&path).await, StatusCode::NOT_FOUND, "not_found").await;
}
