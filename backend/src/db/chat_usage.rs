//! The chat model's daily spend, per account and for the whole service (per UTC day).

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// A day's budget; 0 in a field is no limit.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub user_calls: u32,
    pub user_tokens: u64,
    pub total_calls: u32,
    pub total_tokens: u64,
}

/// What a reservation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted; the service's usage today after it.
    Granted { total_calls: i64, total_tokens: i64 },
    /// The account's budget for today is spent; nothing was counted.
    AccountSpent,
    /// The service's budget for today is spent; nothing was counted.
    ServiceSpent,
}

fn limit(value: u64) -> i64 {
    if value == 0 { i64::MAX } else { i64::try_from(value).unwrap_or(i64::MAX) }
}

/// Counts one model call against the account and the service for today (UTC, by the
/// database's clock), unless either has spent its calls or tokens. One statement takes both
/// row locks and counts both or neither, so concurrent calls on any replica cannot overshoot
/// the call limits; the token limits are checked against the tokens recorded so far, so the
/// calls in flight when one is reached may go past it.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn reserve_call(db: &PgPool, user_id: Uuid, limits: Limits) -> sqlx::Result<Reservation> {
    // The two upserts are conditional: an account row over its limit updates nothing, and the
    // service row is only touched when the account row was. The service row refusing after the
    // account row counted is undone by rolling the transaction back.
    let mut tx = db.begin().await?;
    let (account, total_calls, total_tokens): (bool, Option<i64>, Option<i64>) = sqlx::query_as(
        "with account as (
             insert into chat_usage (user_id, day, calls) values ($1, (now() at time zone 'utc')::date, 1)
             on conflict (user_id, day) do update set calls = chat_usage.calls + 1
             where chat_usage.calls < $2 and chat_usage.tokens < $3
             returning calls
         ), total as (
             insert into chat_usage_total (day, calls)
             select (now() at time zone 'utc')::date, 1 where exists (select 1 from account)
             on conflict (day) do update set calls = chat_usage_total.calls + 1
             where chat_usage_total.calls < $4 and chat_usage_total.tokens < $5
             returning calls, tokens
         )
         select exists (select 1 from account), (select calls::int8 from total), (select tokens from total)",
    )
    .bind(user_id)
    .bind(limit(u64::from(limits.user_calls)))
    .bind(limit(limits.user_tokens))
    .bind(limit(u64::from(limits.total_calls)))
    .bind(limit(limits.total_tokens))
    .fetch_one(&mut *tx)
    .await?;
    let reservation = match (account, total_calls, total_tokens) {
        (false, ..) => Reservation::AccountSpent,
        (true, Some(total_calls), Some(total_tokens)) => Reservation::Granted { total_calls, total_tokens },
        (true, ..) => Reservation::ServiceSpent,
    };
    if matches!(reservation, Reservation::Granted { .. }) {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(reservation)
}

/// Adds the tokens a model call used to today's account and service rows.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn record_tokens(db: impl PgExecutor<'_>, user_id: Uuid, tokens: u32) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "with account as (
             update chat_usage set tokens = tokens + $2
             where user_id = $1 and day = (now() at time zone 'utc')::date
         )
         update chat_usage_total set tokens = tokens + $2
         where day = (now() at time zone 'utc')::date
         returning tokens",
    )
    .bind(user_id)
    .bind(i64::from(tokens))
    .fetch_optional(db)
    .await
    .map(Option::unwrap_or_default)
}

/// Drops the usage of days over a week past; only today's counts, the rest is for a look back.
pub async fn purge_expired(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "with total as (delete from chat_usage_total where day < (now() at time zone 'utc')::date - 7)
         delete from chat_usage where day < (now() at time zone 'utc')::date - 7",
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
