//! Processing one delivery from the sidecar, and the answer it gets (§3.3 of the Dapr contract).
//!
//! - `DROP` for what can never succeed: not JSON, not a CloudEvent, or a task event this build
//!   cannot decode (unknown version or type, missing fields). The sidecar moves it to the
//!   dead-letter topic at once instead of blocking the partition with retries.
//! - `RETRY` when processing failed: the transaction rolled back, nothing happened, and the
//!   same delivery may succeed later (database down or busy). Failures that look permanent are
//!   retried too — the agent cannot tell a bug that the next deploy fixes from an outage — and
//!   the sidecar's finite retry policy then dead-letters them.
//! - `SUCCESS` for everything handled, already handled (a redelivery), or deliberately ignored.
//!
//! Idempotency: the event id (equal to the CloudEvent id our relay sets) goes into `processed_event` in the same transaction as every
//! handler's effects. A redelivery finds it there and changes nothing; a concurrent delivery of
//! the same id waits on the first one's row and then finds it. An event no handler may act on
//! (most new tasks: not overdue, not due soon) touches no table at all.

use std::{sync::Arc, time::Instant};

use events::{
    DEAD_LETTER_TOPIC, TaskEvent,
    dapr::{CloudEvent, DeliveryStatus},
};
use serde_json::Value;
use sqlx::PgPool;
use tracing::Instrument as _;

use crate::{
    config::Settings,
    db::{self, dead_letters::NewDeadLetter, tasks::CurrentTask},
    error::AppError,
    registry::{EventContext, EventHandler, Reaction, Registry},
};

/// This service's name in `processed_event.consumer`.
pub const CONSUMER: &str = "ai-agent";

/// The dead-letter subscription de-duplicates separately: a dead-lettered event was, by
/// definition, never recorded by [`CONSUMER`].
pub const DEAD_LETTER_CONSUMER: &str = "ai-agent.dead-letters";

/// How the handlers' transaction ended.
enum Handled {
    Processed(Reaction),
    Duplicate,
}

/// A handler failure, with the handler's name for the log.
struct Failure {
    handler: Option<&'static str>,
    error: AppError,
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self { handler: None, error: error.into() }
    }
}

