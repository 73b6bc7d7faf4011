//! End to end through the Dapr stand-in: discovery, delivery with its headers and content type,
//! redelivery, dead letters.

use ai_agent::AppState;
use dapr_emulator::DeliveryOutcome;
use events::{DEAD_LETTER_TOPIC, TOPIC};
use secrecy::SecretString;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{
    RunningAgent, TaskSeed, WAIT, ago, config, created, created_for, dead_letters, processed_count, publish,
    publish_event, sidecar_for, state, suggestions, task, unreachable_pool, user,
};

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_event_published_through_the_sidecar_creates_an_overdue_warning(db: PgPool) {
    let mut config = config();
    config.app_api_token = Some(SecretString::from("app-secret".to_owned()));
    let agent = RunningAgent::start(AppState::new(db.clone(), config)).await;
    let sidecar = sidecar_for(&agent, Some("app-secret")).await;
    assert_eq!(sidecar.subscriptions().len(), 2, "discovered with the app token");

    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(30))).await;
    publish_event(&sidecar, &created_for(&db, task).await).await;

    let records = sidecar.wait_for_deliveries(TOPIC, 1, WAIT).await.unwrap();
    assert_eq!(records[0].outcome, DeliveryOutcome::Success);
    assert_eq!(records[0].attempts, 1);
    assert_eq!(records[0].route.as_deref(), Some("/events/tasks-lifecycle"));
    let rows = suggestions(&db, user).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, "schedule_adjustment");
    agent.stop().await;
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_republished_event_is_delivered_twice_and_counted_once(db: PgPool) {
    let agent = RunningAgent::start(state(&db)).await;
    let sidecar = sidecar_for(&agent, None).await;
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(30))).await;
    let event = created_for(&db, task).await;

    // The relay crashed after the sidecar accepted the event and published it again.
    publish_event(&sidecar, &event).await;
    publish_event(&sidecar, &event).await;

    let records = sidecar.wait_for_deliveries(TOPIC, 2, WAIT).await.unwrap();
    assert!(records.iter().all(|r| r.outcome == DeliveryOutcome::Success));
    assert_eq!(suggestions(&db, user).await.len(), 1);
    assert_eq!(processed_count(&db).await, 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_undecodable_event_is_dropped_to_the_dead_letter_topic_and_recorded(db: PgPool) {
    let agent = RunningAgent::start(state(&db)).await;
    let sidecar = sidecar_for(&agent, None).await;
    let user = user(&db).await;
    let mut data = serde_json::to_value(created(user, user, None)).unwrap();
    data["version"] = json!(2);

    publish(&sidecar, "evt-from-the-future", "tasks.created", user, &data).await;

    let records = sidecar.wait_for_deliveries(TOPIC, 1, WAIT).await.unwrap();
    assert_eq!(records[0].outcome, DeliveryOutcome::Dropped);
    assert_eq!(records[0].attempts, 1, "DROP is not retried");
    assert_eq!(records[0].dead_letter_topic.as_deref(), Some(DEAD_LETTER_TOPIC));
    let dead = sidecar.wait_for_deliveries(DEAD_LETTER_TOPIC, 1, WAIT).await.unwrap();
    assert_eq!(dead[0].outcome, DeliveryOutcome::Success);
    assert_eq!(dead[0].route.as_deref(), Some("/events/dead-letters"));

    let letters = dead_letters(&db).await;
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.event_id.as_deref(), Some("evt-from-the-future"));
    assert_eq!(letter.topic, TOPIC, "the topic it was first published to");
    assert_eq!(letter.event_type.as_deref(), Some("tasks.created"));
    assert_eq!(letter.payload["data"], data, "the whole CloudEvent is kept");
    assert!(letter.reason.contains("unsupported event version 2"), "{}", letter.reason);
    assert_eq!(suggestions(&db, user).await.len(), 0);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_dead_letter_delivered_twice_is_recorded_once(db: PgPool) {
    let state = state(&db);
    let body =
        crate::helpers::cloud_event_with("evt-1", "tasks.created", &json!({ "version": 9 })).to_string();
    for _ in 0..2 {
        let answer = crate::helpers::post_raw(&state, "/events/dead-letters", body.clone()).await;
        assert_eq!(answer.dapr_status(), "SUCCESS");
    }
    let garbage = crate::helpers::post_raw(&state, "/events/dead-letters", "not json at all").await;
    assert_eq!(garbage.dapr_status(), "SUCCESS");

    let letters = dead_letters(&db).await;
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[1].payload, json!("not json at all"));
    assert_eq!(letters[1].reason, "not a CloudEvent");
    assert_eq!(letters[1].topic, DEAD_LETTER_TOPIC);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn while_the_database_is_down_the_sidecar_retries_and_then_dead_letters(db: PgPool) {
    let agent = RunningAgent::start(AppState::new(unreachable_pool(), config())).await;
    let sidecar = sidecar_for(&agent, None).await;
    let user = user(&db).await;
    // Created overdue: processing it needs the database.
    let event = created(user, user, Some(ago(5)));
    publish_event(&sidecar, &event).await;

    let records = sidecar.wait_for_deliveries(TOPIC, 1, WAIT).await.unwrap();
    assert_eq!(records[0].outcome, DeliveryOutcome::RetriesExhausted);
    assert_eq!(records[0].attempts, 2, "the first attempt and one retry, each answered RETRY");
    assert!(records[0].last_error.as_deref().is_some_and(|e| e.contains("RETRY")));
    assert_eq!(records[0].dead_letter_topic.as_deref(), Some(DEAD_LETTER_TOPIC));

    // The event itself is on the dead-letter topic, where the replay tooling finds it once the
    // database is back (the agent cannot record it while it is down).
    let dead = sidecar.wait_for(DEAD_LETTER_TOPIC, 1, WAIT).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].dead_letter_of.as_deref(), Some(TOPIC));
    assert_eq!(dead[0].id(), Some(event.event_id.to_string().as_str()));
    assert_eq!(dead[0].data(), Some(&serde_json::to_value(&event).unwrap()), "the whole event is kept");
}
