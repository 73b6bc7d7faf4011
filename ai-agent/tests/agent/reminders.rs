//! The reminder assistant: each due reminder fires exactly once.

use ai_agent::agents::{PassReport, Settings, reminders};
use chrono::{DateTime, Utc};
use events::EventPayload;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{
    TaskSeed, ago, from_now, outbox, reminder, set_agents_enabled, settings, suggestions, task, user,
};

async fn fire(db: &PgPool, settings: &Settings, now: DateTime<Utc>) -> PassReport {
    reminders::fire_due_once(db, settings, now).await.unwrap().report().expect("never busy")
}

async fn fired_at(db: &PgPool, reminder_id: Uuid) -> Option<DateTime<Utc>> {
    sqlx::query_scalar("select fired_at from reminder where reminder_id = $1")
        .bind(reminder_id)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_due_reminder_fires_once_with_a_suggestion_and_an_event(db: PgPool) {
    let user = user(&db).await;
    let due = from_now(30);
    let task = task(&db, user, TaskSeed::due(due).titled("Call the bank")).await;
    let now_due = reminder(&db, task, user, ago(1)).await;
    let later = reminder(&db, task, user, from_now(20)).await;

    let report = fire(&db, &settings(), Utc::now()).await;
    assert_eq!(
        report,
        PassReport { examined: 1, suggestions_created: 1, events_published: 1, ..PassReport::default() }
    );
    assert!(fired_at(&db, now_due).await.is_some());
    assert!(fired_at(&db, later).await.is_none(), "not yet");

    let rows = suggestions(&db, user).await;
    assert_eq!((rows[0].kind.as_str(), rows[0].title.as_str()), ("reminder", "Reminder: Call the bank"));
    assert_eq!(rows[0].dedupe_key, format!("reminder:{now_due}"));
    let events = outbox(&db).await;
    match &events[0].payload {
        EventPayload::Reminder { title, due_date, reminder_id, .. } => {
            assert_eq!(title, "Call the bank");
            assert_eq!(*reminder_id, now_due);
            assert_eq!(*due_date, Some(events::truncate_to_millis(due)));
        }
        other => panic!("expected tasks.reminder, got {other:?}"),
    }

    assert_eq!(fire(&db, &settings(), Utc::now()).await, PassReport::default(), "fired once");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn reminders_of_completed_tasks_are_used_up_without_effect(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(from_now(30)).completed()).await;
    let id = reminder(&db, task, user, ago(1)).await;

    let report = fire(&db, &settings(), Utc::now()).await;
    assert_eq!((report.examined, report.suggestions_created, report.events_published), (1, 0, 0));
    assert!(fired_at(&db, id).await.is_some(), "so it never comes back");
    assert!(suggestions(&db, user).await.is_empty());
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn users_without_assistants_still_get_their_reminder_event_but_no_suggestion(db: PgPool) {
    let user = user(&db).await;
    set_agents_enabled(&db, user, false).await;
    let task = task(&db, user, TaskSeed::due(from_now(30))).await;
    reminder(&db, task, user, ago(1)).await;

    let report = fire(&db, &settings(), Utc::now()).await;
    assert_eq!(
        (report.suggestions_created, report.suggestions_suppressed, report.events_published),
        (0, 1, 1)
    );
    assert!(suggestions(&db, user).await.is_empty());
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn two_concurrent_passes_fire_every_reminder_exactly_once(db: PgPool) {
    let mut ids = Vec::new();
    for _ in 0..4 {
        let user = user(&db).await;
        for i in 0..10 {
            let task = task(&db, user, TaskSeed::due(from_now(60))).await;
            ids.push(reminder(&db, task, user, ago(i + 1)).await);
        }
    }
    // Small batches, so the passes must interleave and share the due rows.
    let settings = Settings { batch_size: 7, ..settings() };
    let now = Utc::now();
    let mut fired = 0;
    loop {
        let (a, b) = tokio::join!(fire(&db, &settings, now), fire(&db, &settings, now));
        if a.examined + b.examined == 0 {
            break;
        }
        fired += a.examined + b.examined;
    }
    assert_eq!(fired, ids.len());
    let events = outbox(&db).await;
    let mut announced: Vec<Uuid> = events
        .iter()
        .map(|e| match e.payload {
            EventPayload::Reminder { reminder_id, .. } => reminder_id,
            _ => panic!("only reminders"),
        })
        .collect();
    announced.sort();
    ids.sort();
    assert_eq!(announced, ids, "each reminder announced once");
    let suggestions: i64 = sqlx::query_scalar("select count(*) from suggestion where kind = 'reminder'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(suggestions, 40);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn one_users_reminders_beyond_the_hourly_limit_fire_without_effect(db: PgPool) {
    let (flooder, neighbour) = (user(&db).await, user(&db).await);
    let settings = Settings { reminders_per_hour: 3, batch_size: 2, ..settings() };
    for _ in 0..5 {
        let task = task(&db, flooder, TaskSeed::due(from_now(60))).await;
        reminder(&db, task, flooder, ago(2)).await;
    }
    let task = task(&db, neighbour, TaskSeed::due(from_now(60))).await;
    reminder(&db, task, neighbour, ago(1)).await;

    // Small batches: the limit holds across passes, counted from the reminders already fired.
    let now = Utc::now();
    let mut examined = 0;
    loop {
        let report = fire(&db, &settings, now).await;
        if report.examined == 0 {
            break;
        }
        examined += report.examined;
    }
    assert_eq!(examined, 6, "every reminder was used up");
    let events = outbox(&db).await;
    let of = |user: Uuid| events.iter().filter(|e| e.user_id == user).count();
    assert_eq!((of(flooder), of(neighbour)), (3, 1), "the flooder's beyond 3 had no event");
    let pending: i64 = sqlx::query_scalar("select count(*) from reminder where fired_at is null")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(pending, 0);
}
