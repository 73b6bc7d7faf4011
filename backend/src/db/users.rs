//! Accounts.

use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
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
         returning user_id, email, password_hash, created_at",
    )
    .bind(user_id)
    .bind(email)
    .bind(password_hash)
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn find_by_email(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as("select user_id, email, password_hash, created_at from app_user where email = $1")
        .bind(email)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn find(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as("select user_id, email, password_hash, created_at from app_user where user_id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await
}
