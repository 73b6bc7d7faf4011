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
    std::fs::write(dir.join("sw.js"), "self.addEventListener('fetch', () => {});").unwrap();
    std::fs::write(dir.join("manifest.webmanifest"), r#"{"name":"Todo"}"#).unwrap();
    let web_dir = dir.clone();
    let app = TestApp::spawn_with(db, |c| c.web_dir = Some(web_dir)).await;
    let client = app.client();

    // The installable app: browsers take a service worker only as JavaScript, and must check it
    // for a new deployment on every load (no-cache), or they run the old code until it expires.
    for (path, content_type) in
        [("/sw.js", "text/javascript"), ("/manifest.webmanifest", "application/manifest+json")]
    {
        let res = client.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["content-type"], content_type, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
    }

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

/// `(name, value)` of the `add_header NAME "VALUE" always;` lines of the frontend image's NGINX
/// include, read here independently of the backend's own parsing.
fn nginx_security_headers() -> Vec<(String, String)> {
    let conf =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docker/security-headers.conf"))
            .unwrap();
    let headers: Vec<(String, String)> = conf
        .lines()
        .filter_map(|line| line.strip_prefix("add_header "))
        .map(|rest| {
            let (name, value) = rest.split_once(' ').unwrap();
            (name.to_ascii_lowercase(), value.trim_end_matches(" always;").trim_matches('"').to_owned())
        })
        .collect();
    assert!(headers.iter().any(|(name, _)| name == "content-security-policy"), "{headers:?}");
    headers
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_web_app_gets_the_same_security_headers_as_from_nginx(db: PgPool) {
    let dir = std::env::temp_dir().join(format!("web-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><div id=root></div>").unwrap();
    std::fs::write(dir.join("assets/app-3f2c9a4e.js"), "console.log('todo');").unwrap();
    let web_dir = dir.clone();
    let app = TestApp::spawn_with(db, |c| c.web_dir = Some(web_dir)).await;
    let client = app.client();
    let expected = nginx_security_headers();
    for path in ["/", "/index.html", "/tasks/some-id", "/assets/app-3f2c9a4e.js", "/assets/missing.js"] {
        let res = client.get(path).await;
        for (name, value) in &expected {
            assert_eq!(
                res.headers().get(name).map(|v| v.to_str().unwrap()),
                Some(value.as_str()),
                "{path}: {name}"
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn without_a_web_dir_only_the_api_answers(db: PgPool) {
    let app = TestApp::spawn(db).await;
    problem(app.client().get("/").await, StatusCode::NOT_FOUND, "not_found").await;
}
