//! Security properties, checked against the running app: authentication on every operation of
//! the OpenAPI document, isolation between users, session handling, cross-site requests,
//! hostile input, and secrets kept out of logs and events.
//!
//! The app-token check of the ai-agent's subscription routes is tested in the ai-agent's
//! `subscribe` tests (`with_an_app_token_sidecar_routes_need_it_and_the_probes_do_not`).

use std::{
    fmt::Write as _,
    io::Write,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestApp, json, problem};

/// Operations anyone may call: the probes and the ways to get (or drop) a session.
const PUBLIC: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/ready"),
    ("post", "/api/v1/auth/signup"),
    ("post", "/api/v1/auth/signin"),
    ("post", "/api/v1/auth/signout"),
    // The calendar feed's secret address is its own credential.
    ("get", "/api/v1/calendar/{file}"),
];

/// Every (method, path template) of the served OpenAPI document.
async fn operations(app: &TestApp) -> Vec<(String, String)> {
    let doc = json(app.client().get("/api/v1/openapi.json").await).await;
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                ops.push((method.to_owned(), path.clone()));
            }
        }
    }
    assert!(ops.len() >= 15, "the document lists every operation: {ops:?}");
    ops
}

fn method(name: &str) -> Method {
    name.to_uppercase().parse().expect("an HTTP method")
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn every_operation_but_the_public_ones_needs_a_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let anonymous = app.client();
    let ops = operations(&app).await;
    for public in PUBLIC {
        assert!(ops.iter().any(|(m, p)| (m.as_str(), p.as_str()) == *public), "{public:?} is documented");
    }
    let doc = json(anonymous.get("/api/v1/openapi.json").await).await;
    let documented: Vec<(String, String)> =
        ops.iter().filter(|(m, p)| doc["paths"][p][m]["responses"].get("401").is_some()).cloned().collect();
    let mut checked = 0;
    for (m, path) in &ops {
        if PUBLIC.contains(&(m.as_str(), path.as_str())) {
            continue;
        }
        let url = anonymous.url(&path.replace("{id}", &Uuid::now_v7().to_string()));
        let mut request = anonymous.http.request(method(m), url);
        if m != "get" && m != "delete" {
            request = request.json(&json!({"title": "x"}));
        }
        let res = request.send().await.unwrap();
        problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert!(documented.contains(&(m.clone(), path.clone())), "{m} {path} documents its 401");
        checked += 1;
    }
    assert!(checked >= 12, "checked {checked} operations");
    // A made-up session token is no session either.
    let forged = reqwest::Client::new()
        .get(anonymous.url("/api/v1/tasks"))
        .header("cookie", "todo_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    problem(forged, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn another_users_tasks_and_suggestions_are_not_found_on_every_operation(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let owner = app.signed_up().await;
    let intruder = app.signed_up().await;
    let task = owner.create_task(json!({"title": "Mine", "priority": "low"})).await;
    let task_id = task["id"].as_str().unwrap().to_owned();
    let suggestion_id: Uuid = sqlx::query_scalar(
        "insert into suggestion (suggestion_id, user_id, task_id, kind, title, message, proposed_change, dedupe_key, expires_at)
         values (gen_random_uuid(), $1, $2, 'priority', 'Raise it', 'Because', '{\"priority\":\"high\"}', 'k', now() + interval '1 day')
         returning suggestion_id",
    )
    .bind(owner.id)
    .bind(task_id.parse::<Uuid>().unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();

    let project = json(owner.client.post("/api/v1/projects", &json!({"name": "Mine"})).await).await;
    let project_id = project["id"].as_str().unwrap().to_owned();

    let mut checked = 0;
    for (m, path) in operations(&app).await.iter().filter(|(_, p)| p.contains("{id}")) {
        let (id, body, query) = if path.starts_with("/api/v1/suggestions") {
            (suggestion_id.to_string(), json!({}), "")
        } else if path.starts_with("/api/v1/projects") {
            (project_id.clone(), json!({"name": "Yours now"}), "?tasks=delete")
        } else {
            (task_id.clone(), json!({"title": "Yours now", "priority": "urgent"}), "")
        };
        // A suggestion item is named by its task.
        let url = format!("{}{query}", path.replace("{id}", &id).replace("{taskId}", &task_id));
        let mut request = intruder.client.http.request(method(m), intruder.client.url(&url));
        if m == "patch" {
            request = request.json(&body);
        } else if path.ends_with("/move") {
            // A well-formed move, so only the task's owner decides the answer.
            request = request.json(&json!({}));
        }
        let res = request.send().await.unwrap();
        problem(res, StatusCode::NOT_FOUND, "not_found").await;
        checked += 1;
    }
    assert!(checked >= 10, "checked {checked} operations");
    let kept = json(owner.client.get(&format!("/api/v1/projects/{project_id}")).await).await;
    assert_eq!(kept["name"], "Mine");
    // Nothing changed, and the intruder's lists do not show the owner's data.
    let unchanged = json(owner.client.get(&format!("/api/v1/tasks/{task_id}")).await).await;
    assert_eq!(
        (unchanged["title"].as_str(), unchanged["status"].clone()),
        (Some("Mine"), task["status"].clone())
    );
    let status: String =
        sqlx::query_scalar("select status from suggestion").fetch_one(&app.db).await.unwrap();
    assert_eq!(status, "open");
    let listed = json(intruder.client.get("/api/v1/tasks").await).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(0), "{listed}");
    let suggestions = json(intruder.client.get("/api/v1/suggestions").await).await;
    assert!(!suggestions.to_string().contains(&suggestion_id.to_string()));
}

fn session_token(res: &reqwest::Response) -> Option<String> {
    res.headers().get_all("set-cookie").iter().find_map(|v| {
        let pair = v.to_str().ok()?.split(';').next()?;
        pair.strip_prefix("todo_session=").map(str::to_owned)
    })
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn sessions_are_not_fixed_and_end_on_the_server(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let base = app.client().base;
    let plain = reqwest::Client::new();
    let sign_in = |cookie: Option<String>| {
        let mut request = plain
            .post(format!("{base}/api/v1/auth/signin"))
            .json(&json!({"email": user.email, "password": "correct horse battery"}));
        if let Some(cookie) = cookie {
            request = request.header("cookie", format!("todo_session={cookie}"));
        }
        request.send()
    };
    let me = |token: String| {
        plain.get(format!("{base}/api/v1/auth/me")).header("cookie", format!("todo_session={token}")).send()
    };

    // An attacker-chosen token planted before sign-in is not adopted.
    let planted = "attacker-chosen-token-0123456789abcdefghijklmnop".to_owned();
    let res = sign_in(Some(planted.clone())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let first = session_token(&res).expect("a session cookie");
    assert_ne!(first, planted);
    assert_eq!(me(planted).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(first.clone()).await.unwrap().status(), StatusCode::OK);

    // Signing in again with a valid session issues a new token and retires the old one.
    let res = sign_in(Some(first.clone())).await.unwrap();
    let second = session_token(&res).expect("a new session cookie");
    assert_ne!(second, first);
    assert_eq!(me(first.clone()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(second.clone()).await.unwrap().status(), StatusCode::OK);

    // The server stores only the SHA-256 of each live token (never the token itself), the
    // retired session is gone, and sign-out deletes the row.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select session_hash from session where user_id = $1")
        .bind(user.id)
        .fetch_all(&app.db)
        .await
        .expect("the user's sessions");
    assert!(stored.contains(&sha256(&second)), "the live session is stored as the SHA-256 of its token");
    assert!(!stored.contains(&sha256(&first)), "the retired session is deleted");
    assert!(stored.iter().all(|h| h.as_slice() != second.as_bytes()), "the token itself is never stored");
    let out = plain
        .post(format!("{base}/api/v1/auth/signout"))
        .header("cookie", format!("todo_session={second}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let cleared = out.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["todo_session=;", "HttpOnly", "SameSite=Lax", "Max-Age=0"] {
        assert!(cleared.contains(flag), "{cleared} lacks {flag}");
    }
    assert_eq!(me(second.clone()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let left: i64 = sqlx::query_scalar("select count(*) from session where session_hash = $1")
        .bind(sha256(&second))
        .fetch_one(&app.db)
        .await
        .expect("a count");
    assert_eq!(left, 0, "sign-out deletes the session row");
}

/// What the server keeps of a session token: its SHA-256.
fn sha256(token: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).to_vec()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn session_cookie_flags(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.cookie_secure = true).await;
    let res = app
        .client()
        .post(
            "/api/v1/auth/signup",
            &json!({"email": "flags@example.com", "password": "correct horse battery"}),
        )
        .await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    let token = session_token(&res).unwrap();
    assert!(token.len() >= 32, "at least 256 bits of token: {token}");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn password_guessing_is_throttled(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.auth_rate_limit_per_minute = 5).await;
    let user = app.signed_up().await;
    let attacker = app.client();
    let mut statuses = Vec::new();
    for i in 0..8 {
        let res = attacker
            .post("/api/v1/auth/signin", &json!({"email": user.email, "password": format!("guess {i}")}))
            .await;
        statuses.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
            problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        }
    }
    // The sign-up used one of the five attempts a minute from this address.
    assert!(statuses[..4].iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
    assert!(statuses[4..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    // Even the right password is refused while throttled.
    let res = attacker
        .post("/api/v1/auth/signin", &json!({"email": user.email, "password": "correct horse battery"}))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn cross_site_writes_are_refused_on_every_state_changing_operation(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user.create_task(json!({"title": "Target"})).await;
    let id = task["id"].as_str().unwrap();
    let mut checked = 0;
    for (m, path) in operations(&app).await.iter().filter(|(m, _)| m != "get") {
        let url = user.client.url(&path.replace("{id}", id));
        for (header, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
            let res = user
                .client
                .http
                .request(method(m), url.clone())
                .header(header, value)
                .json(&json!({"title": "pwned"}))
                .send()
                .await
                .unwrap();
            problem(res, StatusCode::FORBIDDEN, "cross_site_request").await;
            checked += 1;
        }
    }
    assert!(checked >= 16, "checked {checked}");
    let after = json(user.client.get(&format!("/api/v1/tasks/{id}")).await).await;
    assert_eq!(after["title"], "Target");
    assert_eq!(json(user.client.get("/api/v1/auth/me").await).await["id"], user.id.to_string());
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn markup_in_text_is_stored_and_returned_verbatim_as_json(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let title = r#"<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes" ' --"#;
    let description = "</textarea><svg onload=alert(1)>{{constructor.constructor('alert(1)')()}}";
    let task =
        user.create_task(json!({"title": title, "description": description, "tags": ["<b>tag</b>"]})).await;
    let res = user.client.get(&format!("/api/v1/tasks/{}", task["id"].as_str().unwrap())).await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body = json(res).await;
    assert_eq!(body["title"], title);
    assert_eq!(body["description"], description);
    let listed = json(user.client.get("/api/v1/tasks?search=script").await).await;
    assert_eq!(listed["items"][0]["title"], title);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn oversized_and_deeply_nested_bodies_are_refused_cleanly(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let huge = json!({"title": "x".repeat(2 * 1024 * 1024)});
    let res = user.client.post("/api/v1/tasks", &huge).await;
    problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // Nesting far beyond serde_json's recursion limit, but within the size limit.
    for depth in [200, 20_000] {
        let body = format!(r#"{{"title":"t","tags":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
        let res = user
            .client
            .http
            .post(user.client.url("/api/v1/tasks"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "depth {depth}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let patch = user
            .client
            .http
            .patch(user.client.url(&format!("/api/v1/tasks/{}", Uuid::now_v7())))
            .header("content-type", "application/json")
            .body(format!(r#"{{"title":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth)))
            .send()
            .await
            .unwrap();
        assert!(patch.status().is_client_error(), "depth {depth}: {}", patch.status());
    }
    // NUL characters, which PostgreSQL text cannot store (found by the API fuzzing as a 500).
    let res = user.client.post("/api/v1/tasks", &json!({"title": "a\u{0}b", "tags": ["x\u{0}"]})).await;
    problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    for query in ["search=a%00b", "tag=%00", "tag=ok&search=x%00"] {
        let res = user.client.get(&format!("/api/v1/tasks?{query}")).await;
        problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    }
    // Still serving.
    assert_eq!(user.client.get("/api/v1/tasks").await.status(), StatusCode::OK);
}

/// Everything every test in this process logs, as JSON lines.
fn captured_logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_env_filter("trace,hyper=info,hyper_util=info,h2=info,rustls=info,reqwest=debug")
            .with_writer(move || Capture(Arc::clone(&sink)))
            .finish();
        // Installed once for the process; if another test installed one first, this test
        // could not see the logs, so fail loudly rather than pass vacuously.
        tracing::subscriber::set_global_default(subscriber).expect("the log capture is the only subscriber");
        logs
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn no_secret_reaches_a_log_line_or_an_event(db: PgPool) {
    let logs = captured_logs();
    let dapr_token = format!("dapr-token-{}", Uuid::new_v4().simple());
    let db_password = format!("db-password-{}", Uuid::new_v4().simple());
    let dapr =
        Arc::new(dapr_emulator::Emulator::builder().api_token(dapr_token.clone()).start().await.unwrap());
    let app = TestApp::spawn_with_dapr(db, dapr, |c| {
        c.outbox.dapr_api_token = Some(dapr_token.clone().into());
        c.database.database_url = format!("postgres://app:{db_password}@127.0.0.1:5432/todo").into();
    })
    .await;
    let password = format!("pw-{}", Uuid::new_v4().simple());
    let email = format!("secret-{}@example.com", Uuid::new_v4().simple());
    let client = app.client();
    let res = client.post("/api/v1/auth/signup", &json!({"email": email, "password": password})).await;
    let token = session_token(&res).expect("a session");
    let wrong = format!("wrong-{password}");
    client.post("/api/v1/auth/signin", &json!({"email": email, "password": wrong})).await;
    client.post("/api/v1/auth/signin", &json!({"email": email, "password": password})).await;
    let task =
        json(client.post("/api/v1/tasks", &json!({"title": "Secret-free", "dueAt": "2020-01-01"})).await)
            .await;
    client
        .patch(&format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()), &json!({"priority": "high"}))
        .await;
    client.post_empty(&format!("/api/v1/tasks/{}/complete", task["id"].as_str().unwrap())).await;
    app.dapr.wait_for(events::TOPIC, 3, std::time::Duration::from_secs(10)).await.expect("events published");
    let config_debug = {
        let mut config = backend::Config::for_database_url(&format!("postgres://app:{db_password}@db/todo"));
        config.outbox.dapr_api_token = Some(dapr_token.clone().into());
        format!("{config:?}")
    };
    let (db, dapr) = app.stop().await;

    let secrets =
        [password.as_str(), wrong.as_str(), token.as_str(), dapr_token.as_str(), db_password.as_str()];
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(text.contains(&email) || text.contains("signed in"), "the capture saw this test's logs");
    let payloads: Vec<Value> = sqlx::query_scalar("select payload from outbox").fetch_all(&db).await.unwrap();
    // What the broker stores and subscribers receive: the CloudEvent and its metadata (the
    // publish call's headers carry the Dapr token by design and are not part of the event).
    let published: String = dapr.published(events::TOPIC).iter().fold(String::new(), |mut out, m| {
        let _ = write!(out, "{} {:?}", String::from_utf8_lossy(&m.body), m.metadata);
        out
    });
    let events = format!("{payloads:?}");
    assert!(payloads.len() >= 3 && !published.is_empty());
    for secret in secrets {
        assert!(!events.contains(secret) && !published.contains(secret), "a secret reached an event");
        assert!(!text.contains(secret), "a secret reached the logs");
        assert!(!config_debug.contains(secret), "a secret is in the configuration's Debug output");
    }
}
