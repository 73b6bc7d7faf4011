//! The daily plan: once per user and local working day, across replicas, picked by due time,
//! priority, age and estimate within the working minutes left.

use ai_agent::agents::{PassOutcome, PassReport, Resume, Settings, daily_plan};
use chrono::{DateTime, TimeDelta, Utc};
use events::Priority;
use serde_json::json;
use sqlx::{PgPool, postgres::PgPoolOptions};
use uuid::Uuid;

use crate::helpers::{
    SuggestionRow, TaskSeed, completed, deliver_event, estimate_and_age, items, set_agents_enabled, settings,
    state, suggestions, task, user, working_hours,
};

const MON_TO_FRI: i16 = 31;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

async fn pass(db: &PgPool, now: DateTime<Utc>) -> PassReport {
    daily_plan::pass_once(db, &settings(), now, None).await.unwrap().report().unwrap()
}

async fn plans(db: &PgPool, user: Uuid) -> Vec<SuggestionRow> {
    suggestions(db, user).await.into_iter().filter(|s| s.kind == "daily_plan").collect()
}

/// A user working Monday to Friday, 09:00–17:00 in `zone`, with one open task.
async fn worker(db: &PgPool, zone: &str, plan_size: i16) -> Uuid {
    let user = user(db).await;
    working_hours(db, user, MON_TO_FRI, ("09:00", "17:00"), zone, plan_size).await;
    task(db, user, TaskSeed::undated()).await;
    user
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn two_replicas_passing_at_once_make_exactly_one_plan_per_user_and_day(db: PgPool) {
    let users = [worker(&db, "UTC", 5).await, worker(&db, "Europe/Paris", 5).await];
    let other_replica =
        PgPoolOptions::new().connect_with(db.connect_options().as_ref().clone()).await.unwrap();
    // Monday 7 Dec, 10:00 UTC: both working days have started.
    let now = at("2026-12-07T10:00:00Z");
    let settings = settings();
    for _ in 0..5 {
        let (one, two) = tokio::join!(
            daily_plan::pass_once(&db, &settings, now, None),
            daily_plan::pass_once(&other_replica, &settings, now + TimeDelta::seconds(1), None),
        );
        for outcome in [one.unwrap(), two.unwrap()] {
            assert!(matches!(outcome, PassOutcome::Ran(_) | PassOutcome::Busy));
        }
    }
    for user in users {
        let rows = plans(&db, user).await;
        assert_eq!(rows.len(), 1, "one plan, whoever ran");
        assert_eq!(rows[0].title, "Your plan for Mon 7 Dec");
        assert_eq!(rows[0].dedupe_key, "plan:2026-12-07");
    }
    // Later the same day: nothing new. The next working day: a new plan.
    assert_eq!(pass(&db, at("2026-12-07T14:00:00Z")).await.examined, 0);
    assert_eq!(pass(&db, at("2026-12-08T10:00:00Z")).await.suggestions_created, 2);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn no_plan_on_a_day_off_outside_hours_with_the_assistants_off_size_zero_or_nothing_to_do(db: PgPool) {
    let planner = worker(&db, "UTC", 5).await;
    let off = worker(&db, "UTC", 5).await;
    set_agents_enabled(&db, off, false).await;
    let no_plan = worker(&db, "UTC", 0).await;
    let idle = user(&db).await;
    working_hours(&db, idle, MON_TO_FRI, ("09:00", "17:00"), "UTC", 5).await;
    task(&db, idle, TaskSeed::undated().completed()).await;

    assert_eq!(pass(&db, at("2026-12-12T10:00:00Z")).await.examined, 0, "Saturday");
    assert_eq!(pass(&db, at("2026-12-07T08:59:00Z")).await.examined, 0, "before 09:00");
    assert_eq!(pass(&db, at("2026-12-07T17:00:00Z")).await.examined, 0, "17:00 ends the day");
    // In Tokyo it is already 18:00 on Monday 09:00 UTC: its day is over.
    let tokyo = worker(&db, "Asia/Tokyo", 5).await;
    let report = pass(&db, at("2026-12-07T09:00:00Z")).await;
    assert_eq!((report.examined, report.suggestions_created), (1, 1));
    assert_eq!(plans(&db, planner).await.len(), 1);
    for user in [off, no_plan, idle, tokyo] {
        assert!(plans(&db, user).await.is_empty());
    }
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_plan_picks_by_due_time_priority_and_age_within_the_minutes_left(db: PgPool) {
    let user = user(&db).await;
    working_hours(&db, user, MON_TO_FRI, ("09:00", "17:00"), "UTC", 4).await;
    // Monday 7 Dec, 15:00: two working hours left.
    let now = at("2026-12-07T15:00:00Z");
    let fresh = now - TimeDelta::hours(1);
    let seed = |title: &str, priority: Priority, due: Option<&str>| {
        let mut seed = TaskSeed::undated().titled(title).priority(priority);
        seed.due_at = due.map(at);
        seed
    };
    let overdue = task(&db, user, seed("Overdue", Priority::Medium, Some("2026-12-04T11:00:00Z"))).await;
    let today = task(&db, user, seed("Today", Priority::Low, Some("2026-12-07T16:00:00Z"))).await;
    let urgent = task(&db, user, seed("Urgent", Priority::Urgent, None)).await;
    let too_long = task(&db, user, seed("Too long", Priority::High, None)).await;
    let waiting = task(&db, user, seed("Waiting", Priority::Medium, None)).await;
    let later = task(&db, user, seed("Later", Priority::Low, None)).await;
    let done = task(&db, user, seed("Done", Priority::Urgent, None).completed()).await;
    estimate_and_age(&db, overdue, Some(20), fresh).await;
    estimate_and_age(&db, today, None, fresh).await;
    estimate_and_age(&db, urgent, Some(60), fresh).await;
    estimate_and_age(&db, too_long, Some(90), fresh).await;
    estimate_and_age(&db, waiting, Some(10), now - TimeDelta::days(12)).await;
    estimate_and_age(&db, later, None, fresh).await;

    assert_eq!(pass(&db, now).await.suggestions_created, 1);
    let plan = plans(&db, user).await.pop().unwrap();
    assert_eq!((plan.task_id, plan.proposed_change.as_ref()), (None, None));
    assert_eq!(plan.title, "Your plan for Mon 7 Dec");
    assert_eq!(plan.message, "4 tasks, about 2 h of the 2 h left in your working day.");
    assert_eq!(plan.expires_at, at("2026-12-07T17:00:00Z"), "the end of the working day");

    let rows = items(&db, plan.suggestion_id).await;
    let picked: Vec<(Uuid, &str)> = rows.iter().map(|i| (i.task_id, i.reason.as_str())).collect();
    assert_eq!(
        picked,
        [
            (overdue, "overdue since Fri 4 Dec 11:00, 20 min"),
            (today, "due today 16:00"),
            (urgent, "urgent, 1 h"),
            (waiting, "waiting 12 days, 10 min"),
        ],
        "too long for the 10 minutes left after three; done tasks and the rest left out"
    );
    // Today's task stays as it is; the others move to today, never into the past.
    assert_eq!(rows[1].proposed_change, json!({}));
    assert_eq!(rows[0].proposed_change, json!({ "dueAt": "2026-12-07T15:15:00Z" }));
    assert_eq!(rows[2].proposed_change, json!({ "dueAt": "2026-12-07T15:15:00Z" }));
    assert!(rows.iter().all(|i| i.status == "open" && i.dedupe_key.is_none()));
    assert!(!picked.iter().any(|(task, _)| [too_long, later, done].contains(task)));

    // Completing a planned task skips its item; the plan stays open for the rest.
    sqlx::query("update task set completed_at = now() where task_id = $1")
        .bind(urgent)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(deliver_event(&state(&db), &completed(urgent, user)).await, "SUCCESS");
    let rows = items(&db, plan.suggestion_id).await;
    assert_eq!(rows.iter().find(|i| i.task_id == urgent).unwrap().status, "skipped");
    assert_eq!(plans(&db, user).await[0].status, "open");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_pass_is_bounded_and_the_next_resumes_after_its_last_user(db: PgPool) {
    let mut users = Vec::new();
    for _ in 0..5 {
        users.push(worker(&db, "UTC", 5).await);
    }
    users.sort();
    // The first two have only a task longer than the working day: examined, nothing planned.
    for user in &users[..2] {
        sqlx::query("update task set estimate_minutes = 600 where user_id = $1")
            .bind(user)
            .execute(&db)
            .await
            .unwrap();
    }
    let now = at("2026-12-07T10:00:00Z");
    let small = Settings { batch_size: 2, ..settings() };
    let mut after = None;
    let mut passes = Vec::new();
    loop {
        let report = daily_plan::pass_once(&db, &small, now, after).await.unwrap().report().unwrap();
        passes.push((report.examined, report.suggestions_created));
        match report.resume_after {
            Some(Resume::User(user)) => after = Some(user),
            _ => break,
        }
    }
    assert_eq!(passes, [(2, 0), (2, 2), (1, 1)], "a batch that planned nothing still moves on");
    for user in &users[2..] {
        assert_eq!(plans(&db, *user).await.len(), 1);
    }
    assert!(plans(&db, users[0]).await.is_empty());
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_user_who_got_the_hours_share_of_advice_still_gets_the_days_plan(db: PgPool) {
    let user = worker(&db, "UTC", 5).await;
    let now = at("2026-12-07T10:00:00Z");
    let limit = settings().suggestions_per_hour;
    sqlx::query(
        "insert into suggestion (suggestion_id, user_id, kind, title, message, dedupe_key, created_at, expires_at)
         select gen_random_uuid(), $1, 'stale', 'Advice', 'Advice', 'advice:' || n, $2 - interval '10 minutes',
                $2 + interval '1 day'
         from generate_series(1, $3) as n",
    )
    .bind(user)
    .bind(now)
    .bind(limit)
    .execute(&db)
    .await
    .unwrap();
    let report = pass(&db, now).await;
    assert_eq!(
        (report.examined, report.suggestions_created),
        (1, 1),
        "the hourly limit is for advice, not the plan"
    );
    assert_eq!(plans(&db, user).await.len(), 1);
}
