//! The model's daily budget: calls and tokens per account and for the whole service, per UTC
//! day, counted in PostgreSQL so every replica spends from the same budget. Sign-up is free
//! and each message may take several model calls, so without it one script could spend the
//! provider account.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    config::ChatConfig,
    db::{
        self,
        chat_usage::{Limits, Reservation},
    },
    error::{AppError, Result},
};

pub const CALLS: &str = "chat_model_calls_total";
pub const TOKENS: &str = "chat_model_tokens_total";
pub const REFUSALS: &str = "chat_budget_refusals_total";
pub const SERVICE_CALLS_TODAY: &str = "chat_budget_service_calls_today";
pub const SERVICE_TOKENS_TODAY: &str = "chat_budget_service_tokens_today";

#[derive(Debug, Clone, Copy)]
pub struct Budget {
    limits: Limits,
}

impl Budget {
    pub fn from_config(config: &ChatConfig) -> Self {
        Self {
            limits: Limits {
                user_calls: config.chat_daily_calls_per_user,
                user_tokens: config.chat_daily_tokens_per_user,
                total_calls: config.chat_daily_calls_total,
                total_tokens: config.chat_daily_tokens_total,
            },
        }
    }

    /// Counts one model call for `user_id`, or refuses it: 429 when the account's budget for
    /// today is spent, 503 when the service's is, either way until midnight UTC.
    pub async fn reserve(&self, db: &sqlx::PgPool, user_id: Uuid) -> Result<()> {
        let (scope, service_wide) = match db::chat_usage::reserve_call(db, user_id, self.limits).await? {
            Reservation::Granted { total_calls, total_tokens } => {
                metrics::counter!(CALLS).increment(1);
                metrics::gauge!(SERVICE_CALLS_TODAY).set(total_calls as f64);
                metrics::gauge!(SERVICE_TOKENS_TODAY).set(total_tokens as f64);
                return Ok(());
            }
            Reservation::AccountSpent => ("account", false),
            Reservation::ServiceSpent => ("service", true),
        };
        metrics::counter!(REFUSALS, "scope" => scope).increment(1);
        let retry_after = until_next_day(Utc::now());
        let detail = if service_wide {
            "the assistant has reached its daily limit for everyone; it is available again after midnight UTC"
        } else {
            "you have reached the assistant's daily limit; it is available again after midnight UTC"
        };
        Err(AppError::LimitReached {
            code: if service_wide { "assistant_budget_exhausted" } else { "assistant_daily_limit" },
            detail: detail.to_owned(),
            retry_after,
            service_wide,
        })
    }

    /// Adds the tokens the provider reported for a call.
    pub async fn record(&self, db: &sqlx::PgPool, user_id: Uuid, tokens: u32) -> Result<()> {
        metrics::counter!(TOKENS).increment(u64::from(tokens));
        let total = db::chat_usage::record_tokens(db, user_id, tokens).await?;
        metrics::gauge!(SERVICE_TOKENS_TODAY).set(total as f64);
        Ok(())
    }
}

/// The time from `now` to the next midnight UTC, when the daily budgets start afresh.
fn until_next_day(now: DateTime<Utc>) -> Duration {
    let midnight = now.date_naive().succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc());
    midnight
        .and_then(|m| (m - now).to_std().ok())
        .unwrap_or(Duration::from_hours(1))
        .max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_refusal_lasts_until_midnight_utc() {
        let at = |h, m, s| Utc.with_ymd_and_hms(2026, 12, 31, h, m, s).unwrap();
        assert_eq!(until_next_day(at(23, 59, 30)), Duration::from_secs(30));
        assert_eq!(until_next_day(at(0, 0, 0)), Duration::from_hours(24));
        assert_eq!(until_next_day(at(12, 0, 0)), Duration::from_hours(12));
    }
}
