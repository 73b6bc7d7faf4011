//! Per-user preferences; one row per user, created with the account.

use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PreferencesRow {
    pub autonomous_agents_enabled: bool,
    pub reminder_offset_minutes: i32,
    pub time_zone: String,
    /// The user's Inbox, where new tasks go unless they name a project. Read with the
    /// preferences (and cached with them) because every create needs it and it never changes.
    pub inbox_id: Uuid,
}

macro_rules! preference_columns {
    () => {
        "autonomous_agents_enabled, reminder_offset_minutes, time_zone,
         (select project_id from project p where p.user_id = user_preference.user_id and p.is_inbox) as inbox_id"
    };
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn insert_defaults(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("insert into user_preference (user_id) values ($1)").bind(user_id).execute(db).await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn get(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<PreferencesRow> {
    sqlx::query_as(concat!("select ", preference_columns!(), " from user_preference where user_id = $1"))
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
    sqlx::query_as(concat!(
        "update user_preference set
             autonomous_agents_enabled = coalesce($2, autonomous_agents_enabled),
             reminder_offset_minutes = coalesce($3, reminder_offset_minutes),
             time_zone = coalesce($4, time_zone)
         where user_id = $1
         returning ",
        preference_columns!()
    ))
    .bind(user_id)
    .bind(autonomous_agents_enabled)
    .bind(reminder_offset_minutes)
    .bind(time_zone)
    .fetch_one(db)
    .await
}
