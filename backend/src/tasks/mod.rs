//! The task API: create, read, list, change, complete, reopen and delete.

pub mod dto;
pub mod model;
pub mod service;

use axum::{
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use sha2::{Digest, Sha256};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    db,
    domain::list_query::{Cursor, ListQuery, SortField},
    error::{AppError, Problem, Result},
    http::{AppJson, AppPath, AppState, RequestContext},
    preferences::Preferences,
};
use dto::{
    CompletionResponse, CreateTaskRequest, ListParams, MoveTaskRequest, TaskPage, TaskResponse,
    UpdateTaskRequest,
};
use model::TaskFields;
use service::Task;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(complete_task))
        .routes(routes!(reopen_task))
        .routes(routes!(move_task))
}

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The user's tasks, filtered, sorted and paged with a keyset cursor.
#[utoipa::path(get, path = "/tasks", tag = "tasks",
    params(ListParams),
    responses(
        (status = 200, body = TaskPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_tasks(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<TaskPage>> {
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let query = ListQuery::parse(raw.as_deref(), prefs.time_zone)?;
    let mut rows = db::tasks::list(&state.db, auth.user_id, &query).await?;
    let has_more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let now = Utc::now();
    let tasks = rows.into_iter().map(Task::from_row).collect::<Result<Vec<_>>>()?;
    let next_cursor = tasks.last().filter(|_| has_more).map(|last| {
        Cursor {
            sort: query.sort,
            order: query.order,
            value: cursor_value(query.sort, last),
            task_id: last.row.task_id,
        }
        .encode()
    });
    Ok(axum::Json(TaskPage { items: tasks.iter().map(|t| t.response(now)).collect(), next_cursor }))
}

fn cursor_value(sort: SortField, task: &Task) -> String {
    let time = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    match sort {
        SortField::CreatedAt => time(task.row.created_at),
        SortField::UpdatedAt => time(task.row.updated_at),
        SortField::DueAt => task.row.due_at.map_or_else(|| Cursor::NO_DUE_DATE.to_owned(), time),
        SortField::Priority => task.fields.priority.as_str().to_owned(),
        SortField::Title => task.row.title.to_lowercase(),
        SortField::Position => task.row.position.clone(),
    }
}

/// Create a task.
///
/// With an `Idempotency-Key` header, a retry of the same request returns the first response
/// and creates nothing; the same key with a different body is refused.
#[utoipa::path(post, path = "/tasks", tag = "tasks", request_body = CreateTaskRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: up to 255 characters, kept for 24 hours")),
    responses(
        (status = 201, body = TaskResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request, or the account holds `MAX_TASKS_PER_USER` tasks already (code `task_quota_exceeded`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency key reused with a different body", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_task(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    headers: HeaderMap,
    AppJson(body): AppJson<CreateTaskRequest>,
) -> Result<Response> {
    let key = idempotency_key(&headers)?;
    let request_hash: [u8; 32] = Sha256::digest(serde_json::to_vec(&body).unwrap_or_default()).into();
    if let Some(key) = &key
        && let Some(stored) = db::idempotency::find(&state.db, auth.user_id, key).await?
    {
        return replay(stored, &request_hash);
    }
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let fields = TaskFields::parse_new(body, &prefs)?;
    let Some(key) = key else {
        // One statement, which commits on its own: no transaction to open and close.
        let mut conn = state.db.acquire().await?;
        let task = service::create(&mut conn, &ctx.origin, auth.user_id, fields, &prefs).await?;
        return Ok((StatusCode::CREATED, axum::Json(task.response(Utc::now()))).into_response());
    };
    let mut tx = state.db.begin().await?;
    let task = service::create(&mut tx, &ctx.origin, auth.user_id, fields, &prefs).await?;
    let response = task.response(Utc::now());
    let body = serde_json::to_value(&response).map_err(anyhow::Error::from)?;
    let stored = db::idempotency::insert(&mut *tx, auth.user_id, &key, &request_hash, 201, &body).await;
    if let Err(sqlx::Error::Database(e)) = &stored
        && e.constraint() == Some(db::idempotency::PRIMARY_KEY)
    {
        // A concurrent request with this key committed first: undo ours, answer with its.
        drop(tx);
        let stored = db::idempotency::find(&state.db, auth.user_id, &key).await?.ok_or(AppError::NotFound)?;
        return replay(stored, &request_hash);
    }
    stored?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(response)).into_response())
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(value) = headers.get(&IDEMPOTENCY_KEY) else { return Ok(None) };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    key.map(|k| Some(k.to_owned())).ok_or_else(|| {
        AppError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1–255 visible ASCII characters",
        )
    })
}

fn replay(stored: db::idempotency::StoredResponse, request_hash: &[u8]) -> Result<Response> {
    if stored.request_hash != request_hash {
        return Err(AppError::Unprocessable {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used with a different request body".into(),
        });
    }
    let status = StatusCode::from_u16(stored.response_status.unsigned_abs()).unwrap_or(StatusCode::OK);
    let mut response = (status, axum::Json(stored.response_body)).into_response();
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(response)
}

/// One task.
#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = TaskResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_task(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<axum::Json<TaskResponse>> {
    let task = service::get(&state.db, auth.user_id, id).await?;
    Ok(axum::Json(task.response(Utc::now())))
}

/// Change some fields of a task.
#[utoipa::path(patch, path = "/tasks/{id}", tag = "tasks", request_body = UpdateTaskRequest,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = TaskResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_task(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath(id): AppPath<Uuid>,
    AppJson(patch): AppJson<UpdateTaskRequest>,
) -> Result<axum::Json<TaskResponse>> {
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let mut tx = state.db.begin().await?;
    let task = service::update(&mut tx, &ctx.origin, auth.user_id, id, patch, &prefs).await?;
    tx.commit().await?;
    Ok(axum::Json(task.response(Utc::now())))
}

