//! The HTTP surface.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use serde_json::json;
use uuid::Uuid;

use crate::{Failure, Message, Shared, crypto};

/// A pushed body larger than this is refused with 413, as RFC 8030 §7.2 allows.
const MAX_BODY: usize = 4096;

pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/subscriptions", post(create_subscription))
        .route("/subscriptions/{id}", delete(delete_subscription))
        .route("/subscriptions/{id}/messages", get(list_messages))
        .route("/subscriptions/{id}/failures", post(add_failures))
        .route("/push/{id}", post(push))
        .with_state(shared)
}

fn problem(status: StatusCode, detail: &str) -> Response {
    (status, Json(json!({"status": status.as_u16(), "detail": detail}))).into_response()
}

async fn create_subscription(State(shared): State<Shared>) -> Response {
    (StatusCode::CREATED, Json(shared.subscribe())).into_response()
}

async fn delete_subscription(State(shared): State<Shared>, Path(id): Path<Uuid>) -> StatusCode {
    match shared.lock().subscriptions.get_mut(&id) {
        Some(entry) => {
            entry.gone = true;
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn list_messages(State(shared): State<Shared>, Path(id): Path<Uuid>) -> Response {
    match shared.lock().subscriptions.get(&id) {
        Some(entry) => Json(json!({"messages": entry.messages})).into_response(),
        None => problem(StatusCode::NOT_FOUND, "no such subscription"),
    }
}

#[derive(serde::Deserialize)]
struct FailuresRequest {
    #[serde(flatten)]
    failure: Failure,
    times: usize,
}

async fn add_failures(
    State(shared): State<Shared>,
    Path(id): Path<Uuid>,
    Json(body): Json<FailuresRequest>,
) -> StatusCode {
    match shared.lock().subscriptions.get_mut(&id) {
        Some(entry) => {
            entry.failures.extend(std::iter::repeat_n(body.failure, body.times));
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn push(
    State(shared): State<Shared>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut state = shared.lock();
    state.requests += 1;
    let Some(entry) = state.subscriptions.get_mut(&id) else {
        return problem(StatusCode::NOT_FOUND, "no such subscription");
    };
    if entry.gone {
        return problem(StatusCode::GONE, "the subscription has ended");
    }
    if let Err(e) = crypto::verify_vapid(header_str(&headers, "authorization"), &shared.base_url, now) {
        return match e {
            crypto::VapidError::Missing(why) => problem(StatusCode::UNAUTHORIZED, why),
            crypto::VapidError::Invalid(why) => problem(StatusCode::FORBIDDEN, why),
        };
    }
    let Some(ttl) = header_str(&headers, "ttl").and_then(|v| v.trim().parse::<u64>().ok()) else {
        return problem(StatusCode::BAD_REQUEST, "the TTL header is required");
    };
    if header_str(&headers, header::CONTENT_ENCODING.as_str()) != Some("aes128gcm") {
        return problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Encoding must be aes128gcm");
    }
    if body.len() > MAX_BODY {
        return problem(StatusCode::PAYLOAD_TOO_LARGE, "the body is over 4096 bytes");
    }
    if let Some(failure) = entry.failures.pop_front() {
        let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = problem(status, "a failure the test asked for");
        if let Some(seconds) = failure.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        return response;
    }
    let plaintext = match crypto::decrypt(&entry.keys, &body) {
        Ok(plaintext) => plaintext,
        Err(why) => return problem(StatusCode::BAD_REQUEST, why),
    };
    entry.messages.push(Message {
        data: String::from_utf8_lossy(&plaintext).into_owned(),
        ttl,
        urgency: header_str(&headers, "urgency").map(str::to_owned),
        topic: header_str(&headers, "topic").map(str::to_owned),
    });
    let location = format!("{}/messages/{id}/{}", shared.base_url, entry.messages.len());
    (StatusCode::CREATED, [(header::LOCATION, location)]).into_response()
}
