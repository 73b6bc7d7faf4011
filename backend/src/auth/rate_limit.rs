//! Throttling shared by every replica, kept in PostgreSQL (one statement per check, see
//! [`db::rate_limits`]): attempt volume per client address, per-user budgets, and the back-off
//! of failed sign-ins per (email, client address).
//!
//! Failed sign-ins are counted per pair, not per email: counting per email would let anyone
//! who knows an address keep its owner locked out. The owner signing in from elsewhere is
//! never slowed by someone else's failures; the per-address volume limit keeps one client
//! from spraying guesses over many accounts.

use std::{
    net::{IpAddr, Ipv6Addr},
    time::Duration,
};

use sqlx::PgPool;

use crate::{
    config::Config,
    db::{self, rate_limits::Backoff},
    error::AppError,
};

/// `limit` hits per key per fixed window, held in the database so every replica draws on the
/// same budget. A fixed window lets a client spend up to twice the limit across a window
/// boundary; that is the price of one row and one statement per check.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
}

impl RateLimiter {
    /// `limit == 0` disables the limit.
    pub fn per_minute(limit: u32) -> Self {
        Self { limit, window: Duration::from_mins(1) }
    }

    /// Counts one hit against `key`; over the limit, refuses it with the time until the window
    /// ends.
    pub async fn check(&self, db: &PgPool, key: &str) -> Result<(), AppError> {
        if self.limit == 0 {
            return Ok(());
        }
        let (hits, seconds_left) = db::rate_limits::hit(db, key, self.window).await?;
        if hits.unsigned_abs() > self.limit {
            return Err(AppError::RateLimited { retry_after: seconds(seconds_left) });
        }
        Ok(())
    }
}

fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::ZERO)
}

/// The rate-limit key of a client address: IPv4 addresses as they are, IPv6 by their /64
/// (one subscriber usually holds a whole /64, so per-address keys would be free to rotate).
pub fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// Sign-in and sign-up throttling.
pub struct AuthRateLimiter {
    attempts: RateLimiter,
    backoff: Backoff,
}

impl AuthRateLimiter {
    pub fn from_config(config: &Config) -> Self {
        let auth = &config.auth_limits;
        Self {
            attempts: RateLimiter::per_minute(config.auth_rate_limit_per_minute),
            backoff: Backoff {
                free: auth.auth_failures_before_backoff,
                base: Duration::from_secs(auth.auth_backoff_base_secs),
                cap: Duration::from_secs(auth.auth_backoff_max_secs),
                window: Duration::from_secs(auth.auth_failure_window_secs),
            },
        }
    }

    /// Counts one sign-in or sign-up attempt against the client's address.
    pub async fn attempt(&self, db: &PgPool, client: &str) -> Result<(), AppError> {
        self.attempts.check(db, &format!("ip:{client}")).await
    }

    /// Refuses a sign-in of `email` from `client` while that pair is backing off, before any
    /// password is checked.
    pub async fn refuse_while_backing_off(
        &self,
        db: &PgPool,
        email: &str,
        client: &str,
    ) -> Result<(), AppError> {
        match db::rate_limits::sign_in_blocked_for(db, email, client).await? {
            Some(left) => Err(AppError::RateLimited { retry_after: seconds(left) }),
            None => Ok(()),
        }
    }

    pub async fn failed(&self, db: &PgPool, email: &str, client: &str) -> Result<(), AppError> {
        let failures = db::rate_limits::record_sign_in_failure(db, email, client, self.backoff).await?;
        tracing::info!(failures, "sign-in failure recorded");
        Ok(())
    }

    pub async fn succeeded(&self, db: &PgPool, email: &str, client: &str) -> Result<(), AppError> {
        Ok(db::rate_limits::clear_sign_in_failures(db, email, client).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_keyed_by_their_slash_64_and_ipv4_by_the_whole_address() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
        // An IPv4 client seen through a dual-stack socket is still that IPv4 address.
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
    }
}
