//! The HTTP surface the Dapr sidecar talks to: subscription discovery, event delivery, and the
//! probes.

mod health;
mod middleware;
mod sidecar;

use std::sync::Arc;

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    middleware::{from_fn, from_fn_with_state},
    response::IntoResponse,
    routing::{get, post},
};
use sqlx::PgPool;
use tower_http::{catch_panic::CatchPanicLayer, timeout::TimeoutLayer};

pub use sidecar::{DEAD_LETTERS_ROUTE, TASK_EVENTS_ROUTE, subscriptions};

use crate::{
    config::{Config, Settings},
    error::AppError,
    registry::Registry,
};

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub registry: Arc<Registry>,
    pub settings: Arc<Settings>,
}

impl AppState {
    /// The standard assistants, with settings from `config`.
    pub fn new(db: PgPool, config: Config) -> Self {
        let settings = Settings::from_config(&config.agents);
        Self {
            db,
            config: Arc::new(config),
            registry: Arc::new(Registry::standard()),
            settings: Arc::new(settings),
        }
    }

    /// Replaces the event handlers, e.g. to add a reaction in a test.
    #[must_use]
    pub fn with_registry(mut self, registry: Registry) -> Self {
        self.registry = Arc::new(registry);
        self
    }
}

/// `/metrics` alone, for `METRICS_LISTEN_ADDR`.
pub fn metrics_app(state: AppState) -> Router {
    metrics_routes().fallback(|| async { AppError::NotFound }).with_state(state)
}

fn metrics_routes() -> Router<AppState> {
    Router::new().route(
        "/metrics",
        get(|State(state): State<AppState>| async move { platform::metrics::render(&state.db) }),
    )
}

/// The whole application as a router, ready to serve; tests drive this same router.
pub fn app(state: AppState) -> Router {
    // Only the sidecar's routes need its token: the sidecar's app health probe sends none (§5).
    let sidecar = Router::new()
        .route("/dapr/subscribe", get(sidecar::get_subscriptions))
        .route(TASK_EVENTS_ROUTE, post(sidecar::receive_task_event))
        .route(DEAD_LETTERS_ROUTE, post(sidecar::receive_dead_letter))
        .route_layer(from_fn_with_state(state.clone(), middleware::require_app_token));
    let mut router = Router::new()
        .merge(sidecar)
        .route("/health", get(health::health))
        .route("/ready", get(health::ready));
    if state.config.metrics_listen_addr.is_none() {
        router = router.merge(metrics_routes());
    }
    router
        .fallback(|| async { AppError::NotFound })
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        // A timed-out delivery is dropped mid-transaction, which rolls back; the 503 makes the
        // sidecar deliver it again.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            state.config.request_timeout(),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
        }))
        .layer(from_fn(middleware::trace_request))
        .with_state(state)
}
