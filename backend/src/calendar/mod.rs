//! The calendar feed (spec: "Calendar feed"): a secret address per user that calendar apps
//! subscribe to, and the settings that turn it on, reset it and turn it off.
//!
//! The feed itself needs no session, because calendar apps have none: its token is the
//! credential. It is a GET, so the cross-site guard lets it through, and it is not rate limited
//! per client address, because one calendar service (Google's, Apple's) fetches every
//! subscriber's feed from a few addresses; 256 random bits cannot be guessed, and the
//! `Cache-Control` answer keeps well-behaved clients from asking more than every few minutes.

pub mod dto;
mod feed;
mod ics;
pub mod service;

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::IntoResponse,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AuthUser,
    error::{AppError, Problem, Result},
    http::{AppPath, AppState},
};
use dto::CalendarFeedResponse;
use service::FeedToken;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_calendar_feed, reset_calendar_feed, delete_calendar_feed))
        .routes(routes!(get_calendar))
}

/// The user's calendar feed: `enabled` with its address, or `enabled: false` (not a 404: off is
/// an ordinary state of the setting).
#[utoipa::path(get, path = "/calendar/feed", tag = "calendar",
    responses(
        (status = 200, body = CalendarFeedResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_calendar_feed(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<axum::Json<CalendarFeedResponse>> {
    Ok(axum::Json(service::status(&state.db, auth.user_id).await?))
}

/// Turn the feed on, or reset its address: a new secret address, and the old one, if any,
/// stops working at once.
#[utoipa::path(post, path = "/calendar/feed", tag = "calendar",
    responses(
        (status = 200, body = CalendarFeedResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reset_calendar_feed(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<axum::Json<CalendarFeedResponse>> {
    Ok(axum::Json(service::reset(&state.db, auth.user_id).await?))
}

/// Turn the feed off: its address stops working. Turning off a feed that is off succeeds.
#[utoipa::path(delete, path = "/calendar/feed", tag = "calendar",
    responses(
        (status = 204, description = "The feed is off"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_calendar_feed(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode> {
    service::turn_off(&state.db, auth.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calendar (RFC 5545) at a feed address: one event per open task with a due date, a
/// repeating task's series as an RRULE. No session: the secret address is the credential.
/// (The router cannot match a parameter followed by `.ics` in one segment, so the segment is
/// the whole file name.)
#[utoipa::path(get, path = "/calendar/{file}", tag = "calendar",
    params(("file" = String, Path, description = "`<token>.ics`, as in the `url` of the feed settings")),
    responses(
        (status = 200, description = "The calendar", body = String, content_type = "text/calendar"),
        (status = 404, description = "No feed has this address (never had, reset or turned off)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_calendar(
    State(state): State<AppState>,
    AppPath(file): AppPath<String>,
) -> Result<impl IntoResponse> {
    let token = FeedToken::from_file_name(&file).ok_or(AppError::NotFound)?;
    let body = service::calendar(&state.db, &state.preferences, &token).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            // Private: the body is one user's tasks. Five minutes spares the database the
            // clients that poll eagerly, while a change still shows soon.
            (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("inline; filename=\"todo.ics\"")),
            // The address is a secret: keep it out of the Referer of anything the calendar links.
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        body,
    ))
}
