//! The account's own lifecycle: its display name, changing the password, signing out
//! everywhere, exporting everything it holds, and deleting it.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{AuthUser, UserResponse, client, session};
use crate::{
    chat::{self, ConversationDetail},
    db,
    domain::{FieldError, account::Password, name::Name},
    error::{AppError, Problem, Result},
    http::{AppJson, AppState, RequestContext},
    preferences::{Preferences, PreferencesResponse},
    projects::{self, dto::ProjectResponse},
    suggestions::{self, dto::SuggestionResponse},
    tasks::{dto::TaskResponse, service::Task},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_account, delete_account))
        .routes(routes!(change_password))
        .routes(routes!(sign_out_everywhere))
        .routes(routes!(export_account))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAccountRequest {
    /// 1–100 characters, one line; `null` or blank removes it.
    #[schema(nullable)]
    display_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, format = Password)]
    current_password: Option<SecretString>,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    new_password: Option<SecretString>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The account's password, to confirm.
    #[schema(value_type = String, format = Password)]
    password: Option<SecretString>,
}

/// Everything the account holds, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountExport {
    pub exported_at: DateTime<Utc>,
    pub account: UserResponse,
    pub preferences: PreferencesResponse,
    pub projects: Vec<ProjectResponse>,
    pub tasks: Vec<TaskResponse>,
    pub suggestions: Vec<SuggestionResponse>,
    pub conversations: Vec<ConversationDetail>,
}

/// Blank or absent removes the name.
fn display_name(raw: Option<&str>) -> Result<Option<String>> {
    let Some(name) = raw.filter(|n| !n.trim().is_empty()) else { return Ok(None) };
    Ok(Some(Name::parse("displayName", name)?.as_str().to_owned()))
}

/// Change the account's display name.
#[utoipa::path(patch, path = "/account", tag = "auth", request_body = UpdateAccountRequest,
    responses(
        (status = 200, body = UserResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_account(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(body): AppJson<UpdateAccountRequest>,
) -> Result<axum::Json<UserResponse>> {
    let name = display_name(body.display_name.as_deref())?;
    let user = db::users::set_display_name(&state.db, auth.user_id, name.as_deref())
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok(axum::Json(user.into()))
}

/// Checks the account's password, counting a wrong one against the sign-in limits so this is
/// no cheaper way to guess it than signing in.
async fn confirm_password(
    state: &AppState,
    ctx: &RequestContext,
    user_id: Uuid,
    field: &str,
    password: Option<SecretString>,
) -> Result<db::users::UserRow> {
    let password = password.ok_or_else(|| FieldError::new(field, "is required"))?;
    let user = db::users::find(&state.db, user_id).await?.ok_or(AppError::Unauthenticated)?;
    let client = client(ctx);
    let limiter = &state.auth_limiter;
    limiter.attempt(&state.db, &client).await?;
    limiter.refuse_while_backing_off(&state.db, &user.email, &client).await?;
    let verified =
        state.hasher.verify(password.expose_secret().to_owned(), Some(user.password_hash.clone())).await?;
    if !verified {
        limiter.failed(&state.db, &user.email, &client).await?;
        return Err(FieldError::new(field, "is not this account's password").into());
    }
    limiter.succeeded(&state.db, &user.email, &client).await?;
    Ok(user)
}

/// Ends the user's sessions but `keep`, and forgets them on this replica at once (others drop
/// theirs when their cache entries expire, within `SESSION_CACHE_SECONDS`).
async fn end_sessions(state: &AppState, user_id: Uuid, keep: Option<&[u8]>) -> Result<()> {
    for hash in db::sessions::delete_for_user(&state.db, user_id, keep).await? {
        if let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) {
            state.sessions.remove(&hash);
        }
    }
    Ok(())
}

/// Change the password. Every other session of the account ends; this one stays.
#[utoipa::path(post, path = "/account/password", tag = "auth", request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; other sessions ended"),
        (status = 400, description = "`currentPassword` is wrong or `newPassword` too short or long", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
async fn change_password(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    headers: HeaderMap,
    AppJson(body): AppJson<ChangePasswordRequest>,
) -> Result<StatusCode> {
    let new_password = body
        .new_password
        .ok_or_else(|| FieldError::new("newPassword", "is required"))
        .and_then(|p| Password::parse("newPassword", p))?;
    confirm_password(&state, &ctx, auth.user_id, "currentPassword", body.current_password).await?;
    let hash = state.hasher.hash(new_password.expose().to_owned()).await?;
    db::users::set_password_hash(&state.db, auth.user_id, &hash).await?;
    let current = session::token_from(&headers).map(|t| session::hash_token(&t));
    end_sessions(&state, auth.user_id, current.as_ref().map(<[u8; 32]>::as_slice)).await?;
    tracing::info!(user.id = %auth.user_id, "password changed; other sessions ended");
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out on every device, this one included.
#[utoipa::path(post, path = "/account/signout-everywhere", tag = "auth",
    responses((status = 204, description = "Every session ended; the session cookie is cleared")))]
async fn sign_out_everywhere(State(state): State<AppState>, auth: AuthUser) -> Result<impl IntoResponse> {
    end_sessions(&state, auth.user_id, None).await?;
    tracing::info!(user.id = %auth.user_id, "signed out everywhere");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session::clearing_cookie(state.config.cookie_secure))]))
}

