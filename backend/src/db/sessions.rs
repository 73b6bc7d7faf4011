//! Sign-in sessions, keyed by the SHA-256 of the cookie token.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn insert(
    db: impl PgExecutor<'_>,
    hash: &[u8],
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("insert into session (session_hash, user_id, expires_at) values ($1, $2, $3)")
        .bind(hash)
        .bind(user_id)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// The user of a live session, and when the session expires.
#[tracing::instrument(skip_all)]
pub async fn find_user(db: impl PgExecutor<'_>, hash: &[u8]) -> sqlx::Result<Option<(Uuid, DateTime<Utc>)>> {
    sqlx::query_as("select user_id, expires_at from session where session_hash = $1 and expires_at > now()")
        .bind(hash)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("delete from session where session_hash = $1").bind(hash).execute(db).await?;
    Ok(())
}

/// Deletes expired sessions; returns how many went.
pub async fn purge_expired(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let result = sqlx::query("delete from session where expires_at < now()").execute(db).await?;
    Ok(result.rows_affected())
}

/// Ends every session of a user but `keep` (when given); returns the hashes that went, so the
/// caller can forget them in its cache at once.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn delete_for_user(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    keep: Option<&[u8]>,
) -> sqlx::Result<Vec<Vec<u8>>> {
    sqlx::query_scalar(
        "delete from session where user_id = $1 and ($2::bytea is null or session_hash <> $2) returning session_hash",
    )
    .bind(user_id)
    .bind(keep)
    .fetch_all(db)
    .await
}
