//! Accounts.

use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub display_name: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

macro_rules! user_columns {
    () => {
        "user_id, email, password_hash, display_name, created_at"
    };
}

pub const EMAIL_KEY: &str = "app_user_email_key";

#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn insert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    email: &str,
    password_hash: &str,
) -> sqlx::Result<UserRow> {
    sqlx::query_as(
        "insert into app_user (user_id, email, password_hash) values ($1, $2, $3)
         returning user_id, email, password_hash, display_name, created_at",
    )
    .bind(user_id)
    .bind(email)
    .bind(password_hash)
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn find_by_email(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(concat!("select ", user_columns!(), " from app_user where email = $1"))
        .bind(email)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn find(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(concat!("select ", user_columns!(), " from app_user where user_id = $1"))
        .bind(user_id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn set_display_name(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    display_name: Option<&str>,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(concat!(
        "update app_user set display_name = $2 where user_id = $1 returning ",
        user_columns!()
    ))
    .bind(user_id)
    .bind(display_name)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn set_password_hash(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    password_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query("update app_user set password_hash = $2 where user_id = $1")
        .bind(user_id)
        .bind(password_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes an account and, through the foreign keys, everything it holds (tasks, projects,
/// reminders, suggestions, conversations, sessions, preferences, counters), plus the dead
/// letters that carried its events. Outbox rows stay: the ones not yet published still go
/// out (the outbox has no foreign keys for that reason), and published ones leave with the
/// outbox's retention purge (`OUTBOX_RETENTION_HOURS`).
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn delete(conn: &mut sqlx::PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    // Dead letters are few and kept for operators; a scan of them is cheap.
    sqlx::query("delete from dead_letter where payload->>'userId' = $1::text")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from app_user where user_id = $1").bind(user_id).execute(&mut *conn).await?;
    Ok(())
}
