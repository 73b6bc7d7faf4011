//! Throttling of sign-in and sign-up attempts, per client address and per account.
//!
//! In-process (per replica): a determined attacker spread over replicas gets a few times the
//! budget, which still turns a password-guessing run from seconds into years. A shared limit
//! would need a store the product does not otherwise require.

use std::{num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::error::AppError;

pub struct AuthRateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl AuthRateLimiter {
    /// `per_minute == 0` disables the limit.
    pub fn new(per_minute: u32) -> Self {
        Self { limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))) }
    }

    /// Counts one attempt against each key; the first exhausted key refuses it with the time
    /// until the next attempt is allowed.
    pub fn check(&self, keys: &[String]) -> Result<(), AppError> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        for key in keys {
            if let Err(not_until) = limiter.check_key(key) {
                let retry_after: Duration = not_until.wait_time_from(DefaultClock::default().now());
                return Err(AppError::RateLimited { retry_after });
            }
        }
        Ok(())
    }

    /// Forgets keys whose budget has refilled, so the table does not grow without bound.
    pub fn shrink(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_attempt_in_a_minute_is_refused_with_a_wait() {
        let limiter = AuthRateLimiter::new(10);
        let key = vec!["ip:127.0.0.1".to_owned()];
        for _ in 0..10 {
            limiter.check(&key).unwrap();
        }
        match limiter.check(&key) {
            Err(AppError::RateLimited { retry_after }) => assert!(retry_after > Duration::ZERO),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        limiter.check(&["ip:10.0.0.1".to_owned()]).unwrap();
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = AuthRateLimiter::new(0);
        for _ in 0..100 {
            limiter.check(&["k".to_owned()]).unwrap();
        }
    }
}
