use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestApp, json, problem, problem_fields};

const PASSWORD: &str = "correct horse battery";

fn session_cookie(res: &reqwest::Response) -> String {
    let set_cookie = res.headers()["set-cookie"].to_str().expect("ascii");
    let pair = set_cookie.split(';').next().expect("a cookie pair");
    assert!(pair.starts_with("todo_session="), "{set_cookie}");
    pair.to_owned()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn sign_up_signs_in_with_a_locked_down_cookie(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    let res = client
        .post("/api/v1/auth/signup", &json!({"email": " Ada@Example.com ", "password": PASSWORD}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    assert!(!set_cookie.contains("Secure"), "not Secure unless configured: {set_cookie}");
    let user = json(res).await;
    assert_eq!(user["email"], "ada@example.com");
    assert!(user.get("passwordHash").is_none() && user.get("password_hash").is_none());

    let me = json(client.get("/api/v1/auth/me").await).await;
    assert_eq!(me["id"], user["id"]);
    let expires: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select expires_at from session").fetch_one(&app.db).await.unwrap();
    let days = (expires - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((29.9..=30.0).contains(&days), "server-side expiry is 30 days, got {days}");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_cookie_is_secure_when_configured(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.cookie_secure = true).await;
    let res = app
        .client()
        .post("/api/v1/auth/signup", &json!({"email": "a@example.com", "password": PASSWORD}))
        .await;
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("; Secure"));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_taken_email_is_a_conflict_whatever_its_case(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    client.post("/api/v1/auth/signup", &json!({"email": "ada@example.com", "password": PASSWORD})).await;
    let res = app
        .client()
        .post("/api/v1/auth/signup", &json!({"email": "ADA@example.com", "password": PASSWORD}))
        .await;
    problem(res, StatusCode::CONFLICT, "email_taken").await;
    let users: i64 = sqlx::query_scalar("select count(*) from app_user").fetch_one(&app.db).await.unwrap();
    assert_eq!(users, 1);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn sign_up_reports_every_invalid_field(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let res = app.client().post("/api/v1/auth/signup", &json!({"email": "not-an-email"})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["email", "password"]);
    let res = app
        .client()
        .post("/api/v1/auth/signup", &json!({"email": "a@example.com", "password": "short"}))
        .await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["password"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn wrong_password_and_unknown_email_get_the_same_answer(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let wrong = app
        .client()
        .post("/api/v1/auth/signin", &json!({"email": user.email, "password": "wrong password"}))
        .await;
    let wrong = problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app
        .client()
        .post("/api/v1/auth/signin", &json!({"email": "nobody@example.com", "password": PASSWORD}))
        .await;
    let unknown = problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong, unknown);

    let ok = app
        .client()
        .post("/api/v1/auth/signin", &json!({"email": user.email.to_uppercase(), "password": PASSWORD}))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn sign_out_ends_the_session_for_good(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    let res =
        client.post("/api/v1/auth/signup", &json!({"email": "a@example.com", "password": PASSWORD})).await;
    let cookie = session_cookie(&res);
    // In use, so this replica holds the session in its cache; signing out must drop it there.
    assert_eq!(client.get("/api/v1/auth/me").await.status(), StatusCode::OK);
    let res = client.post_empty("/api/v1/auth/signout").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    problem(client.get("/api/v1/auth/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // A copy of the cookie kept by an attacker is worthless too.
    let replay = reqwest::Client::new()
        .get(client.url("/api/v1/auth/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    problem(replay, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn another_replica_honours_a_sign_out_within_its_cache_lifetime(db: PgPool) {
    let here = TestApp::spawn(db.clone()).await;
    let there = TestApp::spawn_with(db, |c| c.cache_seconds = 1).await;
    let client = here.client();
    let res =
        client.post("/api/v1/auth/signup", &json!({"email": "a@example.com", "password": PASSWORD})).await;
    let cookie = session_cookie(&res);
    let me_there = || async {
        reqwest::Client::new()
            .get(format!("{}/api/v1/auth/me", there.client().base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(me_there().await, StatusCode::OK, "the other replica knows the session (and caches it)");
    let signed_out = std::time::Instant::now();
    assert_eq!(client.post_empty("/api/v1/auth/signout").await.status(), StatusCode::NO_CONTENT);
    let refused = crate::helpers::eventually(std::time::Duration::from_secs(3), || async {
        (me_there().await == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;
    assert!(refused.is_some(), "the other replica still accepts the session 3 s after sign-out");
    assert!(signed_out.elapsed() < std::time::Duration::from_millis(2500));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_session_survives_a_restart_of_the_app(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let res = app
        .client()
        .post("/api/v1/auth/signup", &json!({"email": "a@example.com", "password": PASSWORD}))
        .await;
    let cookie = session_cookie(&res);
    let (db, _) = app.stop().await;

    let app = TestApp::spawn(db).await;
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/auth/me", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["email"], "a@example.com");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn sign_in_replaces_a_session_planted_before_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let victim = app.signed_up().await;
    // The attacker's own valid session, planted in the victim's browser.
    let planted = {
        let res = app
            .client()
            .post("/api/v1/auth/signup", &json!({"email": "attacker@example.com", "password": PASSWORD}))
            .await;
        session_cookie(&res)
    };
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/signin", app.base))
        .header("cookie", &planted)
        .json(&json!({"email": victim.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = session_cookie(&res);
    assert_ne!(fresh, planted);
    let old = reqwest::Client::new()
        .get(format!("{}/api/v1/auth/me", app.base))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn repeated_sign_in_attempts_are_throttled_with_retry_after(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.auth_rate_limit_per_minute = 3).await;
    let client = app.client();
    for _ in 0..3 {
        let res = client
            .post("/api/v1/auth/signin", &json!({"email": "a@example.com", "password": "guess guess"}))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = client
        .post("/api/v1/auth/signin", &json!({"email": "a@example.com", "password": "guess guess"}))
        .await;
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Sign-up from the same address is throttled as well.
    let res =
        client.post("/api/v1/auth/signup", &json!({"email": "b@example.com", "password": PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn every_endpoint_needs_a_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let http = reqwest::Client::new();
    let id = uuid::Uuid::new_v4();
    let calls = [
        ("GET", "/api/v1/auth/me".to_owned()),
        ("GET", "/api/v1/tasks".to_owned()),
        ("POST", "/api/v1/tasks".to_owned()),
        ("GET", format!("/api/v1/tasks/{id}")),
        ("PATCH", format!("/api/v1/tasks/{id}")),
        ("DELETE", format!("/api/v1/tasks/{id}")),
        ("POST", format!("/api/v1/tasks/{id}/complete")),
        ("POST", format!("/api/v1/tasks/{id}/incomplete")),
        ("GET", "/api/v1/user/preferences".to_owned()),
        ("PATCH", "/api/v1/user/preferences".to_owned()),
        ("GET", "/api/v1/suggestions".to_owned()),
        ("POST", format!("/api/v1/suggestions/{id}/accept")),
        ("POST", format!("/api/v1/suggestions/{id}/dismiss")),
    ];
    for (method, path) in calls {
        let req = http.request(method.parse().unwrap(), format!("{}{path}", app.base));
        let req = if method == "GET" || method == "DELETE" { req } else { req.json(&json!({"title": "x"})) };
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(json(res).await["code"], "unauthenticated", "{method} {path}");
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn cross_site_writes_are_refused_and_same_origin_ones_pass(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let host = app.base.trim_start_matches("http://").to_owned();
    let res = user
        .client
        .http
        .post(user.client.url("/api/v1/tasks"))
        .header("origin", "https://evil.example")
        .json(&json!({"title": "planted"}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::FORBIDDEN, "cross_site_request").await;
    let res = user
        .client
        .http
        .post(user.client.url("/api/v1/tasks"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"title": "planted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = user
        .client
        .http
        .post(user.client.url("/api/v1/tasks"))
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"title": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.outbox_count().await, 1, "the refused requests wrote nothing");
}
