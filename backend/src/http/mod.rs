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
pub use extract::{AppJson, AppPath, parse_json};
pub use middleware::CorrelationId;

use crate::{
    auth, auth::AuthRateLimiter, chat, config::Config, error::AppError, health, preferences, stream,
    suggestions, tasks, web,
};

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub auth_limiter: Arc<AuthRateLimiter>,
    pub stream: stream::Hub,
    /// Fires on SIGTERM; long-lived responses (live-update streams) end on it.
    pub shutdown: CancellationToken,
    pub chat: Arc<chat::ChatState>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Todo API", description = "Tasks, accounts and preferences of the Todo platform. \
        Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`."),
    tags(
        (name = "auth", description = "Accounts and sessions (cookie `todo_session`)"),
        (name = "tasks", description = "The signed-in user's tasks"),
        (name = "preferences", description = "The signed-in user's preferences"),
        (name = "suggestions", description = "What the assistants suggest, and accepting or dismissing it"),
        (name = "stream", description = "Live updates for open browser tabs (Server-Sent Events)"),
        (name = "assistant", description = "The chat assistant: manage tasks in natural language"),
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
        .merge(preferences::router())
        .merge(suggestions::router())
        .merge(stream::router())
        .merge(chat::router())
}

/// The whole application as a router, ready to serve; tests drive this same router.
pub fn app(state: AppState) -> Router {
    let (api, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api_v1().layer(from_fn_with_state(state.clone(), middleware::csrf_guard)))
        .routes(utoipa_axum::routes!(health::health))
        .routes(utoipa_axum::routes!(health::ready))
        .split_for_parts();
    utoipa::Modify::modify(&openapi::CommonResponses, &mut openapi);
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
