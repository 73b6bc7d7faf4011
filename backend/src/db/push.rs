//! Push subscriptions (the ai-agent reads them and the delivery queue with its own SQL).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PushSubscriptionRow {
    pub push_subscription_id: Uuid,
    pub endpoint: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct NewRow<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub endpoint: &'a str,
    pub p256dh: &'a [u8],
    pub auth: &'a [u8],
    pub label: Option<&'a str>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Drops the endpoint's registration by another user (the browser changed hands, or its user
/// signed in to another account), with what was queued for it: that user's reminders must not
/// reach this one. Served by `push_subscription_endpoint_key`.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn remove_others_endpoint(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    endpoint: &str,
) -> sqlx::Result<()> {
    sqlx::query("delete from push_subscription where endpoint = $1 and user_id <> $2")
        .bind(endpoint)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Inserts the subscription, or replaces the keys, label and expiry of the same endpoint's row
/// (keeping its id and queued deliveries). A replaced row counts as new for the per-user cap. `user_id` is set too, for a concurrent registration
/// of the same endpoint by another user that [`remove_others_endpoint`] could not see.
#[tracing::instrument(skip_all, fields(user.id = %new.user_id))]
pub async fn upsert(db: impl PgExecutor<'_>, new: &NewRow<'_>) -> sqlx::Result<PushSubscriptionRow> {
    sqlx::query_as(
        "insert into push_subscription (push_subscription_id, user_id, endpoint, p256dh, auth, label, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict on constraint push_subscription_endpoint_key do update
            set user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
                label = excluded.label, expires_at = excluded.expires_at, created_at = now()
         returning push_subscription_id, endpoint, label, created_at",
    )
    .bind(new.id)
    .bind(new.user_id)
    .bind(new.endpoint)
    .bind(new.p256dh)
    .bind(new.auth)
    .bind(new.label)
    .bind(new.expires_at)
    .fetch_one(db)
    .await
}

/// Deletes the user's subscriptions beyond the newest `keep`. Served by
/// `push_subscription_user_idx`.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn keep_newest(db: impl PgExecutor<'_>, user_id: Uuid, keep: i64) -> sqlx::Result<u64> {
    let deleted = sqlx::query(
        "delete from push_subscription where push_subscription_id in (
             select push_subscription_id from push_subscription where user_id = $1
             order by created_at desc, push_subscription_id desc offset $2)",
    )
    .bind(user_id)
    .bind(keep)
    .execute(db)
    .await?;
    Ok(deleted.rows_affected())
}

/// The user's subscriptions, oldest first (`push_subscription_user_idx`).
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn list(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<PushSubscriptionRow>> {
    sqlx::query_as(
        "select push_subscription_id, endpoint, label, created_at from push_subscription
         where user_id = $1 order by created_at, push_subscription_id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Whether the user's subscription existed (by primary key).
#[tracing::instrument(skip_all, fields(push_subscription.id = %id))]
pub async fn delete(db: impl PgExecutor<'_>, user_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let deleted =
        sqlx::query("delete from push_subscription where push_subscription_id = $1 and user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(db)
            .await?;
    Ok(deleted.rows_affected() == 1)
}
