//! Restraint: a kind the user keeps dismissing is paused (doubling, reset by an accept, never
//! for reminders, never taught by the assistants' own withdrawals or by expiry); dismissed
//! advice is not repeated unless its facts change materially; every reason names its facts.

use ai_agent::{
    agents::{PassReport, prioritization},
    db::suggestions::{dismiss_open_for_task, expire_open, insert, insert_many},
    suggestion::{Inserted, Kind, NewSuggestion},
};
use chrono::{DateTime, NaiveTime, SubsecRound, TimeDelta, Utc};
use events::Priority;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{SuggestionRow, TaskSeed, advice, ago, from_now, settings, suggestions, task, user};

const PER_HOUR: i64 = 100;

async fn propose(db: &PgPool, suggestion: &NewSuggestion, now: DateTime<Utc>) -> Inserted {
    let mut conn = db.acquire().await.unwrap();
    insert(&mut conn, suggestion, now, now + TimeDelta::days(7), PER_HOUR).await.unwrap()
}

/// The user's answer, as the backend's handlers write it (leaving `resolved_by` alone).
async fn answer(db: &PgPool, id: Uuid, status: &str, at: DateTime<Utc>) {
    sqlx::query("update suggestion set status = $2, resolved_at = $3 where suggestion_id = $1")
        .bind(id)
        .bind(status)
        .bind(at)
        .execute(db)
        .await
        .unwrap();
}

/// Proposes advice of `kind` under a fresh key at `at` and has the user answer it at once.
async fn propose_and_answer(db: &PgPool, user: Uuid, kind: Kind, status: &str, at: DateTime<Utc>) {
    let key = format!("{}:{}", kind.as_str(), Uuid::now_v7());
    let Inserted::Created(id) = propose(db, &advice(user, None, kind, &key), at).await else {
        panic!("advice of {kind:?} at {at} was not created");
    };
    answer(db, id, status, at).await;
}

async fn feedback(db: &PgPool, user: Uuid, kind: &str) -> Option<(i32, Option<DateTime<Utc>>, i64, i64)> {
    sqlx::query_as(
        "select dismissed_in_a_row, paused_until, accepted, dismissed from suggestion_feedback
         where user_id = $1 and kind = $2",
    )
    .bind(user)
    .bind(kind)
    .fetch_optional(db)
    .await
    .unwrap()
}

