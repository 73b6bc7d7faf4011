//! Database connections, and which of their failures are worth trying again.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

/// A pool that does not fail start-up when the database is still waking (Neon suspends idle
/// computes): connections are made lazily and `/ready` reports the outage meanwhile.
///
/// Its connections carry `application` as their `application_name` (unless the URL names one),
/// so `pg_stat_activity`, the server's logs and the benchmark's CPU split tell the services apart.
pub fn lazy_pool(
    url: &SecretString,
    application: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<PgPool> {
    let mut options: PgConnectOptions = url.expose_secret().parse()?;
    if options.get_application_name().is_none() {
        options = options.application_name(application);
    }
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(options))
}

/// Whether `error` says nothing about the statement, only about the moment: the server is down,
/// restarting or overloaded, the pool is exhausted, or PostgreSQL aborted the transaction for a
/// conflict with another one. The same work may well succeed if tried again, so the backend
/// answers 503 with `Retry-After` and the agent answers the sidecar `RETRY`. Everything else
/// (a constraint violation, a type mismatch, a missing row) would fail the same way again.
pub fn is_temporary(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_temporary_sqlstate(&code)),
        _ => false,
    }
}

/// SQLSTATE classes and codes (PostgreSQL manual, appendix A) that describe the moment.
fn is_temporary_sqlstate(code: &str) -> bool {
    // 08: connection exception; 53: insufficient resources (too many connections, out of
    // memory or disk); 40001/40P01: serialization failure and deadlock; 57014: statement
    // timeout or cancel; 57P01–57P03: the server is shutting down or starting.
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(code, "40001" | "40P01" | "57014" | "57P01" | "57P02" | "57P03")
}

#[cfg(test)]
mod tests {
    use std::{borrow::Cow, io::ErrorKind};

    use sqlx::{Connection as _, PgConnection, PgPool, error::DatabaseError, postgres::PgPoolOptions};

    use super::{is_temporary, is_temporary_sqlstate};

