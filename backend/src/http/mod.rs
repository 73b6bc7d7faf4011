//! The HTTP surface: shared state, the router with its middleware, and the OpenAPI document.

mod context;
mod extract;
mod middleware;
mod openapi;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    middleware::{from_fn, from_fn_with_state},
    response::IntoResponse,
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tower_http::{catch_panic::CatchPanicLayer, timeout::TimeoutLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use context::RequestContext;
pub use extract::{AppJson, AppPath};
pub use middleware::CorrelationId;

use uuid::Uuid;

use crate::{
    assistant, auth,
    auth::{AuthRateLimiter, RateLimiter},
    cache::TtlCache,
    calendar, chat,
    config::Config,
    error::AppError,
    health, import,
    preferences::{self, Preferences},
    projects, push, stream, suggestions, tasks, web,
};

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub auth_limiter: Arc<AuthRateLimiter>,
    /// Per-user budget of state-changing requests, shared across replicas.
    pub write_limiter: Arc<RateLimiter>,
    pub hasher: Arc<auth::password::Hasher>,
    pub stream: stream::Hub,
    pub stream_slots: stream::Slots,
    /// Fires on SIGTERM; long-lived responses (live-update streams) end on it.
    pub shutdown: CancellationToken,
    pub chat: Arc<chat::ChatState>,
    /// Wakes the outbox relay (see [`middleware::wake_relay`]).
    pub relay_wake: Arc<tokio::sync::Notify>,
    /// Sessions (by token hash) and preferences read recently, kept for `CACHE_SECONDS`.
    pub sessions: Arc<TtlCache<[u8; 32], Uuid>>,
    pub preferences: Arc<TtlCache<Uuid, Preferences>>,
}

impl AppState {
    /// The state of a backend serving `config` on `db`, with empty caches and a fresh stream hub.
    pub fn new(
        db: PgPool,
        config: Arc<Config>,
        chat: Arc<chat::ChatState>,
        shutdown: CancellationToken,
    ) -> Self {
        let ttl = Duration::from_secs(config.cache_seconds);
        Self {
            db,
            auth_limiter: Arc::new(AuthRateLimiter::from_config(&config)),
            write_limiter: Arc::new(RateLimiter::per_minute(config.quotas.write_rate_limit_per_minute)),
            hasher: Arc::new(auth::password::Hasher::start(config.password_hash_queue_depth)),
            stream: stream::Hub::default(),
            stream_slots: stream::Slots::default(),
            shutdown,
            chat,
            relay_wake: Arc::default(),
            sessions: Arc::new(TtlCache::new(ttl, CACHE_CAPACITY)),
            preferences: Arc::new(TtlCache::new(ttl, CACHE_CAPACITY)),
            config,
        }
    }
}

/// Entries per cache: ~100 bytes each, so a few MiB at most.
const CACHE_CAPACITY: usize = 50_000;

#[derive(OpenApi)]
#[openapi(
    info(title = "Todo API", description = "Tasks, accounts and preferences of the Todo platform. \
        Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`."),
    tags(
        (name = "auth", description = "Accounts and sessions (cookie `todo_session`)"),
        (name = "tasks", description = "The signed-in user's tasks"),
        (name = "projects", description = "The signed-in user's projects and their sections"),
        (name = "preferences", description = "The signed-in user's preferences"),
        (name = "push", description = "Web Push: notifications on the user's browsers, even with no tab open"),
        (name = "calendar", description = "The calendar feed: a secret address calendar apps subscribe to"),
        (name = "suggestions", description = "What the assistants suggest, and accepting or dismissing it"),
        (name = "stream", description = "Live updates for open browser tabs (Server-Sent Events)"),
        (name = "assistant", description = "The chat assistant: manage tasks in natural language"),
        (name = "import", description = "Bringing in tasks from other apps"),
        (name = "operations", description = "Probes"),
    )
)]
struct ApiDoc;

/// Prometheus text exposition; outside `/api/v1` and the session, like the probes (the port is
/// not exposed publicly: the ingress routes only `/api`).
async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    platform::metrics::render(&state.db)
}

/// The resources under `/api/v1`, each with its part of the OpenAPI document.
fn api_v1() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(tasks::router())
        .merge(projects::router())
        .merge(push::router())
        .merge(import::router())
        .merge(preferences::router())
        .merge(calendar::router())
        .merge(suggestions::router())
        .merge(assistant::router())
        .merge(stream::router())
        .merge(chat::router())
}

/// The OpenAPI document served at `/api/v1/openapi.json`, built without a database or any
/// state, so `backend openapi` can print it for the web app's generated types.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented_routes(|v1| v1).1
}

/// The routes and the document that describes them, from the same code. `guard` wraps the
/// `/api/v1` routes in middleware that needs the state; layers do not change the document.
fn documented_routes(
    guard: impl FnOnce(OpenApiRouter<AppState>) -> OpenApiRouter<AppState>,
) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (api, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", guard(api_v1()))
        .routes(utoipa_axum::routes!(health::health))
        .routes(utoipa_axum::routes!(health::ready))
        .split_for_parts();
    utoipa::Modify::modify(&openapi::CommonResponses, &mut openapi);
    (api, openapi)
}

/// The whole application as a router, ready to serve; tests drive this same router.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = documented_routes(|v1| {
        v1.layer(from_fn_with_state(state.clone(), middleware::write_rate_limit))
            .layer(from_fn_with_state(state.clone(), middleware::csrf_guard))
            .layer(from_fn_with_state(state.clone(), middleware::wake_relay))
    });
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let router = Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", openapi))
        .route("/metrics", axum::routing::get(metrics));
    let router = match &state.config.web_dir {
        Some(dir) => router.merge(web::router(dir)),
        None => router.fallback(|| async { AppError::NotFound }),
    };
    router
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
        }))
        .layer(from_fn(middleware::trace_request))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    /// The copy the web app's types are generated from (`frontend/openapi.json`) must be what
    /// the code serves, or the web app compiles against a contract the server no longer has.
    #[test]
    fn the_committed_openapi_document_is_the_one_the_code_serves() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../frontend/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap();
        let served = format!("{}\n", super::openapi_document().to_pretty_json().unwrap());
        assert!(
            committed == served,
            "{path} differs from the document the code serves; refresh it and the web app's types with \
             `cargo run -p backend -- openapi > frontend/openapi.json && (cd frontend && npm run gen:api)`"
        );
    }
}
