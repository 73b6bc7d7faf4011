//! Accounts and sessions: sign-up, sign-in, sign-out and "who am I".

mod account;
pub mod password;
mod rate_limit;
mod session;

pub use rate_limit::{AuthRateLimiter, RateLimiter};
pub use session::AuthUser;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    db,
    domain::account::{Email, Password},
    error::{AppError, Problem, Result, ResultExt},
    http::{AppJson, AppState, RequestContext},
};
use session::SessionToken;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_up))
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(me))
        .merge(account::router())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schema(example = "ada@example.com", value_type = String)]
    email: Option<String>,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    password: Option<SecretString>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserResponse {
    id: Uuid,
    email: String,
    /// What the web app calls the user; absent until they set one.
    display_name: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<db::users::UserRow> for UserResponse {
    fn from(row: db::users::UserRow) -> Self {
        Self { id: row.user_id, email: row.email, display_name: row.display_name, created_at: row.created_at }
    }
}

/// Both fields, every problem reported at once.
fn parse_credentials(body: Credentials) -> Result<(Email, SecretString)> {
    let email = Email::parse("email", body.email.as_deref().unwrap_or_default());
    let password = body.password.ok_or_else(|| crate::domain::FieldError::new("password", "is required"));
    match (email, password) {
        (Ok(e), Ok(p)) => Ok((e, p)),
        (e, p) => Err(AppError::Validation(e.err().into_iter().chain(p.err()).collect())),
    }
}

/// The rate-limit key of the request's client; requests without a known address share one.
fn client(ctx: &RequestContext) -> String {
    ctx.client_ip.map_or_else(|| "unknown".to_owned(), rate_limit::client_key)
}

/// Creates the session and the response that hands its cookie to the browser.
async fn start_session(
    state: &AppState,
    user: db::users::UserRow,
    status: StatusCode,
) -> Result<impl IntoResponse + use<>> {
    let token = SessionToken::generate();
    let ttl = chrono::Duration::days(i64::from(state.config.session_ttl_days));
    db::sessions::insert(&state.db, &token.hash(), user.user_id, Utc::now() + ttl).await?;
    let cookie = token.cookie(ttl.num_seconds().unsigned_abs(), state.config.cookie_secure);
    Ok((status, [(header::SET_COOKIE, cookie)], axum::Json(UserResponse::from(user))))
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = Credentials,
    responses(
        (status = 201, description = "Account created; the session cookie is set", body = UserResponse),
        (status = 400, description = "Invalid email or password", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email already has an account", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
async fn sign_up(
    State(state): State<AppState>,
    ctx: RequestContext,
    AppJson(body): AppJson<Credentials>,
) -> Result<impl IntoResponse> {
    state.auth_limiter.attempt(&state.db, &client(&ctx)).await?;
    let (email, password) = parse_credentials(body)?;
    let password = Password::parse("password", password)?;
    let password_hash = state.hasher.hash(password.expose().to_owned()).await?;
    let mut tx = state.db.begin().await?;
    let user = db::users::insert(&mut *tx, Uuid::now_v7(), email.as_str(), &password_hash)
        .await
        .on_constraint(db::users::EMAIL_KEY, || AppError::Conflict {
            code: "email_taken",
            detail: "an account with this email already exists; sign in instead".into(),
        })?;
    db::preferences::insert_defaults(&mut *tx, user.user_id).await?;
    tx.commit().await?;
    tracing::info!(user.id = %user.user_id, "account created");
    start_session(&state, user, StatusCode::CREATED).await
}

/// Sign in with email and password.
///
/// A new session is created on every sign-in and the one the browser carried (if any) is
/// ended, so a session id planted before sign-in is worthless after it.
#[utoipa::path(post, path = "/auth/signin", tag = "auth", request_body = Credentials,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = UserResponse),
        (status = 400, description = "Missing or malformed fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Email or password is incorrect", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
async fn sign_in(
    State(state): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    AppJson(body): AppJson<Credentials>,
) -> Result<impl IntoResponse> {
    let (email, password) = parse_credentials(body)?;
    let client = client(&ctx);
    let limiter = &state.auth_limiter;
    limiter.attempt(&state.db, &client).await?;
    limiter.refuse_while_backing_off(&state.db, email.as_str(), &client).await?;
    let user = db::users::find_by_email(&state.db, email.as_str()).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified =
        state.hasher.verify(secrecy::ExposeSecret::expose_secret(&password).to_owned(), stored_hash).await?;
    let Some(user) = user.filter(|_| verified) else {
        tracing::info!("sign-in refused");
        limiter.failed(&state.db, email.as_str(), &client).await?;
        return Err(AppError::InvalidCredentials);
    };
    limiter.succeeded(&state.db, email.as_str(), &client).await?;
    if let Some(old) = session::token_from(&headers) {
        end_session(&state, &old).await?;
    }
    tracing::info!(user.id = %user.user_id, "signed in");
    start_session(&state, user, StatusCode::OK).await
}

/// End the current session. Succeeds whether or not one was active.
#[utoipa::path(post, path = "/auth/signout", tag = "auth",
    responses((status = 204, description = "Signed out; the session cookie is cleared")))]
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse> {
    if let Some(token) = session::token_from(&headers) {
        end_session(&state, &token).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session::clearing_cookie(state.config.cookie_secure))]))
}

/// Deletes the session, and forgets it on this replica at once.
async fn end_session(state: &AppState, token: &str) -> Result<()> {
    let hash = session::hash_token(token);
    db::sessions::delete(&state.db, &hash).await?;
    state.sessions.remove(&hash);
    Ok(())
}

/// The signed-in user.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses(
        (status = 200, body = UserResponse),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
async fn me(State(state): State<AppState>, auth: AuthUser) -> Result<axum::Json<UserResponse>> {
    let user = db::users::find(&state.db, auth.user_id).await?.ok_or(AppError::Unauthenticated)?;
    Ok(axum::Json(user.into()))
}
