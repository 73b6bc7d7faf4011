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
    cache::TtlCache,
    config::Config,
    db::{self, rate_limits::Backoff},
    error::AppError,
};

/// `limit` hits per key per fixed window, held in the database so every replica draws on the
/// same budget. A fixed window lets a client spend up to twice the limit across a window
/// boundary; that is the price of one row per key.
///
/// A replica takes hits from the shared count in blocks (a lease of up to a twentieth of the
/// limit, see [`lease_size`]) and spends them locally until the window ends, so a busy user
/// costs one statement per block rather than one per request: that statement and its commit
/// were a fifth of the database's work per created task. Every hit is counted before it is
/// spent, so no window admits more than `limit`; a user near the limit may be refused up to
/// one block per other replica early, by hits leased there and not yet spent.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    lease: u32,
    /// Per key: hits leased by this replica and not yet spent, until the window ends.
    leased: TtlCache<String, u32>,
}

/// Keys with a lease held at once; past this the cache sheds ended windows, then starts over
/// (a lost lease only costs a statement, and its hits stay counted: it errs towards refusing).
const LEASE_CAPACITY: usize = 50_000;

impl RateLimiter {
    /// `limit == 0` disables the limit.
    pub fn per_minute(limit: u32) -> Self {
        let window = Duration::from_mins(1);
        Self { limit, window, lease: lease_size(limit), leased: TtlCache::new(window, LEASE_CAPACITY) }
    }

    /// Counts one hit against `key`; over the limit, refuses it with the time until the window
    /// ends.
    pub async fn check(&self, db: &PgPool, key: &str) -> Result<(), AppError> {
        if self.limit == 0 || self.leased.update(key, spend_one) == Some(true) {
            return Ok(());
        }
        let (hits, seconds_left) = db::rate_limits::hit(db, key, self.window, self.lease).await?;
        let granted = granted(self.limit, self.lease, hits);
        if granted == 0 {
            return Err(AppError::RateLimited { retry_after: seconds(seconds_left) });
        }
        if granted > 1 {
            // A lease taken at the same moment by another request for this key may be replaced
            // here; its hits stay counted, which errs towards refusing early, never late.
            self.leased.insert(key.to_owned(), granted - 1, Some(seconds(seconds_left)));
        }
        Ok(())
    }
}

/// The block a replica leases: a twentieth of the limit, between 1 and 50. Small limits (sign-in
/// attempts, chat messages) lease one hit at a time, which keeps them exact across replicas.
fn lease_size(limit: u32) -> u32 {
    (limit / 20).clamp(1, 50)
}

/// How many of the `lease` hits just counted (bringing the window to `hits_after`) fall within
/// `limit`: the request's own hit and the rest of the lease; zero refuses the request.
fn granted(limit: u32, lease: u32, hits_after: i32) -> u32 {
    let before = u32::try_from(hits_after).unwrap_or(0).saturating_sub(lease);
    limit.saturating_sub(before).min(lease)
}

/// Spends one leased hit if any is left.
fn spend_one(left: &mut u32) -> bool {
    let spent = *left > 0;
    *left = left.saturating_sub(1);
    spent
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
    fn leases_are_a_twentieth_of_the_limit_within_bounds() {
        assert_eq!(lease_size(10), 1);
        assert_eq!(lease_size(20), 1);
        assert_eq!(lease_size(600), 30);
        assert_eq!(lease_size(1_000_000_000), 50);
    }

    #[test]
    fn a_lease_is_granted_only_up_to_the_limit() {
        // Limit 600, leases of 30: the window had 0, 570, 590, 600 and 1,000 hits before.
        assert_eq!(granted(600, 30, 30), 30);
        assert_eq!(granted(600, 30, 600), 30);
        assert_eq!(granted(600, 30, 620), 10, "only the hits below the limit are granted");
        assert_eq!(granted(600, 30, 630), 0);
        assert_eq!(granted(600, 30, 1_030), 0);
        // One hit at a time is the plain counter.
        assert_eq!(granted(10, 1, 10), 1);
        assert_eq!(granted(10, 1, 11), 0);
    }

    #[test]
    fn a_leased_hit_is_spent_once() {
        let mut left = 2;
        assert!(spend_one(&mut left));
        assert!(spend_one(&mut left));
        assert!(!spend_one(&mut left));
        assert_eq!(left, 0);
    }

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
