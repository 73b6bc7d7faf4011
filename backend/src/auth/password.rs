//! Password hashing with Argon2id (the crate's defaults: the OWASP-recommended parameters).
//!
//! Each hash needs ~19 MiB and a core for tens of milliseconds. Hashes run on dedicated
//! threads, one per core but one (so a burst of sign-ins never takes every core from the
//! requests being served), fed through a queue; memory stays at one hash buffer per thread. (On tokio's blocking pool every hash could land on a different thread, and the
//! allocator kept a 19 MiB buffer in each thread's arena: half a gigabyte after a burst.)

use std::sync::{Arc, LazyLock, Mutex, mpsc};

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier, password_hash::phc::PasswordHash};
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

static HASHERS: LazyLock<mpsc::Sender<Job>> = LazyLock::new(|| {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
    for i in 0..threads {
        let receiver = Arc::clone(&receiver);
        let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || {
            loop {
                let job = match receiver.lock() {
                    Ok(queue) => queue.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error.message = %e, "cannot start a password hashing thread");
        }
    }
    sender
});

/// Runs `work` on a hashing thread and waits for its result without blocking the runtime.
async fn on_hasher<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    HASHERS.send(job).map_err(|_| anyhow::anyhow!("the hashing threads are gone"))?;
    result.await.context("a hashing job was dropped")
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    on_hasher(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
    })
    .await?
}

/// Verifies against the stored hash, or, for an unknown account, against a decoy so the
/// answer takes as long either way and timing does not reveal which emails have accounts.
pub async fn verify(password: String, stored_hash: Option<String>) -> anyhow::Result<bool> {
    static DECOY: LazyLock<Option<String>> = LazyLock::new(|| {
        Argon2::default().hash_password(b"decoy password for unknown accounts").ok().map(|h| h.to_string())
    });
    on_hasher(move || {
        let known = stored_hash.is_some();
        let Some(hash) = stored_hash.or_else(|| DECOY.clone()) else { return Ok(false) };
        let parsed =
            PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash is unreadable: {e}"))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known)
    })
    .await?
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
