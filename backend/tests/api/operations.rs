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

/// Routes served outside the OpenAPI document, each for a reason. Every other route is
/// registered through utoipa's `routes!`, which puts it in the document.
const UNDOCUMENTED: &[(&str, &str)] = &[
    ("/metrics", "Prometheus scrape endpoint, not part of the public API"),
    ("/api/{*rest}", "with WEB_DIR: unknown API paths stay problem+json 404s"),
    ("/dapr/{*rest}", "with WEB_DIR: the sidecar's discovery calls get a 404, not the web app"),
];

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every literal path the backend's source hands to axum directly (`route`, `route_service`,
/// `nest_service`), bypassing the documenting `routes!`.
fn routes_registered_by_hand() -> Vec<(String, String)> {
    fn visit(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("the backend's source") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                visit(&path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("a source file");
            let code: String = source
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .flat_map(|l| [l, "\n"])
                .collect();
            for call in [".route(", ".route_service(", ".nest_service("] {
                for (at, _) in code.match_indices(call) {
                    let rest = code[at + call.len()..].trim_start();
                    let literal = rest.strip_prefix('"').and_then(|r| r.split_once('"')).map_or_else(
                        || {
                            panic!(
                                "{}: `{call}` takes a literal path, so this test can see it",
                                path.display()
                            )
                        },
                        |(l, _)| l.to_owned(),
                    );
                    found.push((path.display().to_string(), literal));
                }
            }
        }
    }
    let mut found = Vec::new();
    visit(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    found
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_openapi_document_describes_every_operation(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    let doc = json(client.get("/api/v1/openapi.json").await).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented: Vec<(String, Vec<&str>)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| (path.clone(), METHODS.into_iter().filter(|m| item.get(*m).is_some()).collect()))
        .collect();
    assert!(documented.iter().any(|(p, _)| p == "/api/v1/tasks"), "the document has the API: {documented:?}");

    // What the app serves, asked of the app itself without a session (so nothing changes and
    // nothing streams): a documented method is routed (neither the 404 of an unknown path nor
    // a 405), and every other method of a documented path is a 405, so the document lists all
    // the methods a path serves. The calendar feed's address must exist to be served.
    let feed = json(app.signed_up().await.client.post_empty("/api/v1/calendar/feed").await).await;
    let feed_file = feed["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let anonymous = reqwest::Client::new();
    for (path, methods) in &documented {
        let nil = uuid::Uuid::nil().to_string();
        let concrete = path
            .replace("{id}", &nil)
            .replace("{taskId}", &nil)
            .replace("{file}", &feed_file)
            .replace("{kind}", "priority");
        assert!(!concrete.contains('{'), "a parameter this test cannot fill in: {path}");
        let url = client.url(&concrete);
        for method in METHODS {
            let status = anonymous
                .request(method.to_uppercase().parse().unwrap(), &url)
                .send()
                .await
                .expect("request sent")
                .status();
            if methods.contains(&method) {
                assert!(
                    ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&status),
                    "documented {method} {path} is not served: {status}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented"
                );
            }
        }
    }

    // Every path is registered through the documenting `routes!`, or by hand and then either
    // documented or listed with its reason.
    for (file, path) in routes_registered_by_hand() {
        let known =
            documented.iter().any(|(p, _)| *p == path) || UNDOCUMENTED.iter().any(|(p, _)| *p == path);
        assert!(
            known,
            "{file} serves {path} outside the OpenAPI document; document it or list it in UNDOCUMENTED"
        );
    }
    assert_eq!(client.get("/metrics").await.status(), StatusCode::OK);

    let docs = client.get("/api/v1/docs/").await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"), "the browsable docs page is served");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn unknown_routes_get_a_problem_404(db: PgPool) {
    let app = TestApp::spawn(db).await;
    problem(app.client().get("/api/v1/nothing-here").await, StatusCode::NOT_FOUND, "not_found").await;
}
