//! Deliveries as the sidecar makes them: SUCCESS, RETRY and DROP, and idempotency on the
//! CloudEvent id.

use ai_agent::AppState;
use events::{EventPayload, EventType, Priority, TaskChanges, TaskEvent};
use serde_json::json;
use sqlx::PgPool;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::helpers::{
    TRACEPARENT, TaskSeed, ago, cloud_event, cloud_event_with, completed, config, created, created_for,
    deliver, deliver_event, outbox, post_raw, processed_count, state, suggestion_count, suggestions, task,
    unreachable_pool, updated, user,
};

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_created_event_for_an_overdue_task_proposes_a_new_due_time_and_announces_it(db: PgPool) {
    let user = user(&db).await;
    let due = ago(90);
    let task = task(&db, user, TaskSeed::due(due).titled("Pay rent")).await;
    let event = created(task, user, Some(due));

    assert_eq!(deliver_event(&state(&db), &event).await, "SUCCESS");

    let rows = suggestions(&db, user).await;
    assert_eq!(rows.len(), 1);
    let warning = &rows[0];
    assert_eq!((warning.kind.as_str(), warning.status.as_str()), ("schedule_adjustment", "open"));
    assert_eq!((warning.user_id, warning.task_id), (user, Some(task)));
    assert_eq!(warning.title, "Reschedule “Pay rent”");
    assert!(warning.message.starts_with("Move “Pay rent” to "), "{}", warning.message);
    let proposed: chrono::DateTime<chrono::Utc> =
        warning.proposed_change.as_ref().unwrap()["dueAt"].as_str().unwrap().parse().unwrap();
    assert!(proposed > chrono::Utc::now(), "never a time in the past");
    assert!(warning.dedupe_key.starts_with(&format!("overdue:{task}:")));
    assert_eq!(warning.source_event.as_deref(), Some(event.event_id.to_string().as_str()));
    assert_eq!(warning.correlation_id.as_deref(), Some("corr-created"));
    let ttl = warning.expires_at - warning.created_at;
    assert_eq!(ttl.num_days(), 7);

    let announced = outbox(&db).await;
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].task_id, task);
    assert_eq!(announced[0].user_id, user);
    assert_eq!(announced[0].correlation_id, "corr-created");
    match &announced[0].payload {
        EventPayload::Overdue { title, due_date } => {
            assert_eq!(title, "Pay rent");
            assert_eq!(*due_date, events::truncate_to_millis(due));
        }
        other => panic!("expected tasks.overdue, got {other:?}"),
    }
    let traceparent: Option<String> =
        sqlx::query_scalar("select traceparent from outbox").fetch_one(&db).await.unwrap();
    assert_eq!(traceparent.as_deref(), Some(TRACEPARENT), "the event continues the delivery's trace");
    assert_eq!(processed_count(&db).await, 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_same_cloud_event_delivered_twice_has_one_effect(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(5))).await;
    let event = created_for(&db, task).await;
    let state = state(&db);

    assert_eq!(deliver_event(&state, &event).await, "SUCCESS");
    assert_eq!(deliver_event(&state, &event).await, "SUCCESS");

    assert_eq!(suggestions(&db, user).await.len(), 1);
    assert_eq!(outbox(&db).await.len(), 1);
    assert_eq!(processed_count(&db).await, 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn concurrent_deliveries_create_one_warning(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(5))).await;
    let state = state(&db);
    let same = created_for(&db, task).await;
    let mut deliveries = JoinSet::new();
    for i in 0..8 {
        // Half redeliver one CloudEvent, half are different events about the same task: the
        // first are stopped by the processed-event id, the second by the dedupe key.
        let event = if i % 2 == 0 { same.clone() } else { created_for(&db, task).await };
        let state = state.clone();
        deliveries.spawn(async move { deliver_event(&state, &event).await });
    }
    while let Some(status) = deliveries.join_next().await {
        assert_eq!(status.unwrap(), "SUCCESS");
    }
    assert_eq!(suggestions(&db, user).await.len(), 1);
    assert_eq!(outbox(&db).await.len(), 1);
    assert_eq!(processed_count(&db).await, 5, "one id for the redeliveries, four for the others");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn what_can_never_be_processed_is_dropped(db: PgPool) {
    let state = state(&db);
    let valid = serde_json::to_value(created(Uuid::now_v7(), Uuid::now_v7(), None)).unwrap();
    let mut version_2 = valid.clone();
    version_2["version"] = json!(2);
    let mut unknown_type = valid.clone();
    unknown_type["eventType"] = json!("tasks.archived");
    let mut missing_field = valid.clone();
    missing_field.as_object_mut().unwrap().remove("taskId");

    let bodies = [
        ("not JSON", "{not json".to_owned()),
        ("JSON but not a CloudEvent", json!({ "hello": "world" }).to_string()),
        (
            "a CloudEvent without data",
            json!({"id": "1", "specversion": "1.0", "source": "x", "type": "t"}).to_string(),
        ),
        // A JSON string holding the event is accepted (a `text/plain` publisher); other text is not.
        (
            "data as a string that is not JSON",
            cloud_event_with("2", "tasks.created", &json!("not json")).to_string(),
        ),
        ("version 2", cloud_event_with("3", "tasks.created", &version_2).to_string()),
        ("unknown event type", cloud_event_with("4", "tasks.archived", &unknown_type).to_string()),
        ("missing field", cloud_event_with("5", "tasks.created", &missing_field).to_string()),
    ];
    for (what, body) in bodies {
        let answer = post_raw(&state, "/events/tasks-lifecycle", body).await;
        assert_eq!(answer.dapr_status(), "DROP", "{what}");
    }
    assert_eq!(processed_count(&db).await, 0, "dropped events are not recorded as processed");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_agents_own_announcements_come_back_and_are_acknowledged_without_effect(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(5))).await;
    let overdue = TaskEvent::new(
        task,
        user,
        "corr",
        EventPayload::Overdue { title: "t".into(), due_date: events::truncate_to_millis(ago(5)) },
    );
    let reminder = TaskEvent::new(
        task,
        user,
        "corr",
        EventPayload::Reminder {
            title: "t".into(),
            due_date: None,
            remind_at: events::truncate_to_millis(ago(1)),
            reminder_id: Uuid::now_v7(),
        },
    );
    let state = state(&db);
    for event in [overdue, reminder] {
        assert_eq!(deliver_event(&state, &event).await, "SUCCESS", "{}", event.event_type());
    }
    assert_eq!(suggestion_count(&db).await, 0);
    assert!(outbox(&db).await.is_empty(), "no loop");
    assert_eq!(processed_count(&db).await, 0, "ignored types do not even open a transaction");
    assert!(ai_agent::Registry::standard().handlers(EventType::Overdue).is_empty());
}