    #[test]
    fn outages_of_the_pool_and_the_connection_are_temporary() {
        for error in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            sqlx::Error::BeginFailed,
            sqlx::Error::Io(ErrorKind::ConnectionReset.into()),
            sqlx::Error::Tls("handshake interrupted".into()),
        ] {
            assert!(is_temporary(&error), "{error:?}");
        }
    }

    #[test]
    fn mistakes_in_the_statement_or_the_data_are_permanent() {
        for error in [
            sqlx::Error::RowNotFound,
            sqlx::Error::ColumnNotFound("x".into()),
            sqlx::Error::Protocol("unexpected message".into()),
            sqlx::Error::Decode("not a UUID".into()),
            sqlx::Error::Configuration("bad URL".into()),
        ] {
            assert!(!is_temporary(&error), "{error:?}");
        }
    }

    #[test]
    fn sqlstates_of_the_moment_are_temporary_and_the_rest_are_not() {
        for code in ["08006", "08001", "53300", "53200", "40001", "40P01", "57014", "57P01", "57P03"] {
            assert!(is_temporary_sqlstate(code), "{code}");
        }
        // Unique, foreign-key, not-null and check violations, a syntax error, an undefined
        // table, a raised exception, insufficient privilege.
        for code in ["23505", "23503", "23502", "23514", "42601", "42P01", "P0001", "42501", "40002"] {
            assert!(!is_temporary_sqlstate(code), "{code}");
        }
    }

    /// The error PostgreSQL itself sends for `sql`, which must fail.
    async fn failure(conn: &mut PgConnection, sql: &'static str) -> sqlx::Error {
        sqlx::raw_sql(sql).execute(conn).await.expect_err("the statement must fail")
    }

    fn sqlstate(error: &sqlx::Error) -> String {
        error.as_database_error().and_then(DatabaseError::code).map(Cow::into_owned).unwrap_or_default()
    }

    #[sqlx::test(migrations = false)]
    async fn constraint_violations_from_postgres_are_permanent(pool: PgPool) {
        let mut conn = pool.acquire().await.expect("connection");
        sqlx::raw_sql(
            "create table parent (id int primary key);
             create table child (parent_id int not null references parent);
             insert into parent values (1);",
        )
        .execute(&mut *conn)
        .await
        .expect("schema");
        let unique = failure(&mut conn, "insert into parent values (1)").await;
        let foreign_key = failure(&mut conn, "insert into child values (2)").await;
        let not_null = failure(&mut conn, "insert into child values (null)").await;
        for (error, code) in [(unique, "23505"), (foreign_key, "23503"), (not_null, "23502")] {
            assert_eq!(sqlstate(&error), code);
            assert!(!is_temporary(&error), "{error:?}");
        }
    }

    #[sqlx::test(migrations = false)]
    async fn a_real_deadlock_is_temporary(pool: PgPool) {
        let (mut a, mut b) = (pool.begin().await.expect("a"), pool.begin().await.expect("b"));
        // Random keys: advisory locks are shared by everything on this database.
        let (first, second) = (rand::random::<i64>(), rand::random::<i64>());
        for (tx, key) in [(&mut a, first), (&mut b, second)] {
            sqlx::query("select pg_advisory_xact_lock($1)").bind(key).execute(&mut **tx).await.expect("lock");
        }
        // Each now waits for the other's lock; PostgreSQL's detector aborts one of them.
        let lock = "select pg_advisory_xact_lock($1)";
        let (a_waits, b_waits) = tokio::join!(
            sqlx::query(lock).bind(second).execute(&mut *a),
            sqlx::query(lock).bind(first).execute(&mut *b),
        );
        let error = a_waits.err().or_else(|| b_waits.err()).expect("one of the two is the deadlock victim");
        assert_eq!(sqlstate(&error), "40P01");
        assert!(is_temporary(&error), "{error:?}");
    }

    #[sqlx::test(migrations = false)]
    async fn a_real_serialization_failure_is_temporary(pool: PgPool) {
        sqlx::raw_sql("create table counter (id int primary key, n int); insert into counter values (1, 0);")
            .execute(&pool)
            .await
            .expect("schema");
        let mut reader = pool.begin().await.expect("transaction");
        sqlx::raw_sql("set transaction isolation level repeatable read; select n from counter;")
            .execute(&mut *reader)
            .await
            .expect("snapshot");
        sqlx::raw_sql("update counter set n = n + 1").execute(&pool).await.expect("concurrent update");
        let error = failure(&mut reader, "update counter set n = n + 1").await;
        assert_eq!(sqlstate(&error), "40001");
        assert!(is_temporary(&error), "{error:?}");
    }

    #[sqlx::test(migrations = false)]
    async fn a_statement_timeout_and_an_administrator_shutdown_are_temporary(pool: PgPool) {
        let mut conn = pool.acquire().await.expect("connection");
        sqlx::raw_sql("set statement_timeout = '10ms'").execute(&mut *conn).await.expect("set");
        let timeout = failure(&mut conn, "select pg_sleep(5)").await;
        assert_eq!(sqlstate(&timeout), "57014");
        assert!(is_temporary(&timeout), "{timeout:?}");
        let terminated = failure(&mut conn, "select pg_terminate_backend(pg_backend_pid())").await;
        assert_eq!(sqlstate(&terminated), "57P01");
        assert!(is_temporary(&terminated), "{terminated:?}");
    }

    #[sqlx::test(migrations = false)]
    async fn too_many_connections_is_temporary(pool: PgPool) {
        let role = format!("no_connections_{:016x}", rand::random::<u64>());
        // A password too, so the refusal is the limit's whatever authentication the server asks for.
        let password = format!("{:032x}", rand::random::<u128>());
        // Random hex names and passwords: nothing to inject.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "create role {role} login password '{password}' connection limit 0"
        )))
        .execute(&pool)
        .await
        .expect("role");
        let options = (*pool.connect_options()).clone().username(&role).password(&password);
        let error = PgConnection::connect_with(&options).await.expect_err("the role may not connect");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop role {role}")))
            .execute(&pool)
            .await
            .expect("drop role");
        assert_eq!(sqlstate(&error), "53300");
        assert!(is_temporary(&error), "{error:?}");
    }

    #[sqlx::test(migrations = false)]
    async fn an_exhausted_pool_is_temporary(pool: PgPool) {
        let small = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_millis(50))
            .connect_with((*pool.connect_options()).clone())
            .await
            .expect("pool");
        let _held = small.acquire().await.expect("the one connection");
        let error = small.acquire().await.expect_err("no connection is free");
        assert!(matches!(error, sqlx::Error::PoolTimedOut), "{error:?}");
        assert!(is_temporary(&error));
    }
}
