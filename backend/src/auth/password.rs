//! Password hashing with Argon2id, m = 7 MiB, t = 5, p = 1: the smallest-memory of the
//! configurations the OWASP Password Storage Cheat Sheet lists as equally strong (19 MiB with
//! t = 2, 12 MiB with t = 3, 9 MiB with t = 4, 7 MiB with t = 5: each costs an attacker the same
//! memory-time, and the server about the same CPU). The allocator keeps a hashing thread's last
//! buffer, so the buffer is resident for good: the smaller it is, the less every replica holds.
//! Hashes made with other parameters (the crate's defaults, or 12 MiB with t = 3, used before)
//! verify with their own, which the hash string records.
//!
//! Each hash needs its buffer and a core for tens of milliseconds. Hashes run on dedicated
//! threads, one per core but one (so a burst of sign-ins never takes every core from the
//! requests being served), fed through a queue; memory stays at one hash buffer per thread. (On tokio's blocking pool every hash could land on a different thread, and the
//! allocator kept a 19 MiB buffer in each thread's arena: half a gigabyte after a burst.)
//!
//! The queue is bounded: a burst beyond it is answered with 503 and `Retry-After` at once
//! rather than queued for longer than any client waits, and a job whose request has gone
//! (timed out, client disconnected) is dropped instead of hashed for nobody.

use std::sync::{
    Arc, LazyLock, Mutex,
    mpsc::{self, TrySendError},
};

use anyhow::Context;
use argon2::{
    Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version, password_hash::phc::PasswordHash,
};
use tokio::sync::oneshot;

use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send>;

/// The hasher for new hashes (and the decoy); verification reads each hash's own parameters.
fn argon2() -> Argon2<'static> {
    const MEMORY_KIB: u32 = 7 * 1024;
    const PASSES: u32 = 5;
    // Valid by construction: the crate refuses only out-of-range values.
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashing threads fed through a bounded queue; the threads end when this is dropped.
pub struct Hasher {
    jobs: mpsc::SyncSender<Job>,
}

impl Hasher {
    /// One thread per core but one, and `queue_depth` waiting jobs (default 4 per thread).
    pub fn start(queue_depth: Option<usize>) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
        Self::with_threads(threads, queue_depth.unwrap_or(4 * threads))
    }

    fn with_threads(threads: usize, queue_depth: usize) -> Self {
        let (jobs, receiver) = mpsc::sync_channel::<Job>(queue_depth);
        let receiver = Arc::new(Mutex::new(receiver));
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
        Self { jobs }
    }

    /// Runs `work` on a hashing thread and waits for its result without blocking the runtime;
    /// refuses at once with 503 when the queue is full.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The request was dropped while the job waited: nobody would read the answer.
            if done.is_closed() {
                return;
            }
            let _ = done.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::warn!("the password hashing queue is full");
                return Err(AppError::Overloaded { retry_after: platform::problem::TEMPORARY_RETRY_AFTER });
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(anyhow::anyhow!("the hashing threads are gone").into());
            }
        }
        Ok(result.await.context("a hashing job was dropped")?)
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let hashed = self
            .run(move || {
                argon2()
                    .hash_password(password.as_bytes())
                    .map(|h| h.to_string())
                    .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
            })
            .await?;
        Ok(hashed?)
    }

    /// Verifies against the stored hash, or, for an unknown account, against a decoy so the
    /// answer takes as long either way and timing does not reveal which emails have accounts.
    pub async fn verify(&self, password: String, stored_hash: Option<String>) -> Result<bool, AppError> {
        static DECOY: LazyLock<Option<String>> = LazyLock::new(|| {
            argon2().hash_password(b"decoy password for unknown accounts").ok().map(|h| h.to_string())
        });
        let verified = self
            .run(move || {
                let known = stored_hash.is_some();
                let Some(hash) = stored_hash.or_else(|| DECOY.clone()) else { return Ok(false) };
                let parsed = PasswordHash::new(&hash)
                    .map_err(|e| anyhow::anyhow!("stored hash is unreadable: {e}"))?;
                Ok::<_, anyhow::Error>(
                    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known,
                )
            })
            .await?;
        Ok(verified?)
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicUsize, Ordering},
        time::Duration,
    };

    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = Hasher::start(None);
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify("correct horse".into(), Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify("wrong horse".into(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn new_hashes_use_7_mib_and_5_passes_and_older_hashes_still_verify() {
        let hasher = Hasher::start(None);
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hash.contains("$m=7168,t=5,p=1$"), "{hash}");
        let twelve = Params::new(12 * 1024, 3, 1, None).unwrap();
        let earlier = [
            Argon2::default().hash_password(b"correct horse").unwrap().to_string(),
            Argon2::new(Algorithm::Argon2id, Version::V0x13, twelve)
                .hash_password(b"correct horse")
                .unwrap()
                .to_string(),
        ];
        assert!(earlier[0].contains("$m=19456,t=2,p=1$"), "{}", earlier[0]);
        assert!(earlier[1].contains("$m=12288,t=3,p=1$"), "{}", earlier[1]);
        for older in earlier {
            assert!(hasher.verify("correct horse".into(), Some(older.clone())).await.unwrap());
            assert!(!hasher.verify("wrong horse".into(), Some(older)).await.unwrap());
        }
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let hasher = Hasher::start(None);
        assert!(!hasher.verify("decoy password for unknown accounts".into(), None).await.unwrap());
    }

    /// Occupies the hasher's only thread until the returned sender is dropped.
    async fn occupy(hasher: &Arc<Hasher>) -> (mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, gate) = mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let hasher = Arc::clone(hasher);
        let busy = tokio::spawn(async move {
            hasher
                .run(move || {
                    let _ = started.send(());
                    let _ = gate.recv();
                })
                .await
                .unwrap();
        });
        running.await.unwrap();
        (release, busy)
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_with_a_retry() {
        let hasher = Arc::new(Hasher::with_threads(1, 1));
        let (release, busy) = occupy(&hasher).await;
        let queued = {
            let hasher = Arc::clone(&hasher);
            tokio::spawn(async move { hasher.run(|| 7).await.unwrap() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        match hasher.run(|| 8).await {
            Err(AppError::Overloaded { retry_after }) => assert!(retry_after > Duration::ZERO),
            other => panic!("expected the queue to be full, got {other:?}"),
        }
        drop(release);
        busy.await.unwrap();
        assert_eq!(queued.await.unwrap(), 7, "the queued job still runs");
    }

    #[tokio::test]
    async fn a_job_whose_request_is_gone_is_not_run() {
        let hasher = Arc::new(Hasher::with_threads(1, 4));
        let (release, busy) = occupy(&hasher).await;
        let runs = Arc::new(AtomicUsize::new(0));
        let abandoned = {
            let (hasher, runs) = (Arc::clone(&hasher), Arc::clone(&runs));
            tokio::spawn(async move {
                hasher.run(move || runs.fetch_add(1, Ordering::SeqCst)).await.unwrap();
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        abandoned.abort();
        assert!(abandoned.await.unwrap_err().is_cancelled());
        drop(release);
        busy.await.unwrap();
        // Jobs run in order on the one thread: once this one is done, the abandoned one was seen.
        hasher.run(|| ()).await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    }
}
