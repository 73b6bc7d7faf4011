//! The prioritisation assistant: due-soon priorities, overload, stale tasks.

use ai_agent::agents::{PassReport, prioritization};
use chrono::{DateTime, TimeDelta, Utc};
use events::{Change, Priority, TaskChanges};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{
    SuggestionRow, TaskSeed, ago, created, deliver_event, from_now, outbox, set_agents_enabled, settings,
    state, suggestions, task, updated, user,
};

async fn pass(db: &PgPool, now: DateTime<Utc>) -> PassReport {
    prioritization::pass_once(db, &settings(), now).await.unwrap().report().expect("the pass ran")
}

fn of_kind<'a>(rows: &'a [SuggestionRow], kind: &str) -> Vec<&'a SuggestionRow> {
    rows.iter().filter(|s| s.kind == kind).collect()
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn low_and_medium_tasks_due_soon_get_priority_advice(db: PgPool) {
    let user = user(&db).await;
    let tomorrow_morning = task(&db, user, TaskSeed::due(from_now(20 * 60)).priority(Priority::Low)).await;
    let in_a_day_and_a_half =
        task(&db, user, TaskSeed::due(from_now(36 * 60)).priority(Priority::Medium)).await;
    task(&db, user, TaskSeed::due(from_now(20 * 60)).priority(Priority::High)).await;
    task(&db, user, TaskSeed::due(from_now(3 * 24 * 60)).priority(Priority::Low)).await;
    task(&db, user, TaskSeed::due(ago(60)).priority(Priority::Low)).await;
    task(&db, user, TaskSeed::due(from_now(60)).priority(Priority::Low).completed()).await;

    let report = pass(&db, Utc::now()).await;
    assert_eq!(report.suggestions_created, 2);
    assert!(outbox(&db).await.is_empty(), "advice is not announced as an event");

    let rows = suggestions(&db, user).await;
    let advice = |task| rows.iter().find(|s| s.task_id == Some(task)).expect("advice for the task");
    assert_eq!(advice(tomorrow_morning).proposed_change, Some(json!({ "priority": "urgent" })));
    assert_eq!(advice(in_a_day_and_a_half).proposed_change, Some(json!({ "priority": "high" })));
    assert!(advice(tomorrow_morning).dedupe_key.starts_with(&format!("priority:{tomorrow_morning}:")));
    assert_eq!(pass(&db, Utc::now()).await.suggestions_created, 0, "advised once");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_due_date_change_gets_advice_at_once_and_raising_the_priority_dismisses_it(db: PgPool) {
    let user = user(&db).await;
    let state = state(&db);
    let task = task(&db, user, TaskSeed::due(from_now(30 * 60)).priority(Priority::Low)).await;
    let moved =
        TaskChanges { due_date: Change::if_changed(None, Some(from_now(30 * 60))), ..TaskChanges::default() };
    assert_eq!(deliver_event(&state, &updated(task, user, moved)).await, "SUCCESS");
    let rows = suggestions(&db, user).await;
    assert_eq!(of_kind(&rows, "priority").len(), 1);
    assert!(rows[0].source_event.is_some(), "caused by the event");

    sqlx::query("update task set priority = 'high' where task_id = $1")
        .bind(task)
        .execute(&db)
        .await
        .unwrap();
    let raised =
        TaskChanges { priority: Change::if_changed(Priority::Low, Priority::High), ..TaskChanges::default() };
    assert_eq!(deliver_event(&state, &updated(task, user, raised)).await, "SUCCESS");
    assert_eq!(suggestions(&db, user).await[0].status, "dismissed");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_title_change_is_no_reason_for_priority_advice(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(from_now(60)).priority(Priority::Low)).await;
    let renamed =
        TaskChanges { title: Change::if_changed("a".to_owned(), "b".to_owned()), ..TaskChanges::default() };
    assert_eq!(deliver_event(&state(&db), &updated(task, user, renamed)).await, "SUCCESS");
    assert!(suggestions(&db, user).await.is_empty());
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn three_important_tasks_due_this_week_are_an_overload_warned_about_once_a_week(db: PgPool) {
    let (busy, calm) = (user(&db).await, user(&db).await);
    for days in [1, 3, 6] {
        task(&db, busy, TaskSeed::due(from_now(days * 24 * 60)).priority(Priority::High)).await;
    }
    task(&db, calm, TaskSeed::due(from_now(24 * 60)).priority(Priority::Urgent)).await;
    task(&db, calm, TaskSeed::due(from_now(2 * 24 * 60)).priority(Priority::High)).await;
    task(&db, calm, TaskSeed::due(from_now(10 * 24 * 60)).priority(Priority::High)).await;
    let now = Utc::now();

    pass(&db, now).await;
    let rows = suggestions(&db, busy).await;
    let overload = of_kind(&rows, "overload");
    assert_eq!(overload.len(), 1);
    assert_eq!(overload[0].task_id, None);
    assert!(overload[0].title.starts_with("3 important tasks"));
    assert_eq!(overload[0].dedupe_key, ai_agent::suggestion::dedupe::overload(busy, now, 3));
    assert!(of_kind(&suggestions(&db, calm).await, "overload").is_empty());

    // A later pass of the same week: an hour later, unless that hour starts the next week (a
    // run on Sunday evening, UTC), then the same instant again.
    let later = Some(now + TimeDelta::hours(1))
        .filter(|t| ai_agent::suggestion::dedupe::iso_week(*t) == ai_agent::suggestion::dedupe::iso_week(now))
        .unwrap_or(now);
    pass(&db, later).await;
    assert_eq!(of_kind(&suggestions(&db, busy).await, "overload").len(), 1, "once per week");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_priority_raise_that_creates_an_overload_is_warned_about_at_once(db: PgPool) {
    let user = user(&db).await;
    let mut last = None;
    for days in [1, 2, 3] {
        last =
            Some(task(&db, user, TaskSeed::due(from_now(days * 24 * 60)).priority(Priority::Urgent)).await);
    }
    let raised = TaskChanges {
        priority: Change::if_changed(Priority::Low, Priority::Urgent),
        ..TaskChanges::default()
    };
    deliver_event(&state(&db), &updated(last.unwrap(), user, raised)).await;
    assert_eq!(of_kind(&suggestions(&db, user).await, "overload").len(), 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn tasks_untouched_for_two_weeks_are_asked_about_and_an_update_answers(db: PgPool) {
    let user = user(&db).await;
    let stale = task(&db, user, TaskSeed::undated().updated_at(ago(15 * 24 * 60)).titled("Old idea")).await;
    task(&db, user, TaskSeed::undated().updated_at(ago(13 * 24 * 60))).await;
    task(&db, user, TaskSeed::undated().updated_at(ago(30 * 24 * 60)).completed()).await;

    assert_eq!(pass(&db, Utc::now()).await.suggestions_created, 1);
    let rows = suggestions(&db, user).await;
    assert_eq!((rows[0].kind.as_str(), rows[0].task_id), ("stale", Some(stale)));
    assert_eq!(rows[0].title, "Still relevant? Old idea");
    assert!(rows[0].message.contains("15 days"), "{}", rows[0].message);
    assert_eq!(pass(&db, Utc::now()).await.suggestions_created, 0, "asked once");

    let renamed =
        TaskChanges { title: Change::if_changed("a".to_owned(), "b".to_owned()), ..TaskChanges::default() };
    deliver_event(&state(&db), &updated(stale, user, renamed)).await;
    assert_eq!(suggestions(&db, user).await[0].status, "dismissed");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn users_who_turned_the_assistants_off_get_no_advice(db: PgPool) {
    let user = user(&db).await;
    set_agents_enabled(&db, user, false).await;
    let soon = task(&db, user, TaskSeed::due(from_now(60)).priority(Priority::Low)).await;
    for days in [1, 2, 3] {
        task(&db, user, TaskSeed::due(from_now(days * 24 * 60)).priority(Priority::High)).await;
    }
    task(&db, user, TaskSeed::undated().updated_at(ago(20 * 24 * 60))).await;

    assert_eq!(deliver_event(&state(&db), &created(soon, user, Some(from_now(60)))).await, "SUCCESS");
    let report = pass(&db, Utc::now()).await;
    assert_eq!(report.suggestions_created, 0);
    assert!(suggestions(&db, user).await.is_empty());
}
