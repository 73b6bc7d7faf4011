//! Suggestions' reasons phrased by the model: from the facts alone, under a strict schema,
//! counted against the owner's chat budget, announced live, and the rule-based reason whenever
//! the model is slow, wrong or over budget.

use std::{sync::atomic::AtomicUsize, time::Duration};

use platform::metrics::sample;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers};

use crate::{
    chat_openai::{Script, app_on_model, completion, mount},
    helpers::{TestApp, User, eventually, json},
    stream::EventStream,
};

const FACTS: &str = "Due in 20 h, low priority; 3 urgent tasks already due today.";

/// An answer in the schema's shape.
fn explains(sentence: &str) -> ResponseTemplate {
    completion(&json!({"role": "assistant", "content": json!({"explanation": sentence}).to_string()}))
}

async fn app_with(
    db: PgPool,
    server: &MockServer,
    tweak: impl FnOnce(&mut backend::config::Config),
) -> TestApp {
    app_on_model(db, server, move |c| {
        c.chat.assistant_model_wording = true;
        c.chat.assistant_wording_timeout_secs = 1;
        tweak(c);
    })
    .await
}

/// Inserts an open suggestion with a reason, as an assistant would; its title names the task.
async fn suggest(app: &TestApp, user: &User, reason: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into suggestion (suggestion_id, user_id, kind, title, message, reason, dedupe_key, expires_at)
         values (gen_random_uuid(), $1, 'priority', 'Make “Pay the secret invoice” urgent', 'Raise it?', $2,
                 gen_random_uuid()::text, now() + interval '1 day')
         returning suggestion_id",
    )
    .bind(user.id)
    .bind(reason)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// The user's open suggestion `id` as the API lists it.
async fn listed(user: &User, id: Uuid) -> Value {
    let list = json(user.client.get("/api/v1/suggestions").await).await;
    list["items"].as_array().unwrap().iter().find(|s| s["id"] == id.to_string()).cloned().unwrap()
}

/// How a wording attempt ended, as the database and the API see it some time after.
async fn settled(app: &TestApp, id: Uuid) {
    eventually(Duration::from_secs(10), || async {
        let claimed: Option<bool> = sqlx::query_scalar(
            "select wording_claimed_at is not null from suggestion where suggestion_id = $1",
        )
        .bind(id)
        .fetch_one(&app.db)
        .await
        .ok();
        claimed.filter(|c| *c)
    })
    .await
    .expect("the suggestion is taken for wording");
}

