//! Extending the registry: a new reaction is one handler and one registration line, and the
//! subscription plumbing runs it for its event type only, inside the delivery's transaction.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use ai_agent::{
    EventContext, EventHandler, Reaction, Registry,
    error::{AppError, Result},
};
use async_trait::async_trait;
use events::{EventType, TaskEvent};
use sqlx::{PgConnection, PgPool};

use crate::helpers::{
    TaskSeed, ago, completed, created_for, deliver_event, incomplete, processed_count, state,
    suggestion_count, task, user,
};

/// Records what it saw, and writes a row in the delivery's transaction to prove it is in it.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<(EventType, String)>>>,
}

#[async_trait]
impl EventHandler for Recorder {
    fn name(&self) -> &'static str {
        "test.recorder"
    }

    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &TaskEvent,
        ctx: &EventContext<'_>,
    ) -> Result<Reaction> {
        self.seen.lock().unwrap().push((event.event_type(), ctx.event_id.to_owned()));
        sqlx::query("insert into processed_event (consumer, event_id, event_type) values ('test.recorder', $1, 'seen')")
            .bind(ctx.event_id)
            .execute(conn)
            .await?;
        Ok(Reaction::default())
    }
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_registered_handler_runs_for_its_event_type_only(db: PgPool) {
    let recorder = Recorder::default();
    let mut registry = Registry::standard();
    registry.register(&[EventType::Incomplete], recorder.clone());
    let state = state(&db).with_registry(registry);

    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::undated()).await;
    let reopened = incomplete(task, user);
    for event in [created_for(&db, task).await, reopened.clone(), completed(task, user)] {
        assert_eq!(deliver_event(&state, &event).await, "SUCCESS");
    }

    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(seen, [(EventType::Incomplete, reopened.event_id.to_string())]);
    let written: i64 =
        sqlx::query_scalar("select count(*) from processed_event where consumer = 'test.recorder'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(written, 1, "its write committed with the delivery");
}

/// Fails its first call with an error that is not a database outage.
struct FailsOnce {
    failed: AtomicBool,
}

#[async_trait]
impl EventHandler for FailsOnce {
    fn name(&self) -> &'static str {
        "test.fails_once"
    }

    async fn handle(&self, _: &mut PgConnection, _: &TaskEvent, _: &EventContext<'_>) -> Result<Reaction> {
        if self.failed.swap(true, Ordering::SeqCst) {
            Ok(Reaction::default())
        } else {
            Err(AppError::Internal(anyhow::anyhow!("the handler broke")))
        }
    }
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_failing_handler_rolls_back_every_effect_and_the_redelivery_applies_them_once(db: PgPool) {
    let mut registry = Registry::standard();
    // Registered after the overdue handler, so its failure must undo that handler's warning.
    registry.register(&[EventType::Created], FailsOnce { failed: AtomicBool::new(false) });
    let state = state(&db).with_registry(registry);
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(5))).await;
    let event = created_for(&db, task).await;

    assert_eq!(deliver_event(&state, &event).await, "RETRY");
    assert_eq!(suggestion_count(&db).await, 0);
    assert_eq!(processed_count(&db).await, 0);

    assert_eq!(deliver_event(&state, &event).await, "SUCCESS");
    assert_eq!(suggestion_count(&db).await, 1);
    assert_eq!(processed_count(&db).await, 1);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_empty_registry_acknowledges_everything_and_does_nothing(db: PgPool) {
    let state = state(&db).with_registry(Registry::new());
    let user = user(&db).await;
    let task = task(&db, user, TaskSeed::due(ago(5))).await;
    assert_eq!(deliver_event(&state, &created_for(&db, task).await).await, "SUCCESS");
    assert_eq!(suggestion_count(&db).await, 0);
}