/// A `tasks.created` event with this due time and priority, about a task that need not exist.
fn new_task(due: Option<chrono::DateTime<chrono::Utc>>, priority: Priority) -> TaskEvent {
    let mut event = created(Uuid::now_v7(), Uuid::now_v7(), due);
    if let EventPayload::Created { priority: p, .. } = &mut event.payload {
        *p = priority;
    }
    event
}

#[tokio::test]
async fn a_new_task_no_assistant_can_act_on_is_acknowledged_without_the_database() {
    // Every delivery that reaches the database gets RETRY here: SUCCESS proves none did.
    let down = AppState::new(unreachable_pool(), config());
    let day = chrono::TimeDelta::days(1);
    let now = chrono::Utc::now();
    let untouched = [
        ("no due time", new_task(None, Priority::Urgent)),
        ("medium, due in three days", new_task(Some(now + day * 3), Priority::Medium)),
        ("high, due in eight days", new_task(Some(now + day * 8), Priority::High)),
    ];
    for (what, event) in untouched {
        assert_eq!(deliver_event(&down, &event).await, "SUCCESS", "{what}");
    }
    let looked_at = [
        ("created overdue", new_task(Some(ago(5)), Priority::Low)),
        ("medium, due tomorrow: priority advice", new_task(Some(now + day), Priority::Medium)),
        ("high, due in six days: the overload check", new_task(Some(now + day * 6), Priority::High)),
        (
            "an update: may answer a \"still relevant?\"",
            updated(Uuid::now_v7(), Uuid::now_v7(), TaskChanges::default()),
        ),
        ("a completion: dismisses", completed(Uuid::now_v7(), Uuid::now_v7())),
    ];
    for (what, event) in looked_at {
        assert_eq!(deliver_event(&down, &event).await, "RETRY", "{what}");
    }
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_unreachable_database_gets_retry(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(5))).await;
    let event = created_for(&db, task).await;
    let down = AppState::new(unreachable_pool(), config());

    assert_eq!(deliver(&down, &cloud_event(&event)).await, "RETRY");
    assert_eq!(
        post_raw(&down, "/events/dead-letters", cloud_event(&event).to_string()).await.dapr_status(),
        "RETRY"
    );

    // Once the database is back, the redelivery does the work.
    assert_eq!(deliver_event(&state(&db), &event).await, "SUCCESS");
    assert_eq!(suggestions(&db, user).await.len(), 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_database_failure_mid_transaction_rolls_everything_back(db: PgPool) {
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(5))).await;
    let event = created_for(&db, task).await;
    // Sabotage: the outbox write fails after the suggestion was inserted in the transaction.
    sqlx::query("alter table outbox add constraint sabotage check (false) not valid")
        .execute(&db)
        .await
        .unwrap();

    assert_eq!(deliver_event(&state(&db), &event).await, "RETRY");
    assert_eq!(suggestion_count(&db).await, 0);
    assert_eq!(processed_count(&db).await, 0, "so the redelivery is processed");

    sqlx::query("alter table outbox drop constraint sabotage").execute(&db).await.unwrap();
    assert_eq!(deliver_event(&state(&db), &event).await, "SUCCESS");
    assert_eq!(suggestion_count(&db).await, 1);
}