async fn metrics(app: &TestApp) -> String {
    app.client().get("/metrics").await.text().await.unwrap()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_new_suggestion_gets_the_models_sentence_from_its_facts_alone(db: PgPool) {
    let server = MockServer::start().await;
    let sentence = "It is due in 20 h, and 3 urgent tasks already come first today.";
    mount(&server, move |_, _| explains(sentence)).await;
    let app = app_with(db, &server, |_| {}).await;
    let before = metrics(&app).await;
    let user = app.signed_up().await;
    let mut tab = EventStream::open(&user).await;

    let id = suggest(&app, &user, FACTS).await;
    assert_eq!(tab.next().await.0, "suggestion", "the new suggestion, with its reason, shows at once");
    let (event, data) = tab.next().await;
    assert_eq!(
        (event.as_str(), data["suggestionId"].as_str()),
        ("suggestion", Some(id.to_string().as_str())),
        "{data}"
    );
    let shown = listed(&user, id).await;
    assert_eq!(shown["explanation"], sentence);
    assert_eq!(shown["reason"], FACTS, "the facts stay beside the sentence");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "one call per suggestion");
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["model"], "stand-in");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(body["response_format"]["json_schema"]["schema"]["required"], json!(["explanation"]));
    let asked: Value = serde_json::from_str(body["messages"][1]["content"].as_str().unwrap()).unwrap();
    assert_eq!(asked, json!({"kind": "priority", "facts": FACTS}));
    assert!(!requests[0].body.windows(6).any(|w| w == b"secret"), "no text the user wrote goes to the model");

    let used: (i32, i64) = sqlx::query_as("select calls, tokens from chat_usage where user_id = $1")
        .bind(user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(used, (1, 2), "the call and its tokens count against the owner's chat budget");
    let after = metrics(&app).await;
    let moved = sample(&after, "suggestion_wording_total", &[("outcome", "worded")])
        - sample(&before, "suggestion_wording_total", &[("outcome", "worded")]);
    assert!(moved >= 1.0, "{after}");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_sentence_that_does_not_hold_up_leaves_the_reason_alone(db: PgPool) {
    let server = MockServer::start().await;
    mount(&server, |n, _| match n {
        // A number the facts do not state.
        0 => explains("It is due in 2 days, so there is no hurry."),
        // Not the schema's object.
        _ => completion(&json!({"role": "assistant", "content": "Due soon, low priority."})),
    })
    .await;
    let app = app_with(db, &server, |_| {}).await;
    let before = metrics(&app).await;
    let user = app.signed_up().await;
    let invented = suggest(&app, &user, FACTS).await;
    settled(&app, invented).await;
    let malformed = suggest(&app, &user, FACTS).await;
    settled(&app, malformed).await;
    eventually(Duration::from_secs(10), || async {
        (server.received_requests().await.unwrap().len() == 2).then_some(())
    })
    .await
    .expect("both were asked for");
    // Give a stored sentence time to show, were the check missing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in [invented, malformed] {
        let shown = listed(&user, id).await;
        assert_eq!((shown["explanation"].clone(), shown["reason"].clone()), (Value::Null, json!(FACTS)));
    }
    let after = metrics(&app).await;
    for outcome in ["rejected", "malformed"] {
        let moved = sample(&after, "suggestion_wording_total", &[("outcome", outcome)])
            - sample(&before, "suggestion_wording_total", &[("outcome", outcome)]);
        assert!(moved >= 1.0, "{outcome}: {after}");
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_slow_model_does_not_hold_up_the_next_suggestions(db: PgPool) {
    let server = MockServer::start().await;
    Mock::given(matchers::method("POST"))
        .and(matchers::path("/v1/chat/completions"))
        .respond_with(Script(AtomicUsize::new(0), |n: usize, _: &Value| match n {
            0 => explains("Due in 20 h.").set_delay(Duration::from_secs(5)),
            _ => explains("You have 20 h left, and 3 urgent tasks come first."),
        }))
        .mount(&server)
        .await;
    let app = app_with(db, &server, |_| {}).await;
    let user = app.signed_up().await;
    let slow = suggest(&app, &user, FACTS).await;
    settled(&app, slow).await;
    let next = suggest(&app, &user, FACTS).await;
    let worded = eventually(Duration::from_secs(10), || async {
        listed(&user, next).await["explanation"].as_str().map(str::to_owned)
    })
    .await
    .expect("the next suggestion is worded");
    assert_eq!(worded, "You have 20 h left, and 3 urgent tasks come first.");
    assert_eq!(listed(&user, slow).await["explanation"], Value::Null, "past the timeout, the reason stays");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_spent_budget_means_no_call_and_the_reason(db: PgPool) {
    let server = MockServer::start().await;
    mount(&server, |_, _| explains("Due in 20 h.")).await;
    let app = app_with(db, &server, |c| c.chat.chat_daily_calls_per_user = 1).await;
    let user = app.signed_up().await;
    user.say("hello", None).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "the chat spent the day's one call");
    let id = suggest(&app, &user, FACTS).await;
    settled(&app, id).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "no call past the budget");
    assert_eq!(listed(&user, id).await["explanation"], Value::Null);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn without_a_model_nothing_is_worded(db: PgPool) {
    let server = MockServer::start().await;
    mount(&server, |_, _| explains("Due in 20 h.")).await;
    let app = app_with(db, &server, |c| c.chat.assistant_model_wording = false).await;
    let user = app.signed_up().await;
    let id = suggest(&app, &user, FACTS).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let claimed: bool =
        sqlx::query_scalar("select wording_claimed_at is not null from suggestion where suggestion_id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!claimed, "switched off, no replica takes suggestions for wording");
    assert!(server.received_requests().await.unwrap().is_empty());
    assert_eq!(listed(&user, id).await["reason"], FACTS);
}