/// Everything the account holds, as one JSON document to download.
#[utoipa::path(get, path = "/account/export", tag = "auth",
    responses((status = 200, body = AccountExport)))]
async fn export_account(State(state): State<AppState>, auth: AuthUser) -> Result<impl IntoResponse> {
    let user = db::users::find(&state.db, auth.user_id).await?.ok_or(AppError::Unauthenticated)?;
    let prefs = Preferences::load(&state.db, &state.preferences, auth.user_id).await?;
    let projects = projects::service::list(&state.db, auth.user_id)
        .await?
        .into_iter()
        .map(projects::service::Project::response)
        .collect::<Result<_>>()?;
    let now = Utc::now();
    let tasks = db::tasks::all_of_user(&state.db, auth.user_id)
        .await?
        .into_iter()
        .map(|row| Task::from_row(row).map(|t| t.response(now)))
        .collect::<Result<_>>()?;
    let suggestions = suggestions::service::with_items(
        &state.db,
        db::suggestions::list(&state.db, auth.user_id, None, u32::MAX).await?,
    )
    .await?;
    let max = state.config.quotas.max_conversations_per_user.max(1);
    let mut conversations = Vec::new();
    for row in db::chat::list_conversations(&state.db, auth.user_id, max).await? {
        conversations.push(chat::detail(&state.db, &row, u32::MAX).await?);
    }
    let export = AccountExport {
        exported_at: now,
        account: user.into(),
        preferences: prefs.into(),
        projects,
        tasks,
        suggestions,
        conversations,
    };
    let filename = format!("attachment; filename=\"todo-export-{}.json\"", now.format("%Y-%m-%d"));
    Ok(([(header::CONTENT_DISPOSITION, filename)], axum::Json(export)))
}

/// Delete the account and everything it holds. Asks for the password.
#[utoipa::path(delete, path = "/account", tag = "auth", request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Deleted; the session cookie is cleared"),
        (status = 400, description = "`password` missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_account(
    State(state): State<AppState>,
    auth: AuthUser,
    ctx: RequestContext,
    AppJson(body): AppJson<DeleteAccountRequest>,
) -> Result<impl IntoResponse> {
    confirm_password(&state, &ctx, auth.user_id, "password", body.password).await?;
    // The sessions go with the account; this replica forgets them first.
    end_sessions(&state, auth.user_id, None).await?;
    let mut tx = state.db.begin().await?;
    db::users::delete(&mut tx, auth.user_id).await?;
    tx.commit().await?;
    state.preferences.remove(&auth.user_id);
    tracing::info!(user.id = %auth.user_id, "account deleted");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session::clearing_cookie(state.config.cookie_secure))]))
}
