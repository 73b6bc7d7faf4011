//! The calendar feed: its settings, its secret address, and what it serves, read back with an
//! independent RFC 5545 parser (the `icalendar` crate's).

use std::fmt::Write as _;

use icalendar::parser::{Component, read_calendar, unfold};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, User, json, problem};

async fn turn_on(user: &User) -> String {
    let res = user.client.post_empty("/api/v1/calendar/feed").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json(res).await;
    assert_eq!(body["enabled"], true);
    assert!(body["createdAt"].is_string(), "{body}");
    let url = body["url"].as_str().unwrap().to_owned();
    let token = url.strip_prefix("/api/v1/calendar/").and_then(|file| file.strip_suffix(".ics"));
    assert!(token.is_some_and(|token| token.len() == 43), "{url}");
    url
}

/// The feed as a calendar app fetches it: no cookies. Returns the raw text after checking the
/// response's headers.
async fn fetch(app: &TestApp, url: &str) -> String {
    let res = app.client().get(url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/calendar; charset=utf-8");
    assert_eq!(res.headers()["cache-control"], "private, max-age=300");
    res.text().await.unwrap()
}

/// The feed's events, each as (property name → unescaped value) pairs, after checking the
/// calendar's own properties and that every line is CRLF-terminated and at most 75 octets.
fn events(text: &str) -> Vec<Vec<(String, String)>> {
    assert!(text.ends_with("\r\n"));
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "a line over 75 octets: {line:?}");
        assert!(!line.contains('\n'), "a bare LF: {line:?}");
    }
    let unfolded = unfold(text);
    let calendar = read_calendar(&unfolded).expect("a valid iCalendar object");
    let value =
        |name: &str| calendar.properties.iter().find(|p| p.name == name).map(|p| p.val.as_str().to_owned());
    assert_eq!(value("VERSION").as_deref(), Some("2.0"));
    assert_eq!(value("CALSCALE").as_deref(), Some("GREGORIAN"));
    assert_eq!(value("X-WR-CALNAME").as_deref(), Some("Todo"));
    assert!(value("PRODID").is_some());
    calendar.components.iter().filter(|c| c.name == "VEVENT").map(properties).collect()
}

fn properties(component: &Component<'_>) -> Vec<(String, String)> {
    component
        .properties
        .iter()
        .map(|p| {
            let mut name = p.name.as_str().to_owned();
            for param in &p.params {
                let _ = write!(name, ";{}={}", param.key, param.val.as_ref().map_or("", |v| v.as_str()));
            }
            (name, p.val.clone().unescape_text().as_str().to_owned())
        })
        .collect()
}

fn get<'a>(event: &'a [(String, String)], name: &str) -> Option<&'a str> {
    event.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn uid(task: &Value) -> String {
    format!("{}@todo.app", task["id"].as_str().unwrap())
}