/// Processes one `tasks-lifecycle` delivery and decides the answer. `traceparent` is the
/// delivery's header (the sidecar's callback span), continued in the events the handlers
/// publish.
#[expect(
    clippy::too_many_lines,
    reason = "one delivery from parse to answer; each step decides the answer the sidecar gets"
)]
pub async fn receive_task_event(
    pool: &PgPool,
    registry: &Registry,
    settings: &Settings,
    body: &[u8],
    traceparent: Option<&str>,
) -> DeliveryStatus {
    let started = Instant::now();
    let cloud_event: CloudEvent = match serde_json::from_slice(body) {
        Ok(cloud_event) => cloud_event,
        Err(e) => {
            tracing::warn!(
                processingDurationMs = started.elapsed().as_secs_f64() * 1000.0,
                outcome = "error",
                status = "DROP",
                error.message = %e,
                "the delivery is not a CloudEvent; dropping it to the dead-letter topic"
            );
            record_delivery("unknown", "dropped", started);
            return DeliveryStatus::Drop;
        }
    };
    let event = match TaskEvent::from_cloud_event(&cloud_event) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(
                cloudEventId = %cloud_event.id,
                cloudEventType = %cloud_event.event_type,
                processingDurationMs = started.elapsed().as_secs_f64() * 1000.0,
                outcome = "error",
                status = "DROP",
                error.message = %e,
                "the CloudEvent carries no task event this build can read; dropping it to the dead-letter topic"
            );
            record_delivery("unknown", "dropped", started);
            return DeliveryStatus::Drop;
        }
    };

    // De-duplicate on the event's own id. Our relay also makes it the CloudEvent id, but a
    // `rawPayload` subscription (and a publisher that sets no `cloudevent.id`) gets a fresh
    // random CloudEvent id on every delivery, which would defeat de-duplication.
    let event_id = event.event_id.to_string();
    // With the header, the delivery's request span has joined the trace already.
    let request_span_joined = traceparent.and_then(platform::trace::TraceParent::parse).is_some();
    let traceparent = traceparent.or(cloud_event.traceparent.as_deref()).filter(|t| !t.is_empty());
    let now = chrono::Utc::now();
    let task = CurrentTask::default();
    let ctx = EventContext { now, settings, event_id: &event_id, traceparent, task: &task };

    // The handling span continues the publisher's trace, so an exported trace runs request →
    // outbox → sidecar → here: as a child of the delivery's request span when the sidecar sent
    // the header, else (no header, or a dead-letter replay) straight from the CloudEvent's.
    let span = tracing::info_span!(
        "handle_event",
        eventId = %event_id,
        eventType = %event.event_type(),
        trace_id = tracing::field::Empty
    );
    if let Some(trace) = traceparent.and_then(platform::trace::TraceParent::parse) {
        span.record("trace_id", trace.trace_id.as_str());
        if !request_span_joined {
            platform::trace::join(&span, &trace);
        }
    }
    let handled_type = !registry.handlers(event.event_type()).is_empty();
    let acting = registry.acting_on(&event, now);
    let result = if acting.is_empty() {
        Ok(None)
    } else {
        handle(pool, &acting, &event, &ctx).instrument(span).await.map(Some)
    };

    let processing_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (status, outcome, reason, reaction, failure) = match result {
        Ok(None) => {
            let reason =
                if handled_type { "no handler acts on this event" } else { "no handler for this event type" };
            (DeliveryStatus::Success, "skipped", reason, Reaction::default(), None)
        }
        Ok(Some(Handled::Duplicate)) => {
            (DeliveryStatus::Success, "skipped", "already processed", Reaction::default(), None)
        }
        Ok(Some(Handled::Processed(reaction))) => {
            let outcome = if reaction.suggestions_created > 0 { "suggestion_created" } else { "skipped" };
            (DeliveryStatus::Success, outcome, "processed", reaction, None)
        }
        Err(failure) => {
            (DeliveryStatus::Retry, "error", "processing failed", Reaction::default(), Some(failure))
        }
    };
    let metric_outcome = match (&failure, reason) {
        (Some(_), _) => "retry",
        (None, "already processed") => "duplicate",
        (None, _) => outcome,
    };
    record_delivery(event.event_type().as_str(), metric_outcome, started);
    let handler = failure.as_ref().map(|f| f.handler.unwrap_or("consumer"));
    let error = failure.as_ref().map(|f| &f.error);
    // One line per processed event, with the same fields whatever the outcome.
    macro_rules! log_line {
        ($level:ident, $message:literal) => {
            tracing::$level!(
                eventId = %event_id,
                cloudEventId = %cloud_event.id,
                eventType = %event.event_type(),
                taskId = %event.task_id,
                userId = %event.user_id,
                correlationId = %event.correlation_id,
                processingDurationMs = processing_ms,
                outcome,
                status = status.as_str(),
                reason,
                suggestionsCreated = reaction.suggestions_created,
                suggestionsDismissed = reaction.suggestions_dismissed,
                suggestionsSuppressed = reaction.suggestions_suppressed,
                eventsPublished = reaction.events_published,
                handler,
                error.message = error.map(tracing::field::display),
                error.cause_chain = error.map(tracing::field::debug),
                $message
            )
        };
    }
    match error {
        None => log_line!(info, "event processed"),
        Some(e) if e.is_transient() => {
            log_line!(warn, "event processing failed; the sidecar will deliver it again");
        }
        Some(_) => log_line!(error, "event processing failed; the sidecar will deliver it again"),
    }
    status
}

