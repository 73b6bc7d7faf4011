//! Dead letters replayed after their cause is fixed: processed once, poison left alone.

use ai_agent::{
    registry::Registry,
    replay::{ReplayReport, replay_dead_letters},
};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TaskSeed, ago, cloud_event, cloud_event_with, created, settings, task, user};

async fn dead_letter(db: &PgPool, payload: &Value) {
    sqlx::query("insert into dead_letter (event_id, topic, payload, reason) values ($1, 'tasks-lifecycle', $2, 'test')")
        .bind(payload["id"].as_str())
        .bind(payload)
        .execute(db)
        .await
        .unwrap();
}

async fn reschedule_proposals(db: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from suggestion where kind = 'schedule_adjustment'")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_replay_processes_each_letter_once_and_leaves_poison_for_inspection(db: PgPool) {
    let user = user(&db).await;
    let due = ago(60);
    let task_id = task(&db, user, TaskSeed::due(due)).await;
    let event = cloud_event(&created(task_id, user, Some(due)));
    dead_letter(&db, &event).await;
    dead_letter(&db, &event).await; // the same event dead-lettered twice
    let mut poison_data = serde_json::to_value(created(task_id, user, Some(due))).unwrap();
    poison_data["version"] = json!(99);
    dead_letter(&db, &cloud_event_with("poison-1", "tasks.created", &poison_data)).await;

    let registry = Registry::standard();
    let report = replay_dead_letters(&db, &registry, &settings()).await.unwrap();
    assert_eq!(report, ReplayReport { replayed: 2, still_failing: 1, interrupted: false });
    assert_eq!(reschedule_proposals(&db).await, 1, "the duplicate letter had no second effect");

    let again = replay_dead_letters(&db, &registry, &settings()).await.unwrap();
    assert_eq!(again, ReplayReport { replayed: 0, still_failing: 1, interrupted: false });
    assert_eq!(reschedule_proposals(&db).await, 1);
    let pending: i64 = sqlx::query_scalar("select count(*) from dead_letter where replayed_at is null")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(pending, 1, "only the poison letter waits");
}
