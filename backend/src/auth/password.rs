//! Password hashing with Argon2id (the crate's defaults: the OWASP-recommended parameters),
//! on the blocking pool so a burst of sign-ins does not stall the async workers.
//!
//! Each hash takes ~19 MiB and a core for tens of milliseconds. Unbounded, a burst of 100
//! sign-ins ran 100 hashes at once and held ~2 GiB; at most one hash per core runs at a time and
//! the rest queue, which finishes the burst just as fast with a fraction of the memory.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier, password_hash::phc::PasswordHash};
use tokio::sync::Semaphore;

static HASHING_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

pub async fn hash(password: String) -> anyhow::Result<String> {
    let _slot = HASHING_SLOTS.acquire().await.context("the hashing slots were closed")?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
    })
    .await
    .context("the hashing task panicked")?
}

/// Verifies against the stored hash, or, for an unknown account, against a decoy so the
/// answer takes as long either way and timing does not reveal which emails have accounts.
pub async fn verify(password: String, stored_hash: Option<String>) -> anyhow::Result<bool> {
    static DECOY: LazyLock<Option<String>> = LazyLock::new(|| {
        Argon2::default().hash_password(b"decoy password for unknown accounts").ok().map(|h| h.to_string())
    });
    let _slot = HASHING_SLOTS.acquire().await.context("the hashing slots were closed")?;
    tokio::task::spawn_blocking(move || {
        let known = stored_hash.is_some();
        let Some(hash) = stored_hash.or_else(|| DECOY.clone()) else { return Ok(false) };
        let parsed =
            PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash is unreadable: {e}"))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known)
    })
    .await
    .context("the verification task panicked")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), Some(hash.clone())).await.unwrap());
        assert!(!verify("wrong horse".into(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(!verify("decoy password for unknown accounts".into(), None).await.unwrap());
    }
}
