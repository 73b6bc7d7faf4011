//! The app token on every sidecar route: a delivery with a missing or wrong token is refused
//! before anything is processed, and one with the right token is handled. The probes and
//! `/metrics` stay open (the sidecar's health probe and Prometheus carry no token).

use ai_agent::AppState;
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use secrecy::SecretString;

use crate::helpers::{
    TaskSeed, ago, cloud_event, config, created_for, dead_letters, processed_count, send, task, user,
};

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn deliveries_without_the_right_app_token_change_nothing(db: sqlx::PgPool) {
    let mut config = config();
    config.app_api_token = Some(SecretString::from("the-app-token".to_owned()));
    let app = ai_agent::app(AppState::new(db.clone(), config));
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(10))).await;
    let body = cloud_event(&created_for(&db, task).await).to_string();

    for route in ["/events/tasks-lifecycle", "/events/dead-letters"] {
        for token in [None, Some("wrong"), Some("the-app-token-but-longer"), Some("")] {
            let mut request = Request::post(route).header("content-type", "application/cloudevents+json");
            if let Some(token) = token {
                request = request.header("dapr-api-token", token);
            }
            let answer = send(app.clone(), request.body(Body::from(body.clone())).unwrap()).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{route} with {token:?}");
            assert_eq!(answer.body["code"], "unauthenticated");
        }
    }
    assert_eq!(processed_count(&db).await, 0, "nothing was processed");
    let suggestions: i64 =
        sqlx::query_scalar("select count(*) from suggestion").fetch_one(&db).await.unwrap();
    assert_eq!(suggestions, 0);
    assert!(dead_letters(&db).await.is_empty(), "no dead letter was recorded");

    // The right token gets through on both routes, and the deliveries take effect.
    for route in ["/events/tasks-lifecycle", "/events/dead-letters"] {
        let request = Request::post(route)
            .header("content-type", "application/cloudevents+json")
            .header("dapr-api-token", "the-app-token");
        let answer = send(app.clone(), request.body(Body::from(body.clone())).unwrap()).await;
        assert_eq!(answer.dapr_status(), "SUCCESS", "{route} with the right token");
    }
    assert_eq!(processed_count(&db).await, 2, "the event and its dead letter were processed");
    let kinds: Vec<String> = sqlx::query_scalar("select kind from suggestion where task_id = $1")
        .bind(task)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(kinds, ["schedule_adjustment"]);
    assert_eq!(dead_letters(&db).await.len(), 1);

    let metrics = send(app.clone(), Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(metrics.status, StatusCode::OK);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_agent_refuses_to_start_without_an_app_token(db: sqlx::PgPool) {
    let mut config = config();
    config.allow_unauthenticated_deliveries = false;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let started = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        ai_agent::run(config.clone(), db.clone(), listener, shutdown.clone()),
    )
    .await
    .expect("refused at once rather than serving");
    let error = started.expect_err("no token and no opt-out");
    assert!(format!("{error:#}").contains("APP_API_TOKEN"), "{error:#}");
    assert!(reqwest::get(format!("http://{address}/health")).await.is_err(), "nothing listens");

    // A token, or the explicit development opt-out, lets it start.
    for tweak in [
        (|c: &mut ai_agent::Config| c.app_api_token = Some(SecretString::from("t".to_owned())))
            as fn(&mut ai_agent::Config),
        |c| c.allow_unauthenticated_deliveries = true,
    ] {
        let mut config = config.clone();
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let agent = tokio::spawn(ai_agent::run(config, db.clone(), listener, shutdown.clone()));
        let health = reqwest::get(format!("http://{address}/health")).await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        shutdown.cancel();
        agent.await.unwrap().unwrap();
    }
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn with_a_metrics_address_the_delivery_port_serves_no_metrics(db: sqlx::PgPool) {
    let mut config = config();
    config.metrics_listen_addr = Some("127.0.0.1:0".parse().unwrap());
    let state = AppState::new(db, config);
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    assert_eq!(send(ai_agent::app(state.clone()), get("/metrics")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(ai_agent::metrics_app(state.clone()), get("/metrics")).await.status, StatusCode::OK);
    // And the metrics port takes no deliveries.
    let delivery = Request::post("/events/tasks-lifecycle")
        .header("content-type", "application/cloudevents+json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(send(ai_agent::metrics_app(state), delivery).await.status, StatusCode::NOT_FOUND);
}
