//! The overdue assistant: the event path, the sweep, and the limits both obey.

use ai_agent::{
    agents::{PassOutcome, PassReport, overdue},
    db::locks::{JobLock, try_job_lock},
    suggestion::{Inserted, Kind, NewSuggestion, dedupe},
};
use chrono::{DateTime, TimeDelta, Utc};
use events::{Change, EventPayload, TaskChanges};
use sqlx::PgPool;
use tokio::task::JoinSet;

use crate::helpers::{
    SuggestionRow, TaskSeed, ago, completed, created, created_for, deliver_event, from_now, incomplete,
    outbox, processed_count, set_agents_enabled, settings, state, suggestions, task, updated, user,
};

#[track_caller]
fn ran(outcome: PassOutcome) -> PassReport {
    outcome.report().expect("the pass ran")
}

/// The overdue warnings only: a task due soon also gets the prioritisation assistant's advice.
async fn warnings(db: &PgPool, user: uuid::Uuid) -> Vec<SuggestionRow> {
    suggestions(db, user).await.into_iter().filter(|s| s.kind == "schedule_adjustment").collect()
}

async fn sweep(db: &PgPool, now: DateTime<Utc>) -> PassReport {
    ran(overdue::sweep_once(db, &settings(), now, None).await.unwrap())
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn tasks_not_yet_due_completed_or_gone_get_no_warning(db: PgPool) {
    let user = user(&db).await;
    let state = state(&db);
    let future = task(&db, user, TaskSeed::due(from_now(60))).await;
    let done = task(&db, user, TaskSeed::due(ago(60)).completed()).await;
    let undated = task(&db, user, TaskSeed::undated()).await;
    // The event says the task is overdue, but the row (the truth) is gone.
    let gone = uuid::Uuid::now_v7();

    for task in [future, done, undated, gone] {
        assert_eq!(deliver_event(&state, &created(task, user, Some(ago(60)))).await, "SUCCESS");
    }
    assert!(warnings(&db, user).await.is_empty());
    assert!(outbox(&db).await.is_empty());
    assert_eq!(processed_count(&db).await, 4, "each event is still marked processed");
}

/// A task deleted after its handler read it (the delete commits between the handler's read
/// and its insert): the warning is not written, and the delivery succeeds rather than failing
/// on the foreign key and coming back.
#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_task_deleted_while_its_warning_is_written_gets_none_and_no_error(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(60))).await;
    let mut deleting = db.begin().await.unwrap();
    sqlx::query("delete from task where task_id = $1").bind(task).execute(&mut *deleting).await.unwrap();
    let warning = NewSuggestion {
        user_id: user,
        task_id: Some(task),
        kind: Kind::Overdue,
        title: "Overdue".into(),
        message: "Overdue".into(),
        reason: "Due an hour ago.".into(),
        proposed_change: None,
        dedupe_key: dedupe::overdue(task, ago(60)),
        source_event: None,
        correlation_id: None,
    };
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut conn = db.acquire().await.unwrap();
            ai_agent::db::suggestions::insert(&mut conn, &warning, Utc::now(), from_now(60), 100).await
        })
    };
    // The insert waits for the delete to end, then finds the task gone.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    deleting.commit().await.unwrap();
    assert_eq!(writer.await.unwrap().expect("no foreign-key error"), Inserted::Duplicate);
    assert!(suggestions(&db, user).await.is_empty());
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_update_making_a_task_overdue_warns_and_completion_dismisses(db: PgPool) {
    let user = user(&db).await;
    let state = state(&db);
    let task = task(&db, user, TaskSeed::due(ago(10))).await;
    let changes = TaskChanges { due_date: Change::if_changed(None, Some(ago(10))), ..TaskChanges::default() };
    assert_eq!(deliver_event(&state, &updated(task, user, changes)).await, "SUCCESS");
    assert_eq!(suggestions(&db, user).await[0].status, "open");

    sqlx::query("update task set completed_at = now() where task_id = $1")
        .bind(task)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(deliver_event(&state, &completed(task, user)).await, "SUCCESS");

    let rows = suggestions(&db, user).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "dismissed");
    assert!(rows[0].resolved_at.is_some());
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn rescheduling_dismisses_the_old_warning_and_missing_again_warns_again(db: PgPool) {
    let user = user(&db).await;
    let state = state(&db);
    let task = task(&db, user, TaskSeed::due(ago(10))).await;
    deliver_event(&state, &created_for(&db, task).await).await;

    // Moved to tomorrow: the warning about the old due time is wrong now.
    sqlx::query("update task set due_at = $2 where task_id = $1")
        .bind(task)
        .bind(from_now(24 * 60))
        .execute(&db)
        .await
        .unwrap();
    let changes =
        TaskChanges { due_date: Change::if_changed(None, Some(from_now(1))), ..TaskChanges::default() };
    deliver_event(&state, &updated(task, user, changes.clone())).await;
    let rows = warnings(&db, user).await;
    assert_eq!(rows.iter().map(|s| s.status.as_str()).collect::<Vec<_>>(), ["dismissed"]);

    // Moved into the past again: a new due time, a new warning.
    sqlx::query("update task set due_at = $2 where task_id = $1")
        .bind(task)
        .bind(ago(1))
        .execute(&db)
        .await
        .unwrap();
    deliver_event(&state, &updated(task, user, changes)).await;
    let rows = warnings(&db, user).await;
    assert_eq!(rows.iter().map(|s| s.status.as_str()).collect::<Vec<_>>(), ["dismissed", "open"]);
    assert_eq!(outbox(&db).await.len(), 2);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_reopened_overdue_task_is_flagged(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(10))).await;
    assert_eq!(deliver_event(&state(&db), &incomplete(task, user)).await, "SUCCESS");
    assert_eq!(suggestions(&db, user).await.len(), 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_sweep_warns_about_tasks_that_became_overdue_quietly_once(db: PgPool) {
    let (alice, bob) = (user(&db).await, user(&db).await);
    let late = task(&db, alice, TaskSeed::due(ago(30)).titled("Late")).await;
    let later = task(&db, bob, TaskSeed::due(ago(3 * 24 * 60)).titled("Very late")).await;
    task(&db, alice, TaskSeed::due(from_now(30))).await;
    task(&db, alice, TaskSeed::due(ago(30)).completed()).await;
    task(&db, bob, TaskSeed::undated()).await;

    let report = sweep(&db, Utc::now()).await;
    assert_eq!(
        report,
        PassReport { examined: 2, suggestions_created: 2, events_published: 2, ..PassReport::default() }
    );
    let announced = outbox(&db).await;
    let mut tasks: Vec<_> = announced.iter().map(|e| e.task_id).collect();
    tasks.sort();
    let mut expected = vec![late, later];
    expected.sort();
    assert_eq!(tasks, expected);
    assert!(announced.iter().all(|e| matches!(e.payload, EventPayload::Overdue { .. })));
    assert!(announced[0].correlation_id.starts_with("ai-agent.overdue."));
    let warning = &suggestions(&db, alice).await[0];
    assert_eq!(warning.source_event, None, "found by the cron pass");
    assert_eq!(warning.correlation_id.as_deref(), Some(announced[0].correlation_id.as_str()));

    assert_eq!(sweep(&db, Utc::now()).await, PassReport::default(), "nothing left to do");
    assert_eq!(outbox(&db).await.len(), 2);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_sweep_leaves_tasks_the_event_path_already_warned_about(db: PgPool) {
    let user = user(&db).await;
    // Microseconds in the due time: the sweep's SQL key must spell it exactly as Rust does.
    let due = Utc::now() - TimeDelta::microseconds(3_600_123_457);
    let task = task(&db, user, TaskSeed::due(due)).await;
    deliver_event(&state(&db), &created_for(&db, task).await).await;

    assert_eq!(sweep(&db, Utc::now()).await.examined, 0);
    assert_eq!(suggestions(&db, user).await.len(), 1);
    assert_eq!(outbox(&db).await.len(), 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn sql_and_rust_spell_every_dedupe_key_alike(db: PgPool) {
    let user = user(&db).await;
    let at = Utc::now() - TimeDelta::microseconds(987_654_321);
    let id = task(&db, user, TaskSeed::due(at).updated_at(at)).await;
    let mut conn = db.acquire().await.unwrap();
    let row = ai_agent::db::tasks::find(&mut conn, id).await.unwrap().unwrap();
    let due = row.due_at.unwrap();
    let now = Utc::now();
    let keys = ai_agent::db::tasks::sql_keys(&mut conn, id, &dedupe::iso_week(now)).await.unwrap();
    assert_eq!(
        keys,
        (
            dedupe::overdue(id, due),
            dedupe::priority(id, due, row.priority().unwrap()),
            dedupe::stale(id, row.updated_at),
            dedupe::overload_week_prefix(user, now),
        )
    );
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn only_one_replica_sweeps_at_a_time(db: PgPool) {
    let user = user(&db).await;
    task(&db, user, TaskSeed::due(ago(30))).await;

    let mut other_replica = db.begin().await.unwrap();
    assert!(try_job_lock(&mut other_replica, JobLock::OverdueSweep).await.unwrap());
    assert_eq!(overdue::sweep_once(&db, &settings(), Utc::now(), None).await.unwrap(), PassOutcome::Busy);
    other_replica.rollback().await.unwrap();

    assert_eq!(sweep(&db, Utc::now()).await.suggestions_created, 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn no_user_gets_more_than_the_hourly_limit(db: PgPool) {
    let (busy, other) = (user(&db).await, user(&db).await);
    // Ten proposals this hour already, by events.
    for i in 0..10 {
        let late = task(&db, busy, TaskSeed::due(ago(200 + i))).await;
        deliver_event(&state(&db), &created_for(&db, late).await).await;
    }
    for i in 0..2 {
        task(&db, busy, TaskSeed::due(ago(100 - i))).await;
    }
    task(&db, other, TaskSeed::due(ago(5))).await;
    let now = Utc::now();

    let report = sweep(&db, now).await;
    assert_eq!((report.examined, report.suggestions_created), (1, 1), "only the other user's task");
    assert_eq!(suggestions(&db, busy).await.len(), 10);
    assert_eq!(outbox(&db).await.len(), 11, "only new proposals are announced");
    assert_eq!(sweep(&db, now + TimeDelta::minutes(30)).await.examined, 0, "the busy user is at the limit");

    let an_hour_later = sweep(&db, now + TimeDelta::minutes(61)).await;
    assert_eq!(an_hour_later.suggestions_created, 1, "the two as one group");
    assert_eq!(suggestions(&db, busy).await.len(), 11);
    assert_eq!(outbox(&db).await.len(), 13);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn concurrent_deliveries_cannot_exceed_the_hourly_limit(db: PgPool) {
    let user = user(&db).await;
    let state = state(&db);
    let mut events = Vec::new();
    for i in 0..25 {
        events.push(created_for(&db, task(&db, user, TaskSeed::due(ago(60 + i))).await).await);
    }
    // All in flight at once: without the per-user lock, several would count nine and insert.
    let mut deliveries = JoinSet::new();
    for event in events {
        let state = state.clone();
        deliveries.spawn(async move { deliver_event(&state, &event).await });
    }
    while let Some(status) = deliveries.join_next().await {
        assert_eq!(status.unwrap(), "SUCCESS");
    }
    assert_eq!(suggestions(&db, user).await.len(), 10);
    assert_eq!(processed_count(&db).await, 25);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn users_who_turned_the_assistants_off_get_nothing(db: PgPool) {
    let user = user(&db).await;
    set_agents_enabled(&db, user, false).await;
    let task = task(&db, user, TaskSeed::due(ago(30))).await;

    assert_eq!(deliver_event(&state(&db), &created_for(&db, task).await).await, "SUCCESS");
    assert_eq!(processed_count(&db).await, 1, "the event is still marked processed");
    assert_eq!(sweep(&db, Utc::now()).await.examined, 0, "the sweep does not even look");
    assert!(suggestions(&db, user).await.is_empty());
    assert!(outbox(&db).await.is_empty());

    set_agents_enabled(&db, user, true).await;
    assert_eq!(sweep(&db, Utc::now()).await.suggestions_created, 1);
}
