//! Liveness and readiness for Kubernetes probes and load balancers.

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{db, http::AppState};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    status: &'static str,
    database: &'static str,
    /// Events committed but not yet accepted by the sidecar.
    #[serde(skip_serializing_if = "Option::is_none")]
    outbox_backlog: Option<i64>,
    /// Age of the oldest of them; grows while the sidecar or broker is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    oldest_unpublished_age_seconds: Option<f64>,
}

/// The process is alive. Never touches the database, so a database outage does not get pods
/// restarted.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready for traffic: the database answers. Reports the outbox backlog for operators; a
/// backlog does not make the instance unready, since the API keeps working while events wait.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    match db::outbox::backlog(&state.db).await {
        Ok(backlog) => (
            StatusCode::OK,
            Json(Readiness {
                status: "ready",
                database: "ok",
                outbox_backlog: Some(backlog.unpublished),
                oldest_unpublished_age_seconds: backlog
                    .oldest_created_at
                    .map(|t| (chrono::Utc::now() - t).num_milliseconds() as f64 / 1000.0),
            }),
        ),
        Err(e) => {
            tracing::warn!(error.message = %e, "readiness check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Readiness {
                    status: "unavailable",
                    database: "unreachable",
                    outbox_backlog: None,
                    oldest_unpublished_age_seconds: None,
                }),
            )
        }
    }
}
