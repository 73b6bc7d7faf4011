//! Stored responses for `Idempotency-Key` retries.

use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, sqlx::FromRow)]
pub struct StoredResponse {
    pub request_hash: Vec<u8>,
    pub response_status: i16,
    pub response_body: serde_json::Value,
}

pub const PRIMARY_KEY: &str = "idempotency_key_pkey";

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn find(db: impl PgExecutor<'_>, user_id: Uuid, key: &str) -> sqlx::Result<Option<StoredResponse>> {
    sqlx::query_as(
        "select request_hash, response_status, response_body from idempotency_key
         where user_id = $1 and idempotency_key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(db)
    .await
}

/// Records the response in the same transaction as the effect. A concurrent request with the
/// same key blocks on the primary key until this one commits, then fails on it.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn insert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    key: &str,
    request_hash: &[u8],
    status: i16,
    body: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into idempotency_key (user_id, idempotency_key, request_hash, response_status, response_body)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(status)
    .bind(body)
    .execute(db)
    .await?;
    Ok(())
}

/// Keys are honoured for a day: long enough for any client retry loop.
pub async fn purge_expired(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let result = sqlx::query("delete from idempotency_key where created_at < now() - interval '24 hours'")
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