fn fresh(user: Uuid, kind: Kind) -> NewSuggestion {
    advice(user, None, kind, &format!("{}:{}", kind.as_str(), Uuid::now_v7()))
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn three_dismissals_in_a_row_pause_a_kind_for_a_day_and_each_further_one_doubles(db: PgPool) {
    let user = user(&db).await;
    // PostgreSQL keeps microseconds.
    let t0 = Utc::now().trunc_subsecs(6);
    for i in 0..2 {
        propose_and_answer(&db, user, Kind::Priority, "dismissed", t0 + TimeDelta::minutes(i)).await;
    }
    assert_eq!(feedback(&db, user, "priority").await, Some((2, None, 0, 2)), "two are not enough");
    propose_and_answer(&db, user, Kind::Priority, "dismissed", t0 + TimeDelta::minutes(2)).await;

    let third = t0 + TimeDelta::minutes(2);
    assert_eq!(feedback(&db, user, "priority").await, Some((3, Some(third + TimeDelta::days(1)), 0, 3)));
    assert_eq!(
        propose(&db, &fresh(user, Kind::Priority), third + TimeDelta::hours(23)).await,
        Inserted::BackedOff
    );
    assert!(
        matches!(
            propose(&db, &fresh(user, Kind::Stale), third + TimeDelta::hours(23)).await,
            Inserted::Created(_)
        ),
        "other kinds go on"
    );

    // A day later the kind is back; dismissing it again pauses it for two days, then four.
    let fourth = third + TimeDelta::days(1) + TimeDelta::minutes(1);
    propose_and_answer(&db, user, Kind::Priority, "dismissed", fourth).await;
    assert_eq!(feedback(&db, user, "priority").await.unwrap().1, Some(fourth + TimeDelta::days(2)));
    let fifth = fourth + TimeDelta::days(2) + TimeDelta::minutes(1);
    propose_and_answer(&db, user, Kind::Priority, "dismissed", fifth).await;
    assert_eq!(feedback(&db, user, "priority").await.unwrap().1, Some(fifth + TimeDelta::days(4)));

    // Capped at thirty days however long the run.
    let mut at = fifth;
    for _ in 0..5 {
        at = feedback(&db, user, "priority").await.unwrap().1.unwrap() + TimeDelta::minutes(1);
        propose_and_answer(&db, user, Kind::Priority, "dismissed", at).await;
    }
    let (in_a_row, paused_until, ..) = feedback(&db, user, "priority").await.unwrap();
    assert_eq!(in_a_row, 10);
    assert_eq!(paused_until, Some(at + TimeDelta::days(30)));
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_accept_ends_the_run_and_lifts_the_pause(db: PgPool) {
    let user = user(&db).await;
    // PostgreSQL keeps microseconds.
    let t0 = Utc::now().trunc_subsecs(6);
    for i in 0..2 {
        propose_and_answer(&db, user, Kind::Stale, "dismissed", t0 + TimeDelta::minutes(i)).await;
    }
    propose_and_answer(&db, user, Kind::Stale, "accepted", t0 + TimeDelta::minutes(2)).await;
    for i in 3..5 {
        propose_and_answer(&db, user, Kind::Stale, "dismissed", t0 + TimeDelta::minutes(i)).await;
    }
    assert_eq!(feedback(&db, user, "stale").await, Some((2, None, 1, 4)), "the accept reset the run");
    assert!(matches!(
        propose(&db, &fresh(user, Kind::Stale), t0 + TimeDelta::minutes(5)).await,
        Inserted::Created(_)
    ));
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_assistants_own_withdrawals_and_expiry_teach_nothing(db: PgPool) {
    let user = user(&db).await;
    let now = Utc::now();
    for _ in 0..3 {
        let task = task(&db, user, TaskSeed::due(from_now(60))).await;
        propose(&db, &advice(user, Some(task), Kind::Priority, &format!("priority:{task}")), now).await;
        let mut conn = db.acquire().await.unwrap();
        assert_eq!(dismiss_open_for_task(&mut conn, task, &[Kind::Priority], None, now).await.unwrap(), 1);
    }
    for _ in 0..3 {
        propose(&db, &fresh(user, Kind::Stale), now - TimeDelta::days(10)).await;
    }
    let mut conn = db.acquire().await.unwrap();
    assert_eq!(expire_open(&mut conn, now, 100).await.unwrap(), 3);
    drop(conn);

    let rows = suggestions(&db, user).await;
    assert!(rows.iter().all(|s| s.resolved_by == "assistant"), "{rows:?}");
    assert_eq!(feedback(&db, user, "priority").await, None);
    assert_eq!(feedback(&db, user, "stale").await, None);
    assert!(matches!(propose(&db, &fresh(user, Kind::Priority), now).await, Inserted::Created(_)));
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn reminders_are_never_paused(db: PgPool) {
    let user = user(&db).await;
    let now = Utc::now();
    for i in 0..5 {
        propose_and_answer(&db, user, Kind::Reminder, "dismissed", now + TimeDelta::minutes(i)).await;
    }
    assert_eq!(feedback(&db, user, "reminder").await, None);
    assert!(matches!(
        propose(&db, &fresh(user, Kind::Reminder), now + TimeDelta::minutes(6)).await,
        Inserted::Created(_)
    ));
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_batch_backs_off_per_row_and_a_backed_off_row_takes_no_slot(db: PgPool) {
    let (tired, other) = (user(&db).await, user(&db).await);
    let now = Utc::now();
    for i in 0..3 {
        propose_and_answer(
            &db,
            tired,
            Kind::Overload,
            "dismissed",
            now - TimeDelta::hours(2) + TimeDelta::minutes(i),
        )
        .await;
    }
    // Two slots an hour: the paused row must not use one of `tired`'s.
    let batch = [
        fresh(tired, Kind::Overload),
        fresh(tired, Kind::Stale),
        fresh(other, Kind::Overload),
        fresh(tired, Kind::Priority),
        fresh(tired, Kind::Priority),
    ];
    let mut conn = db.acquire().await.unwrap();
    let outcomes = insert_many(&mut conn, &batch, now, now + TimeDelta::days(7), 2).await.unwrap();
    let names: Vec<_> = outcomes
        .iter()
        .map(|o| match o {
            Inserted::Created(_) => "created",
            Inserted::BackedOff => "backed_off",
            Inserted::RateLimited => "rate_limited",
            Inserted::Duplicate => "duplicate",
            Inserted::Disabled => "disabled",
        })
        .collect();
    assert_eq!(names, ["backed_off", "created", "created", "created", "rate_limited"]);
}

async fn pass(db: &PgPool, now: DateTime<Utc>) -> PassReport {
    prioritization::pass_once(db, &settings(), now).await.unwrap().report().expect("the pass ran")
}

async fn dismiss_all(db: &PgPool, user: Uuid, kind: &str) {
    sqlx::query("update suggestion set status = 'dismissed', resolved_at = now() where user_id = $1 and kind = $2 and status = 'open'")
        .bind(user)
        .bind(kind)
        .execute(db)
        .await
        .unwrap();
}

fn of_kind(rows: &[SuggestionRow], kind: &str) -> Vec<SuggestionRow> {
    rows.iter().filter(|s| s.kind == kind).cloned().collect()
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_cron_scans_skip_a_paused_kind(db: PgPool) {
    let (tired, other) = (user(&db).await, user(&db).await);
    let now = Utc::now();
    for i in 0..3 {
        propose_and_answer(&db, tired, Kind::Priority, "dismissed", now - TimeDelta::minutes(10 - i)).await;
    }
    task(&db, tired, TaskSeed::due(from_now(20 * 60)).priority(Priority::Low)).await;
    let others = task(&db, other, TaskSeed::due(from_now(20 * 60)).priority(Priority::Low)).await;
    let report = pass(&db, now).await;
    assert_eq!(
        (report.examined, report.suggestions_created),
        (1, 1),
        "only the other user's task is a candidate"
    );
    assert_eq!(suggestions(&db, other).await[0].task_id, Some(others));
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn dismissed_priority_advice_returns_only_for_another_due_day_or_a_priority_change(db: PgPool) {
    let user = user(&db).await;
    let id = task(&db, user, TaskSeed::due(from_now(20 * 60)).priority(Priority::Medium)).await;
    assert_eq!(pass(&db, Utc::now()).await.suggestions_created, 1);
    dismiss_all(&db, user, "priority").await;

    let set = |sql: &'static str| {
        let db = db.clone();
        async move { sqlx::query(sql).bind(id).execute(&db).await.unwrap() }
    };
    set("update task set title = 'Renamed', due_at = due_at + interval '1 minute' where task_id = $1").await;
    assert_eq!(
        pass(&db, Utc::now()).await.suggestions_created,
        0,
        "a new title and the same day: same advice"
    );

    set("update task set due_at = due_at + interval '25 hours' where task_id = $1").await;
    assert_eq!(pass(&db, Utc::now()).await.suggestions_created, 1, "moved by more than a day");
    dismiss_all(&db, user, "priority").await;

    set("update task set priority = 'low' where task_id = $1").await;
    assert_eq!(pass(&db, Utc::now()).await.suggestions_created, 1, "the priority dropped");
    assert_eq!(of_kind(&suggestions(&db, user).await, "priority").len(), 3);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn dismissed_overload_advice_returns_this_week_only_when_the_count_grows_by_two(db: PgPool) {
    let user = user(&db).await;
    let now = Utc::now();
    for hours in [30, 50, 70] {
        task(&db, user, TaskSeed::due(now + TimeDelta::hours(hours)).priority(Priority::High)).await;
    }
    assert_eq!(pass(&db, now).await.suggestions_created, 1);
    dismiss_all(&db, user, "overload").await;

    task(&db, user, TaskSeed::due(now + TimeDelta::hours(90)).priority(Priority::Urgent)).await;
    assert_eq!(pass(&db, now).await.suggestions_created, 0, "one more is not news");
    task(&db, user, TaskSeed::due(now + TimeDelta::hours(100)).priority(Priority::Urgent)).await;
    assert_eq!(pass(&db, now).await.suggestions_created, 1, "two more are");
    let overload = of_kind(&suggestions(&db, user).await, "overload");
    assert_eq!(overload[1].dedupe_key, ai_agent::suggestion::dedupe::overload(user, now, 5));

    // Grown by two more while the last is still open: one card, with the current count.
    for hours in [110, 120] {
        task(&db, user, TaskSeed::due(now + TimeDelta::hours(hours)).priority(Priority::High)).await;
    }
    assert_eq!(pass(&db, now).await.suggestions_created, 1);
    let overload = of_kind(&suggestions(&db, user).await, "overload");
    let open: Vec<_> = overload.iter().filter(|s| s.status == "open").collect();
    assert_eq!(open.len(), 1);
    assert!(open[0].title.starts_with("7 important tasks"));
    assert_eq!((overload[1].status.as_str(), overload[1].resolved_by.as_str()), ("dismissed", "assistant"));
    assert_eq!(overload[0].resolved_by, "user");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_dismissed_still_relevant_returns_only_after_the_task_changed(db: PgPool) {
    let user = user(&db).await;
    let id = task(&db, user, TaskSeed::undated().updated_at(ago(16 * 24 * 60))).await;
    assert_eq!(pass(&db, Utc::now()).await.suggestions_created, 1);
    dismiss_all(&db, user, "stale").await;
    assert_eq!(
        pass(&db, Utc::now() + TimeDelta::days(3)).await.suggestions_created,
        0,
        "days later: answered"
    );

    // Changed now (the table's trigger stamps `updated_at`), then left alone for two weeks.
    sqlx::query("update task set title = 'Edited' where task_id = $1").bind(id).execute(&db).await.unwrap();
    assert_eq!(pass(&db, Utc::now() + TimeDelta::days(15)).await.suggestions_created, 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn every_reason_names_the_facts_it_was_built_from(db: PgPool) {
    let user = user(&db).await;
    let now = Utc::now();
    // Two urgent tasks due today (UTC, the user's zone by default), earlier than now.
    let midnight = now.date_naive().and_time(NaiveTime::MIN).and_utc();
    for _ in 0..2 {
        task(&db, user, TaskSeed::due(midnight + (now - midnight) / 2).priority(Priority::Urgent)).await;
    }
    let advised =
        task(&db, user, TaskSeed::due(now + TimeDelta::minutes(20 * 60 + 30)).priority(Priority::Low)).await;
    for hours in [30, 50, 70] {
        task(&db, user, TaskSeed::due(now + TimeDelta::hours(hours)).priority(Priority::High)).await;
    }
    let old = task(&db, user, TaskSeed::undated().updated_at(now - TimeDelta::days(16))).await;
    pass(&db, now).await;

    let rows = suggestions(&db, user).await;
    let reason = |pick: &dyn Fn(&SuggestionRow) -> bool| {
        rows.iter().find(|s| pick(s)).and_then(|s| s.reason.clone()).expect("a reason")
    };
    assert_eq!(
        reason(&|s| s.task_id == Some(advised)),
        "Due in 20 h, low priority, 2 urgent tasks already due today"
    );
    assert_eq!(reason(&|s| s.task_id == Some(old)), "Untouched for 16 days, no due date");
    let by = (now + TimeDelta::days(7)).format("%a %-d %b").to_string();
    assert!(
        reason(&|s| s.kind == "overload").starts_with(&format!("3 high or urgent tasks due by {by}")),
        "{rows:?}"
    );
}
