//! Per-user preferences; one row per user, created with the account.

use chrono::NaiveTime;
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PreferencesRow {
    pub autonomous_agents_enabled: bool,
    pub reminder_offset_minutes: i32,
    pub time_zone: String,
    /// A bit per ISO weekday, Monday = bit 0.
    pub work_days: i16,
    pub work_start: NaiveTime,
    pub work_end: NaiveTime,
    pub daily_plan_size: i16,
    /// The user's Inbox, where new tasks go unless they name a project. Read with the
    /// preferences (and cached with them) because every create needs it and it never changes.
    pub inbox_id: Uuid,
}

macro_rules! preference_columns {
    () => {
        "autonomous_agents_enabled, reminder_offset_minutes, time_zone, work_days, work_start, work_end,
         daily_plan_size,
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

/// The fields a preferences update sets; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct PreferencesUpdate<'a> {
    pub autonomous_agents_enabled: Option<bool>,
    pub reminder_offset_minutes: Option<i32>,
    pub time_zone: Option<&'a str>,
    pub work_days: Option<i16>,
    pub work_start: Option<NaiveTime>,
    pub work_end: Option<NaiveTime>,
    pub daily_plan_size: Option<i16>,
}

/// The check that the working day ends after it starts ([`update`] can break it by setting
/// one end alone).
pub const WORK_HOURS_CHECK: &str = "user_preference_work_hours";

/// Sets the given fields, leaving `None` ones as they are.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn update(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    change: &PreferencesUpdate<'_>,
) -> sqlx::Result<PreferencesRow> {
    sqlx::query_as(concat!(
        "update user_preference set
             autonomous_agents_enabled = coalesce($2, autonomous_agents_enabled),
             reminder_offset_minutes = coalesce($3, reminder_offset_minutes),
             time_zone = coalesce($4, time_zone),
             work_days = coalesce($5, work_days),
             work_start = coalesce($6, work_start),
             work_end = coalesce($7, work_end),
             daily_plan_size = coalesce($8, daily_plan_size)
         where user_id = $1
         returning ",
        preference_columns!()
    ))
    .bind(user_id)
    .bind(change.autonomous_agents_enabled)
    .bind(change.reminder_offset_minutes)
    .bind(change.time_zone)
    .bind(change.work_days)
    .bind(change.work_start)
    .bind(change.work_end)
    .bind(change.daily_plan_size)
    .fetch_one(db)
    .await
}
