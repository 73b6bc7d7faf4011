//! The project API: the user's projects with their sections, and deleting one with an explicit
//! choice for its tasks.

pub mod dto;
pub mod service;

use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    domain::{FieldError, project::TasksOnDelete},
    error::{AppError, Problem, Result},
    http::{AppJson, AppPath, AppState, RequestContext},
    preferences::Preferences,
};
use dto::{
    CreateProjectRequest, DeleteProjectParams, DeleteProjectResponse, ProjectList, ProjectResponse,
    UpdateProjectRequest,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_projects, create_project)).routes(routes!(
        get_project,
        update_project,
        delete_project
    ))
}

/// The user's projects: the Inbox first, then by name, archived ones included.
#[utoipa::path(get, path = "/projects", tag = "projects",
    responses(
        (status = 200, body = ProjectList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_projects(State(state): State<AppState>, auth: AuthUser) -> Result<axum::Json<ProjectList>> {
    let projects = service::list(&state.db, auth.user_id).await?;
    let items = projects.into_iter().map(service::Project::response).collect::<Result<_>>()?;
    Ok(axum::Json(ProjectList { items }))
}

/// Create a project.
#[utoipa::path(post, path = "/projects", tag = "projects", request_body = CreateProjectRequest,
    responses(
        (status = 201, body = ProjectResponse),
        (status = 400, description = "An invalid field, or a name another of the user's projects has", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request, or the account holds 300 projects already (code `project_quota_exceeded`)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_project(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(body): AppJson<CreateProjectRequest>,
) -> Result<(StatusCode, axum::Json<ProjectResponse>)> {
    let mut tx = state.db.begin().await?;
    let project = service::create(&mut tx, auth.user_id, body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(project.response()?)))
}

/// One project.
#[utoipa::path(get, path = "/projects/{id}", tag = "projects",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ProjectResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_project(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<axum::Json<ProjectResponse>> {
    let mut conn = state.db.acquire().await?;
    Ok(axum::Json(service::get(&mut conn, auth.user_id, id).await?.response()?))
}

/// Change a project: its name, colour, archived flag or sections.
#[utoipa::path(patch, path = "/projects/{id}", tag = "projects", request_body = UpdateProjectRequest,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ProjectResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_project(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath(id): AppPath<Uuid>,
    AppJson(patch): AppJson<UpdateProjectRequest>,
) -> Result<axum::Json<ProjectResponse>> {
    let mut tx = state.db.begin().await?;
    let project = service::update(&mut tx, &ctx.origin, auth.user_id, id, patch).await?;
    tx.commit().await?;
    Ok(axum::Json(project.response()?))
}

/// Delete a project. The request says what happens to its tasks (`tasks=moveToInbox` or
/// `tasks=delete`); each moved or deleted task gets its event. The Inbox cannot be deleted.
#[utoipa::path(delete, path = "/projects/{id}", tag = "projects",
    params(("id" = Uuid, Path), DeleteProjectParams),
    responses(
        (status = 200, body = DeleteProjectResponse),
        (status = 400, description = "`tasks` missing or not one of its values", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Inbox (code `inbox_protected`)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_project(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppPath(id): AppPath<Uuid>,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<DeleteProjectResponse>> {
    let tasks_on_delete = tasks_on_delete(raw.as_deref())?;
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let mut tx = state.db.begin().await?;
    let (tasks_moved, tasks_deleted) =
        service::delete(&mut tx, &ctx.origin, auth.user_id, id, tasks_on_delete, prefs.inbox_id).await?;
    tx.commit().await?;
    Ok(axum::Json(DeleteProjectResponse { tasks_moved, tasks_deleted }))
}

/// The `tasks` parameter: required, so no project's tasks are deleted (or kept) by default.
fn tasks_on_delete(raw: Option<&str>) -> Result<TasksOnDelete> {
    let mut choice = None;
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key != "tasks" {
            return Err(FieldError::new(key, "is not a known parameter (tasks)").into());
        }
        choice = Some(value.into_owned());
    }
    let message = "is required: moveToInbox (keep the tasks, in the Inbox) or delete (delete them too)";
    match choice.as_deref() {
        Some("moveToInbox") => Ok(TasksOnDelete::MoveToInbox),
        Some("delete") => Ok(TasksOnDelete::Delete),
        _ => Err(AppError::Validation(vec![FieldError::new("tasks", message)])),
    }
}
