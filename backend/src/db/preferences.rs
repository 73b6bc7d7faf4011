//! Per-user preferences; one row per user, created with the account.

use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PreferencesRow {
    pub autonomous_agents_enabled: bool,
    pub reminder_offset_minutes: i32,
    pub time_zone: String,
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn insert_defaults(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("insert into user_preference (user_id) values ($1)").bind(user_id).execute(db).await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn get(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<PreferencesRow> {
    sqlx::query_as(
        "select autonomous_agents_enabled, reminder_offset_minutes, time_zone
         from user_preference where user_id = $1",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// Sets the given fields, leaving `None` ones as they are.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn update(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    autonomous_agents_enabled: Option<bool>,
    reminder_offset_minutes: Option<i32>,
    time_zone: Option<&str>,
) -> sqlx::Result<PreferencesRow> {
    sqlx::query_as(
        "update user_preference set
             autonomous_agents_enabled = coalesce($2, autonomous_agents_enabled),
             reminder_offset_minutes = coalesce($3, reminder_offset_minutes),
             time_zone = coalesce($4, time_zone)
         where user_id = $1
         returning autonomous_agents_enabled, reminder_offset_minutes, time_zone",
    )
    .bind(user_id)
    .bind(autonomous_agents_enabled)
    .bind(reminder_offset_minutes)
    .bind(time_zone)
    .fetch_one(db)
    .await
}
