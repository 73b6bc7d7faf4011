//! The Web Push delivery queue (`push_delivery`, filled by a trigger on `suggestion`) and the
//! subscriptions it sends to. The backend registers subscriptions; the sender only removes
//! those the push service says are gone.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A due delivery with what the message needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueDelivery {
    pub push_delivery_id: Uuid,
    /// Failed tries so far.
    pub attempts: i32,
    pub suggestion_id: Uuid,
    pub kind: String,
    pub title: String,
    pub message: String,
    /// Only `open` suggestions are pushed: one the user already acted on in a tab is not.
    pub status: String,
    pub push_subscription_id: Uuid,
    pub endpoint: String,
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
}

/// Locks up to `limit` deliveries due by `now`, earliest first, for the caller's transaction;
/// rows another sender (replica) holds are skipped, so no push goes out twice from concurrent
/// passes. Served by `push_delivery_due_idx`; the joins by primary keys.
#[tracing::instrument(skip_all)]
pub async fn claim_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<DueDelivery>> {
    sqlx::query_as(
        "select d.push_delivery_id, d.attempts, s.suggestion_id, s.kind, s.title, s.message, s.status,
                p.push_subscription_id, p.endpoint, p.p256dh, p.auth
         from push_delivery d
         join suggestion s on s.suggestion_id = d.suggestion_id
         join push_subscription p on p.push_subscription_id = d.push_subscription_id
         where d.next_attempt_at <= $1
         order by d.next_attempt_at
         limit $2
         for update of d skip locked",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Sent, refused or given up: the row goes (by primary key).
#[tracing::instrument(skip_all, fields(push_delivery.id = %id))]
pub async fn remove(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from push_delivery where push_delivery_id = $1").bind(id).execute(db).await?;
    Ok(())
}

/// A failed try: counted, and due again at `next_attempt_at`.
#[tracing::instrument(skip_all, fields(push_delivery.id = %id))]
pub async fn postpone(db: impl PgExecutor<'_>, id: Uuid, next_attempt_at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query(
        "update push_delivery set attempts = attempts + 1, next_attempt_at = $2 where push_delivery_id = $1",
    )
    .bind(id)
    .bind(next_attempt_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The push service says the subscription is gone (404/410): it goes, with its queued
/// deliveries (`push_delivery_subscription_idx` serves the cascade).
#[tracing::instrument(skip_all, fields(push_subscription.id = %id))]
pub async fn remove_subscription(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from push_subscription where push_subscription_id = $1").bind(id).execute(db).await?;
    Ok(())
}
