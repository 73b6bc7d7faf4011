//! Abuse limits: sign-in back-off per (email, address), per-address attempt volume, limits
//! shared by replicas, per-user quotas and write rates.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, problem};

const PASSWORD: &str = "correct horse battery";

/// Signs in as `email` from client address `ip` (the app trusts `X-Real-IP` in these tests).
async fn sign_in_from(app: &TestApp, ip: &str, email: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/signin", app.base))
        .header("x-real-ip", ip)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn sign_up_from(app: &TestApp, ip: &str, email: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/signup", app.base))
        .header("x-real-ip", ip)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn an_attacker_failing_fifty_times_does_not_lock_the_owner_out(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| {
        c.trust_proxy_headers = true;
        c.auth_rate_limit_per_minute = 30;
    })
    .await;
    let email = "owner@example.com";
    assert_eq!(sign_up_from(&app, "192.0.2.10", email).await.status(), StatusCode::CREATED);
    for i in 0..50 {
        let res = sign_in_from(&app, "198.51.100.66", email, &format!("guess {i}")).await;
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&res.status()),
            "attempt {i}: {}",
            res.status()
        );
    }
    let res = sign_in_from(&app, "198.51.100.66", email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the attacker's address stays throttled");
    let res = sign_in_from(&app, "192.0.2.10", email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK, "the owner signs in from elsewhere");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn failures_back_off_doubling_and_a_success_resets_the_pair(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| {
        c.trust_proxy_headers = true;
        c.auth_limits.auth_failures_before_backoff = 2;
        c.auth_limits.auth_backoff_base_secs = 2;
    })
    .await;
    let (ip, email) = ("203.0.113.5", "pat@example.com");
    assert_eq!(sign_up_from(&app, ip, email).await.status(), StatusCode::CREATED);
    // Two free failures, then the third starts the back-off.
    for _ in 0..3 {
        assert_eq!(sign_in_from(&app, ip, email, "wrong guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    let mut waits = Vec::new();
    for _ in 0..3 {
        let res = sign_in_from(&app, ip, email, PASSWORD).await;
        let wait = retry_after(&res);
        problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        waits.push(wait);
        tokio::time::sleep(Duration::from_secs(wait)).await;
        if waits.len() < 3 {
            assert_eq!(sign_in_from(&app, ip, email, "wrong guess").await.status(), StatusCode::UNAUTHORIZED);
        }
    }
    assert!(waits[0] >= 1 && waits[1] > waits[0] && waits[2] > waits[1], "{waits:?}");
    assert!(waits[2] >= 7, "2 s doubled twice: {waits:?}");
    // Another email from the same address is not slowed by this pair's failures.
    let res = sign_in_from(&app, ip, "someone-else@example.com", "wrong guess").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The wait is over: the right password signs in and forgets the failures.
    assert_eq!(sign_in_from(&app, ip, email, PASSWORD).await.status(), StatusCode::OK);
    for _ in 0..3 {
        assert_eq!(sign_in_from(&app, ip, email, "wrong guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(sign_in_from(&app, ip, email, "wrong guess").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn ipv6_clients_share_the_attempt_budget_of_their_slash_64(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| {
        c.trust_proxy_headers = true;
        c.auth_rate_limit_per_minute = 2;
    })
    .await;
    assert_eq!(sign_up_from(&app, "2001:db8:0:1::1", "a@example.com").await.status(), StatusCode::CREATED);
    assert_eq!(sign_up_from(&app, "2001:db8:0:1::2", "b@example.com").await.status(), StatusCode::CREATED);
    let res = sign_up_from(&app, "2001:db8:0:1:ffff::3", "c@example.com").await;
    problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let res = sign_up_from(&app, "2001:db8:0:2::1", "c@example.com").await;
    assert_eq!(res.status(), StatusCode::CREATED, "the next /64 has its own budget");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn two_replicas_share_the_sign_up_and_chat_budgets(db: PgPool) {
    let tweak = |c: &mut backend::Config| {
        c.trust_proxy_headers = true;
        c.auth_rate_limit_per_minute = 3;
        c.chat.chat_rate_limit_per_minute = 3;
    };
    let first = TestApp::spawn_with(db.clone(), tweak).await;
    let second = TestApp::spawn_with(db, tweak).await;
    let replicas = [&first, &second];
    let mut statuses = Vec::new();
    for i in 0..4 {
        let res = sign_up_from(replicas[i % 2], "192.0.2.1", &format!("u{i}@example.com")).await;
        statuses.push(res.status());
    }
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CREATED, StatusCode::CREATED, StatusCode::TOO_MANY_REQUESTS],
        "the fourth attempt is over the shared budget of three"
    );

    // From 127.0.0.1, which has a budget of its own; the session works on both replicas.
    let user = first.signed_up().await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let res = user
            .client
            .http
            .post(format!("{}/api/v1/ai/chat", replicas[i % 2].base))
            .json(&json!({"message": "show my tasks"}))
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert_eq!(statuses, [StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]);
}

/// Sends a chat message and returns the response, whatever its status.
async fn chat(user: &crate::helpers::User, message: &str, conversation: Option<&Value>) -> reqwest::Response {
    let mut body = json!({"message": message});
    if let Some(id) = conversation {
        body["conversationId"] = id.clone();
    }
    user.client.post("/api/v1/ai/chat", &body).await
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_task_quota_refuses_one_more_and_deleting_makes_room(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.quotas.max_tasks_per_user = 3).await;
    let user = app.signed_up().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(user.create_task(json!({"title": format!("task {i}")})).await["id"].clone());
    }
    let res = user.client.post("/api/v1/tasks", &json!({"title": "one too many"})).await;
    let body = problem(res, StatusCode::FORBIDDEN, "task_quota_exceeded").await;
    assert!(body["detail"].as_str().unwrap().contains('3'), "{body}");
    assert_eq!(user.tasks().await.len(), 3, "nothing was stored");
    assert_eq!(app.outbox_count().await, 3, "and no event written");
    // Completed tasks count too; deleting one makes room.
    let first = ids[0].as_str().unwrap();
    assert_eq!(
        user.client.post_empty(&format!("/api/v1/tasks/{first}/complete")).await.status(),
        StatusCode::OK
    );
    let res = user.client.post("/api/v1/tasks", &json!({"title": "still too many"})).await;
    problem(res, StatusCode::FORBIDDEN, "task_quota_exceeded").await;
    assert_eq!(user.client.delete(&format!("/api/v1/tasks/{first}")).await.status(), StatusCode::NO_CONTENT);
    user.create_task(json!({"title": "fits again"})).await;
    // Another account has its own quota.
    app.signed_up().await.create_task(json!({"title": "mine"})).await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn completing_a_recurring_task_at_the_quota_still_works(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.quotas.max_tasks_per_user = 1).await;
    let user = app.signed_up().await;
    let task = user
        .create_task(json!({"title": "Water plants", "dueAt": "2099-01-05T09:00:00Z", "recurrence": {"frequency": "daily"}}))
        .await;
    let id = task["id"].as_str().unwrap();
    let res = user.client.post_empty(&format!("/api/v1/tasks/{id}/complete")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(user.tasks().await.len(), 2, "the next occurrence was created past the quota");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_conversation_quota_refuses_a_new_conversation(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.quotas.max_conversations_per_user = 2).await;
    let user = app.signed_up().await;
    let first = user.say("show my tasks", None).await["conversationId"].clone();
    user.say("show my tasks", None).await;
    let res = chat(&user, "show my tasks", None).await;
    problem(res, StatusCode::FORBIDDEN, "conversation_quota_exceeded").await;
    // The existing ones go on; deleting one makes room.
    assert_eq!(chat(&user, "show my tasks", Some(&first)).await.status(), StatusCode::OK);
    let path = format!("/api/v1/ai/conversations/{}", first.as_str().unwrap());
    assert_eq!(user.client.delete(&path).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(chat(&user, "show my tasks", None).await.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_message_quota_refuses_a_message_without_room_for_its_reply(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.quotas.max_messages_per_conversation = 5).await;
    let user = app.signed_up().await;
    let id = user.say("show my tasks", None).await["conversationId"].clone();
    user.say("show my tasks", Some(id.as_str().unwrap())).await;
    // Four messages stored; a fifth would leave no room for its reply.
    let res = chat(&user, "show my tasks", Some(&id)).await;
    problem(res, StatusCode::FORBIDDEN, "message_quota_exceeded").await;
    let stored: i64 =
        sqlx::query_scalar("select count(*) from chat_message").fetch_one(&app.db).await.unwrap();
    assert_eq!(stored, 4);
    // A new conversation has room.
    assert_eq!(chat(&user, "show my tasks", None).await.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_write_rate_is_per_user_and_shared_by_replicas(db: PgPool) {
    let tweak = |c: &mut backend::Config| c.quotas.write_rate_limit_per_minute = 4;
    let first = TestApp::spawn_with(db.clone(), tweak).await;
    let second = TestApp::spawn_with(db, tweak).await;
    let user = first.signed_up().await;
    let mut statuses = Vec::new();
    for (i, replica) in [&first, &second, &first, &second, &first].into_iter().enumerate() {
        let res = user
            .client
            .http
            .post(format!("{}/api/v1/tasks", replica.base))
            .json(&json!({"title": format!("task {i}")}))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry_after(&res) >= 1);
            problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
            statuses.push(StatusCode::TOO_MANY_REQUESTS);
        } else {
            statuses.push(res.status());
        }
    }
    assert_eq!(statuses[..4], [StatusCode::CREATED; 4], "{statuses:?}");
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // Reading is not a write, and another user has a budget of their own.
    assert_eq!(user.client.get("/api/v1/tasks").await.status(), StatusCode::OK);
    second.signed_up().await.create_task(json!({"title": "mine"})).await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn leased_write_budgets_admit_exactly_the_limit_across_replicas(db: PgPool) {
    // 40 a minute: each replica leases two hits from the shared count at a time.
    let tweak = |c: &mut backend::Config| c.quotas.write_rate_limit_per_minute = 40;
    let first = TestApp::spawn_with(db.clone(), tweak).await;
    let second = TestApp::spawn_with(db.clone(), tweak).await;
    let user = first.signed_up().await;
    let create = |replica: &TestApp, i: usize| {
        user.client
            .http
            .post(format!("{}/api/v1/tasks", replica.base))
            .json(&json!({"title": format!("task {i}")}))
            .send()
    };
    let counted = || async {
        sqlx::query_scalar::<_, i32>("select hits from rate_limit where rate_limit_key like 'write:%'")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    for i in 0..40 {
        let replica = if i % 2 == 0 { &first } else { &second };
        assert_eq!(create(replica, i).await.unwrap().status(), StatusCode::CREATED, "write {i}");
        if i == 0 {
            assert_eq!(counted().await, 2, "the first write leases two hits");
        }
    }
    // Both replicas spent their leases: the shared count holds every hit, taken in 20
    // statements rather than 40, and the next write is refused wherever it lands.
    assert_eq!(counted().await, 40);
    for replica in [&first, &second] {
        let res = create(replica, 40).await.unwrap();
        problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    }
    let tasks: i64 = sqlx::query_scalar("select count(*) from task").fetch_one(&db).await.unwrap();
    assert_eq!(tasks, 40);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn housekeeping_deletes_limits_that_ran_out_and_keeps_live_ones(db: PgPool) {
    let app = TestApp::spawn(db).await;
    sqlx::raw_sql(
        "insert into rate_limit (rate_limit_key, hits, window_ends_at)
             values ('ip:old', 3, now() - interval '1 second'), ('ip:live', 3, now() + interval '1 minute');
         insert into sign_in_failure (email, client, failures, blocked_until, expires_at)
             values ('a@example.com', 'old', 9, now() - interval '1 hour', now() - interval '1 second'),
                    ('a@example.com', 'live', 9, now() + interval '1 minute', now() + interval '1 hour')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    backend::maintenance::purge_once(&app.db, Duration::from_hours(1)).await.unwrap();
    let left: Vec<String> = sqlx::query_scalar(
        "select rate_limit_key from rate_limit union all select client from sign_in_failure order by 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(left, ["ip:live", "live"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_burst_beyond_the_hashing_queue_gets_503_with_retry_after(db: PgPool) {
    // No waiting room: a sign-up finding every hashing thread busy is refused at once.
    let app = TestApp::spawn_with(db, |c| c.password_hash_queue_depth = Some(0)).await;
    let burst = 4 * std::thread::available_parallelism().map_or(1, std::num::NonZero::get) + 8;
    let http = reqwest::Client::new();
    let responses = futures::future::join_all((0..burst).map(|i| {
        http.post(format!("{}/api/v1/auth/signup", app.base))
            .json(&json!({"email": format!("burst{i}@example.com"), "password": PASSWORD}))
            .send()
    }))
    .await;
    let mut refused = 0;
    for res in responses {
        let res = res.unwrap();
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after(&res) >= 1);
            problem(res, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;
            refused += 1;
        } else {
            assert_eq!(res.status(), StatusCode::CREATED);
        }
    }
    assert!(refused > 0, "{burst} simultaneous sign-ups all waited for a hashing thread");
    let users: i64 = sqlx::query_scalar("select count(*) from app_user").fetch_one(&app.db).await.unwrap();
    assert_eq!(users, i64::try_from(burst - refused).unwrap(), "a refused sign-up creates nothing");
}
