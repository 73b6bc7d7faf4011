//! The sweep's set-based path: a whole batch through the per-user gate in one statement must
//! decide exactly as the one-by-one path would, and announce each new warning exactly once.

use ai_agent::{
    agents::{PassOutcome, PassReport, Resume, Settings, overdue},
    cron::{CronJob, tick},
    db::suggestions::insert_many,
    db::tasks::ScanPoint,
    suggestion::{Inserted, Kind, NewSuggestion},
};
use chrono::{SubsecRound, TimeDelta, Utc};
use sqlx::PgPool;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::helpers::{
    self, TaskSeed, ago, created_for, deliver_event, items, outbox, proposed_tasks, set_agents_enabled,
    settings, state, suggestion_count, suggestions, task, user,
};

fn overload(user_id: Uuid, key: &str) -> NewSuggestion {
    helpers::advice(user_id, None, Kind::Overload, key)
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_users_many_overdue_tasks_become_one_grouped_proposal_in_one_hourly_slot(db: PgPool) {
    let user = user(&db).await;
    // Nine suggestions this hour already: one slot left for twelve overdue tasks.
    for i in 0..9 {
        let earlier = task(&db, user, TaskSeed::due(ago(500 + i))).await;
        deliver_event(&state(&db), &created_for(&db, earlier).await).await;
    }
    let mut tasks = Vec::new();
    for i in 0..12 {
        tasks.push(task(&db, user, TaskSeed::due(ago(100 - i))).await);
    }

    let report = overdue::sweep_once(&db, &settings(), Utc::now(), None).await.unwrap().report().unwrap();
    assert_eq!(
        report,
        PassReport { examined: 12, suggestions_created: 1, events_published: 12, ..PassReport::default() }
    );
    let group = suggestions(&db, user).await.pop().unwrap();
    assert_eq!((group.task_id, group.proposed_change.as_ref()), (None, None));
    let grouped: Vec<_> = items(&db, group.suggestion_id).await.iter().map(|i| i.task_id).collect();
    let (mut grouped, mut expected) = (grouped, tasks.clone());
    grouped.sort();
    expected.sort();
    assert_eq!(grouped, expected, "every overdue task, once");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_batch_gate_decides_as_one_by_one_inserts_would(db: PgPool) {
    let (busy, off, fresh) = (user(&db).await, user(&db).await, user(&db).await);
    set_agents_enabled(&db, off, false).await;
    let now = Utc::now();
    let expires = now + TimeDelta::days(7);
    let mut conn = db.acquire().await.unwrap();
    // `busy` has one slot left of three and advice "a" already.
    let first = [overload(busy, "a"), overload(busy, "x")];
    let outcomes = insert_many(&mut conn, &first, now, expires, 3).await.unwrap();
    assert!(outcomes.iter().all(|o| matches!(o, Inserted::Created(_))), "{outcomes:?}");

    let batch = [
        overload(fresh, "a"),
        overload(busy, "a"),  // exists: a duplicate, takes no slot
        overload(busy, "b"),  // the last slot
        overload(off, "a"),   // assistants off
        overload(busy, "b"),  // at the limit now: rate limited, though also a duplicate
        overload(busy, "c"),  // rate limited
        overload(fresh, "a"), // earlier in this batch: a duplicate
        overload(fresh, "b"),
    ];
    let outcomes = insert_many(&mut conn, &batch, now, expires, 3).await.unwrap();
    let kinds: Vec<_> = outcomes
        .iter()
        .map(|o| match o {
            Inserted::Created(_) => "created",
            Inserted::Duplicate => "duplicate",
            Inserted::Disabled => "disabled",
            Inserted::RateLimited => "rate_limited",
            Inserted::BackedOff => "backed_off",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "duplicate",
            "created",
            "disabled",
            "rate_limited",
            "rate_limited",
            "duplicate",
            "created"
        ]
    );
    let Inserted::Created(id) = outcomes[2] else { unreachable!() };
    let row = suggestions(&db, busy).await.into_iter().find(|s| s.suggestion_id == id).unwrap();
    assert_eq!(
        (row.dedupe_key.as_str(), row.title.as_str(), row.kind.as_str()),
        ("b", "title b", "overload")
    );
    assert_eq!(row.expires_at.timestamp_micros(), expires.timestamp_micros());
    assert_eq!(suggestions(&db, busy).await.len(), 3);
    assert!(suggestions(&db, off).await.is_empty());
    assert_eq!(suggestions(&db, fresh).await.len(), 2);
    assert!(insert_many(&mut conn, &[], now, expires, 3).await.unwrap().is_empty());
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_sweep_writes_what_the_event_path_writes(db: PgPool) {
    // Two users with the same calendar and the same task, so neither one's proposal is load
    // for the other's (a user's open proposal is: `reschedule.rs`).
    let (one, other) = (user(&db).await, user(&db).await);
    let due = Utc::now() - TimeDelta::microseconds(7_200_654_321);
    let by_event = task(&db, one, TaskSeed::due(due).titled("Same")).await;
    let by_sweep = task(&db, other, TaskSeed::due(due).titled("Same")).await;
    // The event path first, for one task; the sweep then finds only the other.
    deliver_event(&state(&db), &created_for(&db, by_event).await).await;
    let report = overdue::sweep_once(&db, &settings(), Utc::now(), None).await.unwrap().report().unwrap();
    assert_eq!(report.suggestions_created, 1);

    let rows = [suggestions(&db, one).await, suggestions(&db, other).await].concat();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].title, rows[1].title);
    assert_eq!(rows[0].message, rows[1].message);
    assert_eq!(rows[0].proposed_change, rows[1].proposed_change);
    assert_eq!(rows[0].dedupe_key.replace(&by_event.to_string(), &by_sweep.to_string()), rows[1].dedupe_key);
    let events = outbox(&db).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].payload, events[1].payload);
    assert_eq!(events[1].task_id, by_sweep);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn one_event_per_newly_proposed_task_and_none_for_the_rest(db: PgPool) {
    let (alice, bob, off) = (user(&db).await, user(&db).await, user(&db).await);
    set_agents_enabled(&db, off, false).await;
    for i in 0..15 {
        task(&db, alice, TaskSeed::due(ago(60 + i))).await;
    }
    for i in 0..4 {
        task(&db, bob, TaskSeed::due(ago(60 + i))).await;
        task(&db, off, TaskSeed::due(ago(60 + i))).await;
    }

    let report = overdue::sweep_once(&db, &settings(), Utc::now(), None).await.unwrap().report().unwrap();
    assert_eq!((report.suggestions_created, report.events_published), (2, 19), "a group each, 15 + 4 items");
    let mut announced: Vec<_> = outbox(&db).await.iter().map(|e| (e.user_id, e.task_id)).collect();
    let mut warned = Vec::new();
    for user in [alice, bob, off] {
        warned.extend(proposed_tasks(&db, user).await.into_iter().map(|task| (user, task)));
    }
    announced.sort();
    warned.sort();
    assert_eq!(announced, warned, "exactly the new warnings are announced, once each");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn concurrent_sweeps_and_batches_create_no_duplicates(db: PgPool) {
    let mut users = Vec::new();
    for _ in 0..6 {
        let user = user(&db).await;
        for i in 0..5 {
            task(&db, user, TaskSeed::due(ago(60 + i))).await;
        }
        users.push(user);
    }
    let mut sweeps = JoinSet::new();
    for _ in 0..4 {
        let db = db.clone();
        sweeps.spawn(async move { overdue::sweep_once(&db, &settings(), Utc::now(), None).await.unwrap() });
    }
    let mut created = 0;
    while let Some(outcome) = sweeps.join_next().await {
        if let PassOutcome::Ran(report) = outcome.unwrap() {
            created += report.suggestions_created;
        }
    }
    assert_eq!(created, 6, "a group per user");
    assert_eq!(suggestion_count(&db).await, 6);
    let items: i64 = sqlx::query_scalar("select count(*) from suggestion_item").fetch_one(&db).await.unwrap();
    assert_eq!(items, 30);
    assert_eq!(outbox(&db).await.len(), 30);

    // Past the job lock: overlapping batches, users in opposite orders, all at once. The locks
    // in user order keep them from deadlocking, and each advice is created once.
    let mut batches = JoinSet::new();
    for round in 0..4 {
        let db = db.clone();
        let mut order = users.clone();
        if round % 2 == 1 {
            order.reverse();
        }
        batches.spawn(async move {
            let batch: Vec<_> = order.iter().flat_map(|u| [overload(*u, "p"), overload(*u, "q")]).collect();
            let mut tx = db.begin().await.unwrap();
            let now = Utc::now();
            let outcomes = insert_many(&mut tx, &batch, now, now + TimeDelta::days(1), 100).await.unwrap();
            tx.commit().await.unwrap();
            outcomes.iter().filter(|o| matches!(o, Inserted::Created(_))).count()
        });
    }
    let mut created = 0;
    while let Some(count) = batches.join_next().await {
        created += count.unwrap();
    }
    assert_eq!(created, 12);
    assert_eq!(suggestion_count(&db).await, 18);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn one_tick_drains_a_backlog_of_many_batches(db: PgPool) {
    // Twelve users, two overdue tasks each, in batches of two: twelve full passes and a last
    // one, all in the same tick.
    for _ in 0..12 {
        let user = user(&db).await;
        task(&db, user, TaskSeed::due(ago(60))).await;
        task(&db, user, TaskSeed::due(ago(61))).await;
    }
    let small_batches = Settings { batch_size: 2, ..settings() };
    tick(CronJob::Overdue, &db, &small_batches).await;
    assert_eq!(suggestion_count(&db).await, 24);
    assert_eq!(outbox(&db).await.len(), 24);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_full_pass_tells_the_next_where_to_resume(db: PgPool) {
    let user = user(&db).await;
    // Five tasks due at the same instant: the scan orders ties by id.
    // Whole microseconds, as the database keeps them, so the scan points below match the rows.
    let due = ago(60).trunc_subsecs(6);
    let mut tasks = Vec::new();
    for _ in 0..5 {
        tasks.push(task(&db, user, TaskSeed::due(due)).await);
    }
    tasks.sort();
    let point = |task_id| Some(ScanPoint { due_at: due, task_id });
    let resume = |task_id| point(task_id).map(Resume::Due);
    let small_batches = Settings { batch_size: 2, ..settings() };
    let pass = |after| {
        let (db, settings) = (db.clone(), small_batches.clone());
        async move { overdue::sweep_once(&db, &settings, Utc::now(), after).await.unwrap().report().unwrap() }
    };
    let warned = || proposed_tasks(&db, user);

    // Started after the second task, a pass skips the two before it, though they have no warning.
    let report = pass(point(tasks[1])).await;
    assert_eq!((report.examined, report.suggestions_created), (2, 1), "one group of two");
    assert_eq!(report.resume_after, resume(tasks[3]), "a full batch names its last task");
    assert_eq!(warned().await, tasks[2..4]);

    let Some(Resume::Due(after)) = report.resume_after else { unreachable!() };
    let report = pass(Some(after)).await;
    assert_eq!((report.examined, report.resume_after), (1, None), "a short batch ends the tick");
    // From the start, the skipped ones are found again.
    let report = pass(None).await;
    assert_eq!((report.examined, report.suggestions_created), (2, 1));
    assert_eq!(warned().await.len(), 5);
}
