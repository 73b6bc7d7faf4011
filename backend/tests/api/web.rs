//! The built web app served next to the API (`WEB_DIR`), as `./dev run` does.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::{TestApp, problem};

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_web_app_is_served_with_its_routes_and_cache_policy(db: PgPool) {
    let dir = std::env::temp_dir().join(format!("web-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><div id=root></div>").unwrap();
    std::fs::write(dir.join("assets/app-3f2c9a4e.js"), "console.log('todo');".repeat(100)).unwrap();
    let web_dir = dir.clone();
    let app = TestApp::spawn_with(db, |c| c.web_dir = Some(web_dir)).await;
    let client = app.client();

    for path in ["/", "/tasks/some-id", "/settings"] {
        let res = client.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        assert!(res.text().await.unwrap().contains("<div id=root>"), "{path} is the app's page");
    }

    let res =
        client.http.get(client.url("/assets/app-3f2c9a4e.js")).header("accept-encoding", "gzip").send().await;
    let res = res.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(res.headers()["content-encoding"], "gzip");

    // The API keeps its own answers: unknown API paths are problems, not the app's page.
    problem(client.get("/api/v1/nope").await, StatusCode::NOT_FOUND, "not_found").await;
    // The sidecar's discovery: the backend subscribes to nothing.
    problem(client.get("/dapr/subscribe").await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(client.get("/api/v1/tasks").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(client.get("/health").await.status(), StatusCode::OK);
    std::fs::remove_dir_all(dir).unwrap();
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn without_a_web_dir_only_the_api_answers(db: PgPool) {
    let app = TestApp::spawn(db).await;
    problem(app.client().get("/").await, StatusCode::NOT_FOUND, "not_found").await;
}