/// Delete a task.
#[utoipa::path(delete, path = "/tasks/{id}", tag = "tasks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_task(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath(id): AppPath<Uuid>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin().await?;
    service::delete(&mut tx, &ctx.origin, auth.user_id, id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark a task done. A recurring task's next occurrence is created once, however often this is
/// called.
#[utoipa::path(post, path = "/tasks/{id}/complete", tag = "tasks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CompletionResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn complete_task(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath(id): AppPath<Uuid>,
) -> Result<axum::Json<CompletionResponse>> {
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let mut tx = state.db.begin().await?;
    let (task, next) = service::complete(&mut tx, &ctx.origin, auth.user_id, id, &prefs).await?;
    tx.commit().await?;
    let now = Utc::now();
    Ok(axum::Json(CompletionResponse { task: task.response(now), next_task: next.map(|n| n.response(now)) }))
}

/// Mark a task not done.
#[utoipa::path(post, path = "/tasks/{id}/incomplete", tag = "tasks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = TaskResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn reopen_task(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath(id): AppPath<Uuid>,
) -> Result<axum::Json<TaskResponse>> {
    let mut tx = state.db.begin().await?;
    let task = service::reopen(&mut tx, &ctx.origin, auth.user_id, id).await?;
    tx.commit().await?;
    Ok(axum::Json(task.response(Utc::now())))
}

/// Move a task in its list's manual order.
///
/// The list is the task's project's tasks in its section (or in none), or its parent's
/// subtasks. Only this task's row changes; a `tasks.updated` event carries its new key.
#[utoipa::path(post, path = "/tasks/{id}/move", tag = "tasks", request_body = MoveTaskRequest,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = TaskResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn move_task(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<MoveTaskRequest>,
) -> Result<axum::Json<TaskResponse>> {
    let mut tx = state.db.begin().await?;
    let task = service::move_task(&mut tx, &ctx.origin, auth.user_id, id, req).await?;
    tx.commit().await?;
    Ok(axum::Json(task.response(Utc::now())))
}
