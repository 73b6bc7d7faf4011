//! The event-handler registry: which reactions run for which event type.
//!
//! The subscription plumbing (`consumer`, and this module) knows nothing about agents: it
//! decodes the event, records its id, and runs whatever handlers are registered for its type,
//! all in one transaction. A new reaction is one [`EventHandler`] impl plus one
//! [`Registry::register`] line in `Registry::standard` (in `agents`); an event type without
//! handlers is acknowledged without touching the database.

use std::{collections::HashMap, fmt, ops::AddAssign, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use events::{EventType, TaskEvent};
use sqlx::PgConnection;

use crate::{config::Settings, db::tasks::CurrentTask, error::Result};

/// What a handler knows besides the event itself.
#[derive(Debug, Clone, Copy)]
pub struct EventContext<'a> {
    /// When processing started; the one clock every handler of this delivery uses.
    pub now: DateTime<Utc>,
    pub settings: &'a Settings,
    /// The event id (our relay makes it the CloudEvent id too), recorded as `suggestion.source_event`.
    pub event_id: &'a str,
    /// Trace context to continue in events the handlers publish (the sidecar's callback span,
    /// else the CloudEvent's own).
    pub traceparent: Option<&'a str>,
    /// The event's task, read once for all the handlers that need it.
    pub task: &'a CurrentTask,
}

/// What a handler did, summed over the handlers of one event for its log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reaction {
    pub suggestions_created: u32,
    pub suggestions_dismissed: u32,
    /// Suggestions not created because the user turned the assistants off or hit the hourly
    /// limit.
    pub suggestions_suppressed: u32,
    pub events_published: u32,
}

impl AddAssign for Reaction {
    fn add_assign(&mut self, other: Self) {
        self.suggestions_created += other.suggestions_created;
        self.suggestions_dismissed += other.suggestions_dismissed;
        self.suggestions_suppressed += other.suggestions_suppressed;
        self.events_published += other.events_published;
    }
}

/// One reaction to events of the types it is registered for.
///
/// `conn` is the delivery's transaction: the handler's writes commit together with the record
/// that the event was processed, or not at all. Return an error to roll everything back and
/// have the sidecar deliver the event again (transient errors) — so a handler must not cause
/// effects outside the database, except through the outbox.
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// For logs: which handler failed.
    fn name(&self) -> &'static str;

    /// Whether this handler may do anything about `event` at `now`, judged on the event alone,
    /// before any database work. Say `false` only where the event rules out every effect (a
    /// new task without a due time is nothing to the overdue assistant); the handler's checks
    /// on the task's current row decide the rest, and a later change of the task brings an
    /// event of its own. An event no handler may act on is acknowledged without a
    /// transaction: nothing happens, so there is nothing to record or de-duplicate.
    fn may_act(&self, _event: &TaskEvent, _now: DateTime<Utc>) -> bool {
        true
    }

    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &TaskEvent,
        ctx: &EventContext<'_>,
    ) -> Result<Reaction>;
}

/// Handlers by event type, run in registration order.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<EventType, Vec<Arc<dyn EventHandler>>>,
}

impl Registry {
    /// An empty registry: every event is acknowledged and nothing happens.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `handler` for every event of `event_types`.
    pub fn register(&mut self, event_types: &[EventType], handler: impl EventHandler + 'static) -> &mut Self {
        let handler: Arc<dyn EventHandler> = Arc::new(handler);
        for &event_type in event_types {
            self.handlers.entry(event_type).or_default().push(Arc::clone(&handler));
        }
        self
    }

    /// The handlers for `event_type`, in registration order; empty if it is ignored.
    pub fn handlers(&self, event_type: EventType) -> &[Arc<dyn EventHandler>] {
        self.handlers.get(&event_type).map_or(&[], Vec::as_slice)
    }

    /// The handlers of `event`'s type that [may act](EventHandler::may_act) on it at `now`.
    pub fn acting_on(&self, event: &TaskEvent, now: DateTime<Utc>) -> Vec<Arc<dyn EventHandler>> {
        self.handlers(event.event_type()).iter().filter(|h| h.may_act(event, now)).cloned().collect()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for event_type in EventType::ALL {
            let names: Vec<_> = self.handlers(*event_type).iter().map(|h| h.name()).collect();
            if !names.is_empty() {
                map.entry(&event_type.as_str(), &names);
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named(&'static str);

    #[async_trait]
    impl EventHandler for Named {
        fn name(&self) -> &'static str {
            self.0
        }

        async fn handle(
            &self,
            _: &mut PgConnection,
            _: &TaskEvent,
            _: &EventContext<'_>,
        ) -> Result<Reaction> {
            Ok(Reaction::default())
        }
    }

    fn names(registry: &Registry, event_type: EventType) -> Vec<&'static str> {
        registry.handlers(event_type).iter().map(|h| h.name()).collect()
    }

    #[test]
    fn handlers_run_for_their_types_in_registration_order() {
        let mut registry = Registry::new();
        registry
            .register(&[EventType::Created, EventType::Updated], Named("a"))
            .register(&[EventType::Created], Named("b"));
        assert_eq!(names(&registry, EventType::Created), ["a", "b"]);
        assert_eq!(names(&registry, EventType::Updated), ["a"]);
        assert!(registry.handlers(EventType::Deleted).is_empty());
    }
}
