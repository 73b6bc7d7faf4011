//! The per-user quotas in force; the triggers that enforce them read this one row.

use sqlx::PgExecutor;

use crate::config::QuotaConfig;

/// Writes the configured quotas; every replica does so at start-up, so they share one config.
pub async fn apply(db: impl PgExecutor<'_>, quotas: &QuotaConfig) -> sqlx::Result<()> {
    let as_int = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    sqlx::query(
        "update quota_setting set max_tasks_per_user = $1, max_conversations_per_user = $2,
             max_messages_per_conversation = $3",
    )
    .bind(as_int(quotas.max_tasks_per_user))
    .bind(as_int(quotas.max_conversations_per_user))
    .bind(as_int(quotas.max_messages_per_conversation))
    .execute(db)
    .await?;
    Ok(())
}
