//! Advisory locks: one runner per cron job across replicas, and one writer of a user's
//! suggestions at a time.
//!
//! All of them are transaction-scoped (`pg_*_advisory_xact_lock`), so they work through a
//! transaction-mode pooler and are released by commit, rollback or a dropped connection alike.

use sqlx::PgConnection;
use uuid::Uuid;

/// A cron job whose passes must not overlap, across replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobLock {
    OverdueSweep,
    Prioritization,
    Housekeeping,
    DailyPlan,
}

impl JobLock {
    /// Arbitrary constants naming each job among the database's advisory locks (the backend's
    /// outbox relay uses another one, `0x7464_6f5f_6f75_7462`).
    const fn key(self) -> i64 {
        match self {
            Self::OverdueSweep => 0x6169_6167_5f6f_7664,
            Self::Prioritization => 0x6169_6167_5f70_7269,
            Self::Housekeeping => 0x6169_6167_5f68_6b70,
            Self::DailyPlan => 0x6169_6167_5f70_6c6e,
        }
    }
}

/// Takes the job's lock for the rest of the transaction; `false` means another replica is
/// running the same pass right now, and this one should skip its turn.
pub async fn try_job_lock(conn: &mut PgConnection, job: JobLock) -> sqlx::Result<bool> {
    sqlx::query_scalar("select pg_try_advisory_xact_lock($1)").bind(job.key()).fetch_one(conn).await
}

/// Class of the per-user suggestion locks. The two-key form lives in a key space of its own,
/// so these can never collide with the single-key job locks above.
const SUGGESTION_LOCK_CLASS: i32 = 0x6169_7367;

/// Waits for the user's suggestion lock. Held until commit, it makes "count this hour's
/// suggestions, then insert" atomic per user, so concurrent deliveries and cron passes cannot
/// together exceed the hourly limit. Hash collisions only serialise two unrelated users.
pub async fn lock_user_suggestions(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock($1, hashtext($2::text))")
        .bind(SUGGESTION_LOCK_CLASS)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// [`lock_user_suggestions`] for each of `users`, which must be sorted and distinct: one round
/// trip, the locks taken one after the other in that order (a volatile function in the select
/// list runs after the `order by`).
pub async fn lock_many_user_suggestions(conn: &mut PgConnection, users: &[Uuid]) -> sqlx::Result<()> {
    debug_assert!(users.windows(2).all(|pair| pair[0] < pair[1]), "users sorted and distinct");
    sqlx::query(
        "select pg_advisory_xact_lock($1, hashtext(u.user_id::text))
         from unnest($2::uuid[]) with ordinality as u(user_id, n)
         order by u.n",
    )
    .bind(SUGGESTION_LOCK_CLASS)
    .bind(users)
    .execute(conn)
    .await?;
    Ok(())
}
