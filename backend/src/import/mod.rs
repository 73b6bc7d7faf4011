//! Importing another app's data: a Todoist CSV export into one project (spec: "Import").

pub mod dto;
pub mod service;
pub mod todoist;

use axum::{extract::DefaultBodyLimit, extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AuthUser,
    error::{Problem, Result},
    http::{AppJson, AppState, RequestContext},
    preferences::Preferences,
};
use dto::{ImportReport, TodoistImportRequest};
use service::TodoistImport;

/// The largest body this route reads: a 1 MiB file grows when escaped into JSON (quotes and
/// line breaks double), so it gets room for that; the file's own limit is checked on its text
/// and reported against `csv`.
const MAX_BODY_BYTES: usize = 4 * todoist::MAX_CSV_BYTES;

pub fn router() -> OpenApiRouter<AppState> {
    // Closer to the handler than the app-wide limit, so it is the one in force here.
    OpenApiRouter::new().routes(routes!(import_todoist)).layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Import a Todoist CSV export into a new or an existing project.
///
/// Sections, tasks, priorities, due dates, repeats, labels (as tags) and comments (appended to
/// the description) are imported; what could not be is listed with its row. All or nothing:
/// a row that cannot be imported is skipped and reported, and an error leaves nothing written.
/// With `dryRun: true` the same report comes back and nothing is written.
#[utoipa::path(post, path = "/import/todoist", tag = "import", request_body = TodoistImportRequest,
    responses(
        (status = 200, description = "A dry run: what the import would do", body = ImportReport),
        (status = 201, description = "Imported", body = ImportReport),
        (status = 400, description = "A missing or invalid field: `csv` when the file is not a Todoist CSV, is over 1 MiB or 2,000 rows, or would give the project over 50 sections; `project.name` when the name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request, or a quota reached (code `project_quota_exceeded` or `task_quota_exceeded`); nothing is written", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`project.id` is not one of the user's projects", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 4 MiB", body = Problem, content_type = "application/problem+json"),
    ))]
async fn import_todoist(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppJson(body): AppJson<TodoistImportRequest>,
) -> Result<(StatusCode, axum::Json<ImportReport>)> {
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let import = TodoistImport::parse(body, &prefs)?;
    let dry_run = import.dry_run;
    let mut tx = state.db.begin().await?;
    let report = service::run(&mut tx, &ctx.origin, auth.user_id, import, &prefs).await?;
    if dry_run {
        tx.rollback().await?;
        Ok((StatusCode::OK, axum::Json(report)))
    } else {
        tx.commit().await?;
        Ok((StatusCode::CREATED, axum::Json(report)))
    }
}
