use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestApp, json, problem};

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn health_and_readiness_report_the_outbox(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let client = app.client();
    assert_eq!(json(client.get("/health").await).await, json!({"status": "ok"}));
    let user = app.signed_up().await;
    user.create_task(json!({"title": "waits"})).await;
    let ready = json(client.get("/ready").await).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["outboxBacklog"], 1);
    assert!(ready["oldestUnpublishedAgeSeconds"].as_f64().is_some());
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn readiness_fails_while_the_database_is_unreachable(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    db.close().await;
    let res = app.client().get("/ready").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(res).await["database"], "unreachable");
    assert_eq!(app.client().get("/health").await.status(), StatusCode::OK, "liveness does not depend on it");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_correlation_id_is_echoed_and_carried_into_events(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let res = user
        .client
        .http
        .post(user.client.url("/api/v1/tasks"))
        .header("x-correlation-id", "req-42")
        .json(&json!({"title": "traced"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-correlation-id"], "req-42");
    let task = json(res).await;
    let events = app.outbox_events(task["id"].as_str().unwrap()).await;
    assert_eq!(events[0].1["correlationId"], "req-42");
    let generated = user.client.get("/api/v1/tasks").await;
    assert!(
        generated.headers()["x-correlation-id"].to_str().unwrap().len() >= 32,
        "one is generated otherwise"
    );
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_openapi_document_describes_every_operation(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    let doc = json(client.get("/api/v1/openapi.json").await).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/auth/signup", vec!["post"]),
        ("/api/v1/auth/signin", vec!["post"]),
        ("/api/v1/auth/signout", vec!["post"]),
        ("/api/v1/auth/me", vec!["get"]),
        ("/api/v1/tasks", vec!["get", "post"]),
        ("/api/v1/tasks/{id}", vec!["get", "patch", "delete"]),
        ("/api/v1/tasks/{id}/complete", vec!["post"]),
        ("/api/v1/tasks/{id}/incomplete", vec!["post"]),
        ("/api/v1/user/preferences", vec!["get", "patch"]),
        ("/api/v1/suggestions", vec!["get"]),
        ("/api/v1/suggestions/{id}/accept", vec!["post"]),
        ("/api/v1/suggestions/{id}/dismiss", vec!["post"]),
        ("/health", vec!["get"]),
        ("/ready", vec!["get"]),
    ] {
        for method in methods {
            assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is documented");
        }
    }
    let docs = client.get("/api/v1/docs/").await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"), "the browsable docs page is served");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn unknown_routes_get_a_problem_404(db: PgPool) {
    let app = TestApp::spawn(db).await;
    problem(app.client().get("/api/v1/nothing-here").await, StatusCode::NOT_FOUND, "not_found").await;
}