/// `agent_events_processed_total{event_type, outcome}` and the processing-time histogram.
/// Outcomes: `suggestion_created`, `skipped` (handled, nothing to suggest, or no handler),
/// `duplicate` (a redelivery), `retry` (failed, answered RETRY), `dropped` (unreadable).
fn record_delivery(event_type: &str, outcome: &'static str, started: Instant) {
    let event_type = event_type.to_owned();
    metrics::counter!("agent_events_processed_total", "event_type" => event_type.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("agent_event_processing_duration_seconds", "event_type" => event_type)
        .record(started.elapsed().as_secs_f64());
}

/// The transaction: record the id (reading the task with it), run the handlers, commit; or
/// roll back all of it.
async fn handle(
    pool: &PgPool,
    handlers: &[Arc<dyn EventHandler>],
    event: &TaskEvent,
    ctx: &EventContext<'_>,
) -> Result<Handled, Failure> {
    let mut tx = pool.begin().await?;
    let event_type = event.event_type();
    let recorded = db::processed::record_reading_task(
        &mut tx,
        CONSUMER,
        ctx.event_id,
        event_type.as_str(),
        event.task_id,
    )
    .await?;
    let Some(task) = recorded else {
        return Ok(Handled::Duplicate);
    };
    ctx.task.fill(task);
    let mut reaction = Reaction::default();
    for handler in handlers {
        reaction += handler
            .handle(&mut tx, event, ctx)
            .await
            .map_err(|error| Failure { handler: Some(handler.name()), error })?;
    }
    tx.commit().await?;
    Ok(Handled::Processed(reaction))
}

/// Records a message from the dead-letter topic in `dead_letter`, once per CloudEvent id.
/// Whatever it is, it is acknowledged once stored; only a database failure gets `RETRY`.
pub async fn receive_dead_letter(pool: &PgPool, body: &[u8]) -> DeliveryStatus {
    // Keep whatever arrived: the body as JSON if it is JSON, else as a JSON string.
    let payload: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    let cloud_event = serde_json::from_value::<CloudEvent>(payload.clone()).ok();
    let event_id = cloud_event.as_ref().map(|ce| ce.id.as_str()).filter(|id| !id.is_empty());
    let event_type = cloud_event.as_ref().map(|ce| {
        ce.data
            .as_ref()
            .and_then(|data| data.get("eventType"))
            .and_then(Value::as_str)
            .unwrap_or(&ce.event_type)
    });
    // A dead-lettered CloudEvent still names the topic it was first published to (§3.2).
    let topic = cloud_event.as_ref().and_then(|ce| ce.topic.as_deref()).unwrap_or(DEAD_LETTER_TOPIC);
    let reason = match &cloud_event {
        None => "not a CloudEvent".to_owned(),
        Some(ce) => match TaskEvent::from_cloud_event(ce) {
            Err(e) => e.to_string(),
            Ok(_) => "processing kept failing until the sidecar's retries ran out; see the agent's logs for \
                      this event id"
                .to_owned(),
        },
    };
    let letter = NewDeadLetter { event_id, topic, event_type, payload: &payload, reason: &reason };

    match record_dead_letter(pool, &letter).await {
        Ok(recorded) => {
            if recorded {
                metrics::counter!("agent_dead_letters_total").increment(1);
            }
            tracing::warn!(
                cloudEventId = event_id.unwrap_or_default(),
                eventType = event_type.unwrap_or_default(),
                topic,
                reason,
                duplicate = !recorded,
                status = "SUCCESS",
                "dead letter recorded"
            );
            DeliveryStatus::Success
        }
        Err(error) => {
            tracing::error!(
                cloudEventId = event_id.unwrap_or_default(),
                error.message = %error,
                error.cause_chain = ?error,
                status = "RETRY",
                "could not record a dead letter; the sidecar will deliver it again"
            );
            DeliveryStatus::Retry
        }
    }
}

/// `false` when this dead letter was recorded before.
async fn record_dead_letter(pool: &PgPool, letter: &NewDeadLetter<'_>) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    if let Some(event_id) = letter.event_id {
        let event_type = letter.event_type.unwrap_or("unknown");
        if !db::processed::record(&mut tx, DEAD_LETTER_CONSUMER, event_id, event_type).await? {
            return Ok(false);
        }
    }
    db::dead_letters::insert(&mut tx, letter).await?;
    tx.commit().await?;
    Ok(true)
}
