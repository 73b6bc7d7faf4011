//! The Web Push API (spec: "Web Push"): the server's VAPID key for browsers to subscribe with,
//! and the user's registered browsers. The ai-agent sends the notifications.

pub mod dto;
pub mod service;

use axum::{extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    error::{AppError, Problem, Result},
    http::{AppJson, AppPath, AppState},
};
use dto::{
    CreatePushSubscriptionRequest, PushConfigResponse, PushSubscriptionList, PushSubscriptionResponse,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_push_config))
        .routes(routes!(list_push_subscriptions, create_push_subscription))
        .routes(routes!(delete_push_subscription))
}

/// Whether this server sends push notifications, and the VAPID public key to subscribe with.
#[utoipa::path(get, path = "/push/config", tag = "push",
    responses(
        (status = 200, body = PushConfigResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_push_config(State(state): State<AppState>, _auth: AuthUser) -> axum::Json<PushConfigResponse> {
    axum::Json(service::config(&state.config.push))
}

/// Register this browser for push notifications: the body is its `PushSubscription.toJSON()`,
/// optionally with a `label`. The same endpoint again replaces its registration; an account
/// keeps at most 10, the oldest going first.
#[utoipa::path(post, path = "/push/subscriptions", tag = "push", request_body = CreatePushSubscriptionRequest,
    responses(
        (status = 201, body = PushSubscriptionResponse),
        (status = 400, description = "An invalid field (`endpoint`, `keys.p256dh`, `keys.auth`, `label`, `expirationTime`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Push is not configured on this server (code `push_not_configured`)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_push_subscription(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(body): AppJson<CreatePushSubscriptionRequest>,
) -> Result<(StatusCode, axum::Json<PushSubscriptionResponse>)> {
    // 409 rather than 503: the server works, it is configured not to push, and retrying will
    // not change that; the web app hides the toggle when `GET /push/config` says so.
    if state.config.push.vapid_public_key.is_none() {
        return Err(AppError::Conflict {
            code: "push_not_configured",
            detail: "this server does not send push notifications".into(),
        });
    }
    let new = service::NewSubscription::parse(&state.config.push, body)?;
    let mut tx = state.db.begin().await?;
    let subscription = service::register(&mut tx, auth.user_id, new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(subscription)))
}

/// The user's registered browsers, oldest first.
#[utoipa::path(get, path = "/push/subscriptions", tag = "push",
    responses(
        (status = 200, body = PushSubscriptionList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_push_subscriptions(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<axum::Json<PushSubscriptionList>> {
    Ok(axum::Json(PushSubscriptionList { items: service::list(&state.db, auth.user_id).await? }))
}

/// Stop sending to a browser; what was queued for it is dropped.
#[utoipa::path(delete, path = "/push/subscriptions/{id}", tag = "push",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_push_subscription(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<StatusCode> {
    service::remove(&state.db, auth.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
