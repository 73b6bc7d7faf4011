//! Subscription discovery (§2), the app token (§5) and the probes.

use ai_agent::AppState;
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{config, send, state, unreachable_pool};

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn subscribe_lists_the_topic_with_its_dead_letter_topic_and_the_dead_letter_topic(db: PgPool) {
    let answer = send(ai_agent::app(state(&db)), get("/dapr/subscribe")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!([
            {
                "pubsubname": "pubsub-kafka",
                "topic": "tasks-lifecycle",
                "route": "/events/tasks-lifecycle",
                "metadata": { "rawPayload": "false" },
                "deadLetterTopic": "tasks-lifecycle-dlq"
            },
            {
                "pubsubname": "pubsub-kafka",
                "topic": "tasks-lifecycle-dlq",
                "route": "/events/dead-letters",
                "metadata": { "rawPayload": "false" }
            }
        ])
    );
    // Dapr rejects the whole answer if one metadata value is not a string (§2.2).
    for subscription in answer.body.as_array().unwrap() {
        assert!(subscription["metadata"].as_object().unwrap().values().all(Value::is_string));
    }
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn subscribe_uses_the_configured_pubsub_name(db: PgPool) {
    let mut config = config();
    config.pubsub_name = "pubsub-local".into();
    let answer = send(ai_agent::app(AppState::new(db, config)), get("/dapr/subscribe")).await;
    let names: Vec<_> = answer.body.as_array().unwrap().iter().map(|s| s["pubsubname"].clone()).collect();
    assert_eq!(names, [json!("pubsub-local"), json!("pubsub-local")]);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn with_an_app_token_sidecar_routes_need_it_and_the_probes_do_not(db: PgPool) {
    let mut config = config();
    config.app_api_token = Some(SecretString::from("app-secret".to_owned()));
    let app = ai_agent::app(AppState::new(db, config));
    let with_token = |request: axum::http::request::Builder, token: &str| {
        request.header("dapr-api-token", token).body(Body::from("{}")).unwrap()
    };

    for path in ["/dapr/subscribe"] {
        assert_eq!(send(app.clone(), get(path)).await.status, StatusCode::UNAUTHORIZED);
        let wrong = send(app.clone(), with_token(Request::get(path), "app-secreT")).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.body["code"], "unauthenticated");
        assert_eq!(
            send(app.clone(), with_token(Request::get(path), "app-secret")).await.status,
            StatusCode::OK
        );
    }
    for path in ["/events/tasks-lifecycle", "/events/dead-letters"] {
        let missing = send(app.clone(), Request::post(path).body(Body::from("{}")).unwrap()).await;
        assert_eq!(missing.status, StatusCode::UNAUTHORIZED, "{path}");
        let right = send(app.clone(), with_token(Request::post(path), "app-secret")).await;
        assert_eq!(right.status, StatusCode::OK, "{path}");
    }
    // The sidecar's app health probe carries no token (§5).
    assert_eq!(send(app.clone(), get("/health")).await.status, StatusCode::OK);
    assert_eq!(send(app.clone(), get("/ready")).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn health_ignores_the_database_and_ready_reports_it(db: PgPool) {
    let ready = send(ai_agent::app(state(&db)), get("/ready")).await;
    assert_eq!((ready.status, ready.body["database"].as_str()), (StatusCode::OK, Some("ok")));

    let down = AppState::new(unreachable_pool(), config());
    let health = send(ai_agent::app(down.clone()), get("/health")).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = send(ai_agent::app(down), get("/ready")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["database"], "unreachable");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn unknown_paths_are_problem_404s(db: PgPool) {
    let answer = send(ai_agent::app(state(&db)), get("/dapr/config")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body["code"], "not_found");
}
