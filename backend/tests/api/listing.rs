//! Filters, sorts and keyset pagination of `GET /tasks`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{Client, TestApp, User, json, problem, problem_fields};

const PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];

/// Every task of every page, following `nextCursor` to the end.
async fn walk(client: &Client, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let mut path = format!("/api/v1/tasks?{query}");
        if let Some(c) = &cursor {
            path.push_str("&cursor=");
            path.push_str(c);
        }
        let page = json(client.get(&path).await).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
    panic!("pagination did not end");
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
}

async fn seed(user: &User, n: usize) -> Vec<Value> {
    let mut created = Vec::with_capacity(n);
    for i in 0..n {
        let mut body = json!({
            "title": format!("Task {:03} {}", (i * 37) % n, if i % 5 == 0 { "report" } else { "chore" }),
            "priority": PRIORITIES[i % 4],
        });
        if i % 3 != 0 {
            // Many tasks share a due time, so the tie-breaker matters.
            body["dueAt"] = json!(format!("2099-01-{:02}T12:00:00Z", 1 + (i % 7)));
        }
        created.push(user.create_task(body).await);
    }
    created
}

fn sorted(mut tasks: Vec<Value>, key: &str, desc: bool) -> Vec<Value> {
    // Times compare as instants, not as text: RFC 3339 writes as many fraction digits as a
    // time needs, and "…01.120Z" sorts after "…01.120500Z" as text.
    let instant = |t: &Value, field: &str| -> String {
        t[field].as_str().map_or_else(
            || "~infinity".to_owned(),
            |text| text.parse::<DateTime<Utc>>().unwrap().format("%Y-%m-%dT%H:%M:%S%.9f").to_string(),
        )
    };
    let rank = |t: &Value| -> (String, String) {
        let k = match key {
            "priority" => PRIORITIES.iter().position(|p| *p == t["priority"]).unwrap().to_string(),
            "title" => t["title"].as_str().unwrap().to_lowercase(),
            time => instant(t, time),
        };
        (k, t["id"].as_str().unwrap().to_owned())
    };
    tasks.sort_by_key(rank);
    if desc {
        tasks.reverse();
    }
    tasks
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_cursor_walk_visits_every_task_once_in_every_sort_order(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let user = app.signed_up().await;
    let created = seed(&user, 520).await;
    for key in ["createdAt", "updatedAt", "dueAt", "priority", "title"] {
        for order in ["asc", "desc"] {
            let walked = walk(&user.client, &format!("sort={key}&order={order}&limit=47")).await;
            let unique: HashSet<_> = ids(&walked).into_iter().collect();
            assert_eq!(walked.len(), 520, "{key} {order}");
            assert_eq!(unique.len(), 520, "{key} {order}: no task twice");
            let expected = sorted(created.clone(), key, order == "desc");
            assert_eq!(ids(&walked), ids(&expected), "{key} {order}: order matches");
        }
    }
    let first = json(user.client.get("/api/v1/tasks").await).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 50, "50 per page by default");
    let max = json(user.client.get("/api/v1/tasks?limit=200").await).await;
    assert_eq!(max["items"].as_array().unwrap().len(), 200);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn filters_narrow_the_list(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let user = app.signed_up().await;
    let other = app.signed_up().await;
    let t = |body: Value| user.create_task(body);
    let overdue = t(json!({"title": "Pay invoice", "priority": "high", "tags": ["Work"], "dueAt": "2020-01-01T00:00:00Z"})).await;
    let report = t(json!({"title": "Write REPORT", "description": "quarterly 50% done", "priority": "low", "tags": ["work", "q4"], "dueAt": "2099-06-15T10:00:00Z"})).await;
    let groceries = t(json!({"title": "Groceries", "priority": "urgent", "tags": ["home"]})).await;
    let done = t(json!({"title": "Old report", "priority": "medium", "dueAt": "2020-02-01T00:00:00Z"})).await;
    user.client.post_empty(&format!("/api/v1/tasks/{}/complete", done["id"].as_str().unwrap())).await;
    other.create_task(json!({"title": "Other's report", "tags": ["work"]})).await;

    let list = |q: &'static str| {
        let client = user.client.clone();
        async move {
            let mut got =
                ids(json(client.get(&format!("/api/v1/tasks?{q}")).await).await["items"].as_array().unwrap());
            got.sort();
            got
        }
    };
    let expect = |tasks: &[&Value]| {
        let mut v: Vec<String> = tasks.iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(list("status=open").await, expect(&[&overdue, &report, &groceries]));
    assert_eq!(list("status=completed").await, expect(&[&done]));
    assert_eq!(list("status=all").await, expect(&[&overdue, &report, &groceries, &done]));
    assert_eq!(list("priority=high&priority=urgent").await, expect(&[&overdue, &groceries]));
    assert_eq!(list("priority=low,medium").await, expect(&[&report, &done]));
    assert_eq!(list("tag=WORK").await, expect(&[&overdue, &report]));
    assert_eq!(list("tag=q4&tag=home").await, expect(&[&report, &groceries]));
    assert_eq!(list("search=report").await, expect(&[&report, &done]));
    assert_eq!(list("search=50%25").await, expect(&[&report]), "% is a character, not a wildcard");
    assert_eq!(list("search=QUARTERLY").await, expect(&[&report]));
    assert_eq!(list("overdue=true").await, expect(&[&overdue]));
    assert_eq!(list("overdue=false").await, expect(&[&report, &groceries, &done]));
    assert_eq!(list("dueBefore=2020-12-31").await, expect(&[&overdue, &done]));
    assert_eq!(list("dueAfter=2099-06-15").await, expect(&[&report]));
    assert_eq!(
        list("dueAfter=2021-01-01T00:00:00Z&dueBefore=2099-06-15T10:00:01Z").await,
        expect(&[&report])
    );
    assert_eq!(list("status=open&tag=work&priority=low&search=write").await, expect(&[&report]));

    let search_uses_the_index: String = {
        let mut tx = app.db.begin().await.unwrap();
        sqlx::query("set local enable_seqscan = off").execute(&mut *tx).await.unwrap();
        let plan: Vec<String> = sqlx::query_scalar(
            "explain select task_id from task where user_id = $1 and search_text like '%report%'",
        )
        .bind(user.id)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        plan.join("\n")
    };
    assert!(
        search_uses_the_index.contains("task_search_idx") || search_uses_the_index.contains("task_user"),
        "{search_uses_the_index}"
    );
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn bad_list_parameters_are_400s_naming_them(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let long_search = format!("search={}", "x".repeat(201));
    let cases = [
        ("sort=colour", "sort"),
        ("order=sideways", "order"),
        ("status=done", "status"),
        ("priority=critical", "priority"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("overdue=maybe", "overdue"),
        ("dueBefore=someday", "dueBefore"),
        ("dueAfter=2026-13-01", "dueAfter"),
        ("cursor=garbage", "cursor"),
        (long_search.as_str(), "search"),
        ("colour=red", "colour"),
    ];
    for (query, field) in cases {
        let res = user.client.get(&format!("/api/v1/tasks?{query}")).await;
        let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&body), [field], "for {query}");
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_cursor_from_another_sort_is_refused(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let user = app.signed_up().await;
    seed(&user, 3).await;
    let page = json(user.client.get("/api/v1/tasks?sort=title&limit=1").await).await;
    let cursor = page["nextCursor"].as_str().unwrap();
    let res = user.client.get(&format!("/api/v1/tasks?sort=dueAt&limit=1&cursor={cursor}")).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["cursor"]);
}

/// A cursor as a client could forge it: the API's encoding around any JSON.
fn forged_cursor(body: &Value) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(body.to_string())
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_tampered_cursor_is_a_400_never_a_500(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.outbox.relay_enabled = false).await;
    let user = app.signed_up().await;
    seed(&user, 2).await;
    let id = "00000000-0000-0000-0000-000000000000";
    let cases = [
        ("createdAt", "desc", "0000-01-01T00:00:00Z"),
        ("updatedAt", "asc", "+99999-01-01T00:00:00Z"),
        ("dueAt", "asc", "9999-12-31T23:59:59-23:59"),
        ("dueAt", "desc", "-infinity"),
        ("priority", "desc", "critical"),
        ("title", "asc", "nul\u{0}byte"),
    ];
    for (sort, order, value) in cases {
        let cursor = forged_cursor(&json!({"s": sort, "o": order, "v": value, "i": id}));
        let res = user.client.get(&format!("/api/v1/tasks?sort={sort}&order={order}&cursor={cursor}")).await;
        let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&body), ["cursor"], "for {sort} {order} {value:?}");
    }
    // The same shapes with values the API could have written page on.
    for (sort, order, value) in
        [("dueAt", "asc", "9999-12-31T00:00:00Z"), ("dueAt", "asc", "infinity"), ("title", "asc", "m")]
    {
        let cursor = forged_cursor(&json!({"s": sort, "o": order, "v": value, "i": id}));
        let res = user.client.get(&format!("/api/v1/tasks?sort={sort}&order={order}&cursor={cursor}")).await;
        assert_eq!(res.status(), StatusCode::OK, "for {sort} {order} {value}");
    }
}

