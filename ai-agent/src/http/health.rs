//! Liveness and readiness for Kubernetes probes and the sidecar's app health check.

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use super::AppState;
use crate::db;

/// The process is alive. Never touches the database, so a database outage does not get pods
/// restarted.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready for deliveries: the database answers. Used as the sidecar's app health check too, which
/// then pauses deliveries while the database is away instead of collecting RETRYs.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match db::ping(&state.db).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready", "database": "ok" }))),
        Err(e) => {
            tracing::warn!(error.message = %e, "readiness check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
        }
    }
}