fn find<'a>(events: &'a [Vec<(String, String)>], task: &Value) -> Option<&'a Vec<(String, String)>> {
    events.iter().find(|event| get(event, "UID") == Some(uid(task).as_str()))
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_feed_is_off_until_turned_on_and_lists_only_the_users_open_dated_tasks(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let res = user.client.get("/api/v1/calendar/feed").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await, json!({"enabled": false, "url": null, "createdAt": null}));

    let timed = user
        .create_task(json!({"title": "Dentist", "dueAt": "2027-03-01T08:30:00Z", "priority": "urgent", "tags": ["health", "errands"]}))
        .await;
    let undated = user.create_task(json!({"title": "Someday"})).await;
    let done = user.create_task(json!({"title": "Filed taxes", "dueAt": "2027-02-01T10:00:00Z"})).await;
    let res =
        user.client.post_empty(&format!("/api/v1/tasks/{}/complete", done["id"].as_str().unwrap())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let other = app.signed_up().await;
    let theirs = other.create_task(json!({"title": "Not yours", "dueAt": "2027-03-01T09:00:00Z"})).await;
    turn_on(&other).await;

    let url = turn_on(&user).await;
    let res = user.client.get("/api/v1/calendar/feed").await;
    let body = json(res).await;
    assert_eq!((body["enabled"].clone(), body["url"].as_str()), (json!(true), Some(url.as_str())));

    let events = events(&fetch(&app, &url).await);
    assert_eq!(events.len(), 1, "{events:?}");
    let event = find(&events, &timed).expect("the dated open task");
    assert_eq!(get(event, "SUMMARY"), Some("Dentist"));
    assert_eq!(get(event, "DTSTART"), Some("20270301T083000Z"));
    assert_eq!(get(event, "DURATION"), Some("PT30M"));
    assert_eq!(get(event, "PRIORITY"), Some("1"));
    assert_eq!(get(event, "CATEGORIES"), Some("health,errands"));
    assert_eq!(get(event, "DESCRIPTION"), None, "no notes, no description");
    assert!(get(event, "DTSTAMP").is_some_and(|stamp| stamp.ends_with('Z')));
    for absent in [&undated, &done, &theirs] {
        assert!(find(&events, absent).is_none(), "{absent} is not in the feed");
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn titles_and_notes_with_reserved_characters_and_emoji_read_back_unchanged(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let title =
        "Call Zoë; bring the forms, pens \\ stamps — and ask about the 🎉 party, the 🏠 lease and the 🚲";
    assert!(title.len() > 75);
    let notes = "Line one, with a comma;\nline two\n\nüñïçødé 👩‍👩‍👧";
    let task = user
        .create_task(json!({"title": title, "description": notes, "dueAt": "2027-05-01T12:00:00Z"}))
        .await;
    let text = fetch(&app, &turn_on(&user).await).await;
    assert!(text.contains("\r\n "), "the long title is folded");
    let events = events(&text);
    let event = find(&events, &task).unwrap();
    assert_eq!(get(event, "SUMMARY"), Some(title));
    assert_eq!(get(event, "DESCRIPTION"), Some(notes));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_recurring_task_is_a_zoned_event_with_its_series_rule(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let res = user.client.patch("/api/v1/user/preferences", &json!({"timeZone": "Europe/Berlin"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Monday 4 January 2027, 09:00 in Berlin.
    let task = user
        .create_task(json!({
            "title": "Standup", "dueAt": "2027-01-04T08:00:00Z",
            "recurrence": {"frequency": "weekly", "weekdays": ["mon", "thu"], "count": 5},
        }))
        .await;
    let by_completion = user
        .create_task(json!({
            "title": "Water plants", "dueAt": "2027-01-05T17:00:00Z",
            "recurrence": {"frequency": "daily", "interval": 3, "basis": "completion"},
        }))
        .await;
    let url = turn_on(&user).await;
    let text = fetch(&app, &url).await;
    let unfolded = unfold(&text);
    let calendar = read_calendar(&unfolded).unwrap();
    let zone = calendar.components.iter().find(|c| c.name == "VTIMEZONE").expect("the zone's table");
    assert_eq!(zone.find_prop("TZID").map(|p| p.val.as_str()), Some("Europe/Berlin"));
    let events = events(&text);
    let event = find(&events, &task).unwrap();
    assert_eq!(get(event, "DTSTART;TZID=Europe/Berlin"), Some("20270104T090000"));
    assert_eq!(get(event, "RRULE"), Some("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=5"));
    // The next due date depends on when it is done: RRULE cannot say that.
    let event = find(&events, &by_completion).unwrap();
    assert_eq!((get(event, "DTSTART"), get(event, "RRULE")), (Some("20270105T170000Z"), None));

    // Done on time, the series' next task takes its place, with one task fewer to come.
    let res =
        user.client.post_empty(&format!("/api/v1/tasks/{}/complete", task["id"].as_str().unwrap())).await;
    let next = json(res).await["nextTask"].clone();
    let events = self::events(&fetch(&app, &url).await);
    assert!(find(&events, &task).is_none());
    let event = find(&events, &next).unwrap();
    assert_eq!(get(event, "DTSTART;TZID=Europe/Berlin"), Some("20270107T090000"));
    assert_eq!(get(event, "RRULE"), Some("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4"));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_feed_follows_changes_to_tasks(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let task = user.create_task(json!({"title": "Draft", "dueAt": "2027-06-01T09:00:00Z"})).await;
    let url = turn_on(&user).await;
    let before = events(&fetch(&app, &url).await);
    assert_eq!(get(find(&before, &task).unwrap(), "DTSTART"), Some("20270601T090000Z"));

    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    let res = user.client.patch(&path, &json!({"title": "Final", "dueAt": "2027-06-03T14:15:00Z"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let after = events(&fetch(&app, &url).await);
    let event = find(&after, &task).unwrap();
    assert_eq!((get(event, "SUMMARY"), get(event, "DTSTART")), (Some("Final"), Some("20270603T141500Z")));

    let res = user.client.patch(&path, &json!({"dueAt": null})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(events(&fetch(&app, &url).await).is_empty(), "no due date, no event");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn resetting_retires_the_old_address_and_turning_off_retires_the_feed(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let first = turn_on(&user).await;
    fetch(&app, &first).await;
    let second = turn_on(&user).await;
    assert_ne!(first, second);
    problem(app.client().get(&first).await, StatusCode::NOT_FOUND, "not_found").await;
    fetch(&app, &second).await;

    let res = user.client.delete("/api/v1/calendar/feed").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(app.client().get(&second).await, StatusCode::NOT_FOUND, "not_found").await;
    let res = user.client.get("/api/v1/calendar/feed").await;
    assert_eq!(json(res).await["enabled"], false);
    let res = user.client.delete("/api/v1/calendar/feed").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "turning off twice is fine");

    // Deleting the account takes its feed along.
    let third = turn_on(&user).await;
    let res = user.client.delete_json("/api/v1/account", &json!({"password": "correct horse battery"})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(app.client().get(&third).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn unknown_and_malformed_addresses_are_404_problems(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let url = turn_on(&user).await;
    let token = url.trim_start_matches("/api/v1/calendar/").trim_end_matches(".ics");
    let client = app.client();
    for path in [
        "/api/v1/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics".to_owned(),
        format!("/api/v1/calendar/{token}"),
        format!("/api/v1/calendar/{token}.ICS"),
        format!("/api/v1/calendar/{}.ics", token.to_lowercase()),
        "/api/v1/calendar/feed.ics".to_owned(),
    ] {
        let res = client.get(&path).await;
        problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_feed_settings_need_a_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    problem(client.get("/api/v1/calendar/feed").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    problem(client.post_empty("/api/v1/calendar/feed").await, StatusCode::UNAUTHORIZED, "unauthenticated")
        .await;
    problem(client.delete("/api/v1/calendar/feed").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let count: i64 =
        sqlx::query_scalar("select count(*) from calendar_feed").fetch_one(&app.db).await.unwrap();
    assert_eq!(count, 0);
}