/// The Today and Upcoming views ask for `dueAfter=<first day>&dueBefore=<last day>` as dates,
/// which the API reads as whole days in the user's zone: a day boundary is local midnight, and
/// a day with a daylight-saving change is 23 or 25 hours long.
#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn day_bounds_are_local_midnights_in_the_users_zone_across_daylight_saving(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for (zone, due, day, expected) in [
        // New York springs forward on 2030-03-10 (a 23-hour Sunday).
        (
            "America/New_York",
            [
                "2030-03-09T23:30:00-05:00",
                "2030-03-10T00:30:00-05:00",
                "2030-03-10T23:30:00-04:00",
                "2030-03-11T00:30:00-04:00",
            ],
            "2030-03-10",
            [1, 2],
        ),
        // Berlin falls back on 2030-10-27 (a 25-hour Sunday).
        (
            "Europe/Berlin",
            [
                "2030-10-26T23:59:00+02:00",
                "2030-10-27T00:00:00+02:00",
                "2030-10-27T23:59:00+01:00",
                "2030-10-28T00:00:00+01:00",
            ],
            "2030-10-27",
            [1, 2],
        ),
        // Kathmandu is 5 h 45 min ahead of UTC: its midnight is not on a UTC hour.
        (
            "Asia/Kathmandu",
            [
                "2030-06-01T23:59:00+05:45",
                "2030-06-02T00:00:00+05:45",
                "2030-06-02T23:59:00+05:45",
                "2030-06-03T00:00:00+05:45",
            ],
            "2030-06-02",
            [1, 2],
        ),
    ] {
        let user = app.signed_up().await;
        let res = user.client.patch("/api/v1/user/preferences", &json!({"timeZone": zone})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let mut tasks = Vec::new();
        for (n, at) in due.iter().enumerate() {
            tasks.push(user.create_task(json!({"title": format!("{zone} {n}"), "dueAt": at})).await);
        }
        // One day, as Upcoming asks for each of its days.
        let one_day =
            walk(&user.client, &format!("status=open&sort=dueAt&order=asc&dueAfter={day}&dueBefore={day}"))
                .await;
        let expected_ids: Vec<String> =
            expected.iter().map(|&i| tasks[i]["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids(&one_day), expected_ids, "{zone} {day}");
        // Due by the end of that day, as Today asks: everything before the next local midnight.
        let by_end = walk(&user.client, &format!("status=open&sort=dueAt&order=asc&dueBefore={day}")).await;
        assert_eq!(ids(&by_end), ids(&tasks[..3]), "{zone} by the end of {day}");
    }
}
