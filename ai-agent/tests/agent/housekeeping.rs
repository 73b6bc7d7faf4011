//! Housekeeping: suggestion expiry and the processed-event retention.

use ai_agent::agents::{PassOutcome, housekeeping};
use chrono::{TimeDelta, Utc};
use sqlx::PgPool;

use crate::helpers::{
    TaskSeed, ago, created_for, deliver_event, processed_count, settings, state, suggestions, task, user,
};

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn open_suggestions_expire_after_their_ttl_and_resolved_ones_stay(db: PgPool) {
    let user = user(&db).await;
    let state = state(&db);
    for _ in 0..3 {
        let task = task(&db, user, TaskSeed::due(ago(5))).await;
        deliver_event(&state, &created_for(&db, task).await).await;
    }
    let dismissed = suggestions(&db, user).await[0].suggestion_id;
    sqlx::query("update suggestion set status = 'dismissed' where suggestion_id = $1")
        .bind(dismissed)
        .execute(&db)
        .await
        .unwrap();

    let early = housekeeping::run_once(&db, &settings(), Utc::now() + TimeDelta::days(6)).await.unwrap();
    assert_eq!(early.report().unwrap().suggestions_expired, 0);

    let later = Utc::now() + TimeDelta::days(7) + TimeDelta::minutes(1);
    let report = housekeeping::run_once(&db, &settings(), later).await.unwrap().report().unwrap();
    assert_eq!(report.suggestions_expired, 2);
    let statuses: Vec<_> =
        suggestions(&db, user).await.into_iter().map(|s| (s.status, s.resolved_at.is_some())).collect();
    assert_eq!(
        statuses,
        [("dismissed".to_owned(), false), ("expired".to_owned(), true), ("expired".to_owned(), true)]
    );
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn processed_event_ids_are_forgotten_after_the_retention(db: PgPool) {
    let user = user(&db).await;
    // Overdue, so the agent acts on its creation and records the event.
    let task = task(&db, user, TaskSeed::due(ago(5))).await;
    deliver_event(&state(&db), &created_for(&db, task).await).await;
    sqlx::query(
        "insert into processed_event (consumer, event_id, event_type) values ('someone-else', 'x', 't')",
    )
    .execute(&db)
    .await
    .unwrap();

    let soon = housekeeping::run_once(&db, &settings(), Utc::now() + TimeDelta::days(13)).await.unwrap();
    assert_eq!(soon.report().unwrap().processed_events_purged, 0);
    let late = housekeeping::run_once(&db, &settings(), Utc::now() + TimeDelta::days(15)).await.unwrap();
    assert_eq!(late.report().unwrap().processed_events_purged, 1);
    assert_eq!(processed_count(&db).await, 1, "another consumer's ids are not ours to purge");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn only_one_replica_does_housekeeping_at_a_time(db: PgPool) {
    let mut other = db.begin().await.unwrap();
    let locked = ai_agent::db::locks::try_job_lock(&mut other, ai_agent::db::locks::JobLock::Housekeeping);
    assert!(locked.await.unwrap());
    assert_eq!(housekeeping::run_once(&db, &settings(), Utc::now()).await.unwrap(), PassOutcome::Busy);
}
