//! Rate-limit state shared by every replica: each check is one statement.

use std::time::Duration;

use sqlx::PgExecutor;

/// Counts `count` hits against `key` in its current fixed window (starting a new window of
/// `window` when the last one has ended); returns the hits so far in the window and the
/// seconds until it ends.
#[tracing::instrument(skip_all)]
pub async fn hit(
    db: impl PgExecutor<'_>,
    key: &str,
    window: Duration,
    count: u32,
) -> sqlx::Result<(i32, f64)> {
    sqlx::query_as(
        "insert into rate_limit as r (rate_limit_key, hits, window_ends_at)
         values ($1, $3, now() + make_interval(secs => $2))
         on conflict (rate_limit_key) do update set
             hits = case when r.window_ends_at <= now() then $3 else r.hits + $3 end,
             window_ends_at = case when r.window_ends_at <= now() then excluded.window_ends_at
                                   else r.window_ends_at end
         returning hits, extract(epoch from window_ends_at - now())::float8",
    )
    .bind(key)
    .bind(window.as_secs_f64())
    .bind(i32::try_from(count).unwrap_or(i32::MAX))
    .fetch_one(db)
    .await
}

/// Seconds until `email` may be tried again from `client`, when it is backing off.
#[tracing::instrument(skip_all)]
pub async fn sign_in_blocked_for(
    db: impl PgExecutor<'_>,
    email: &str,
    client: &str,
) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar(
        "select extract(epoch from blocked_until - now())::float8 from sign_in_failure
         where email = $1 and client = $2 and blocked_until > now()",
    )
    .bind(email)
    .bind(client)
    .fetch_optional(db)
    .await
}

/// How failed sign-ins turn into waiting: the first `free` failures cost nothing, each one
/// after that blocks the pair for `base`, doubling per failure up to `cap`; failures are
/// forgotten `window` after the last block ends.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub free: u32,
    pub base: Duration,
    pub cap: Duration,
    pub window: Duration,
}

/// The failure count after this one: a pair whose failures were forgotten starts again at one.
const NEXT_FAILURES: &str = "(case when f.expires_at <= now() then 1 else f.failures + 1 end)";

/// Records a failed sign-in of `email` from `client`; returns the pair's failures so far.
#[tracing::instrument(skip_all)]
pub async fn record_sign_in_failure(
    db: impl PgExecutor<'_>,
    email: &str,
    client: &str,
    backoff: Backoff,
) -> sqlx::Result<i32> {
    let sql = format!(
        "insert into sign_in_failure as f (email, client, failures, blocked_until, expires_at)
         values ($1, $2, 1, now() + sign_in_backoff(1, $3, $4, $5),
                 now() + sign_in_backoff(1, $3, $4, $5) + make_interval(secs => $6))
         on conflict (email, client) do update set
             failures = {NEXT_FAILURES},
             blocked_until = now() + sign_in_backoff({NEXT_FAILURES}, $3, $4, $5),
             expires_at = now() + sign_in_backoff({NEXT_FAILURES}, $3, $4, $5) + make_interval(secs => $6)
         returning failures"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .bind(client)
        .bind(i32::try_from(backoff.free).unwrap_or(i32::MAX))
        .bind(backoff.base.as_secs_f64())
        .bind(backoff.cap.as_secs_f64())
        .bind(backoff.window.as_secs_f64())
        .fetch_one(db)
        .await
}

/// Forgets the failures of `email` from `client` (it signed in).
#[tracing::instrument(skip_all)]
pub async fn clear_sign_in_failures(db: impl PgExecutor<'_>, email: &str, client: &str) -> sqlx::Result<()> {
    sqlx::query("delete from sign_in_failure where email = $1 and client = $2")
        .bind(email)
        .bind(client)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes windows and failure records that have run out; returns how many went.
pub async fn purge_expired(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let removed: i64 = sqlx::query_scalar(
        "with windows as (delete from rate_limit where window_ends_at < now() returning 1),
              failures as (delete from sign_in_failure where expires_at < now() returning 1)
         select (select count(*) from windows) + (select count(*) from failures)",
    )
    .fetch_one(db)
    .await?;
    Ok(removed.unsigned_abs())
}
