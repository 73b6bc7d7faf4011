//! What only the database can tell: how long events waited in the outbox, what is still
//! waiting, and what each statement cost (`pg_stat_statements`).
//!
//! Read-only apart from resetting the statement statistics, and on a pool of its own with one
//! connection, so the measurement adds next to nothing to the load it measures.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

pub struct Database {
    pool: PgPool,
    /// Whether the `pg_stat_statements` extension is installed and its library preloaded.
    pub has_statements: bool,
}

/// Outbox rows not yet accepted by the sidecar.
#[derive(Debug, Clone, Serialize)]
pub struct Backlog {
    pub unpublished: i64,
    pub oldest_age_s: Option<f64>,
}

/// Time from an event's row being written to the relay marking it published, in ms.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventLatency {
    pub events: i64,
    pub published: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub min_ms: Option<f64>,
    pub mean_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StatementCost {
    pub query: String,
    pub calls: i64,
    pub mean_exec_ms: f64,
    pub total_exec_ms: f64,
}

impl Database {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        // Named, so the split of PostgreSQL's CPU shows this connection apart from the services'.
        let options =
            url.parse::<PgConnectOptions>().context("reading --database-url")?.application_name("loadtest");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .context("connecting to --database-url")?;
        // Reading the view fails unless the library is preloaded, even with the extension
        // created, so try it rather than only looking the extension up.
        let has_statements =
            sqlx::query("select 1 from pg_stat_statements limit 1").execute(&pool).await.is_ok();
        Ok(Self { pool, has_statements })
    }

    /// The database's clock, which stamps `outbox.created_at`, so window bounds and row times
    /// come from the same clock.
    pub async fn now(&self) -> anyhow::Result<DateTime<Utc>> {
        Ok(sqlx::query_scalar("select clock_timestamp()").fetch_one(&self.pool).await?)
    }

    /// PostgreSQL's processes by who they work for: a connection by its `application_name`
    /// (the services name theirs), a background process by its type (`walwriter`,
    /// `autovacuum worker`, ...).
    pub async fn server_processes(&self) -> anyhow::Result<Vec<(u32, String)>> {
        let rows: Vec<(i32, String)> = sqlx::query_as(
            "select pid, coalesce(nullif(application_name, ''), backend_type, 'unknown') from pg_stat_activity",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().filter_map(|(pid, name)| Some((u32::try_from(pid).ok()?, name))).collect())
    }

    pub async fn reset_statements(&self) -> anyhow::Result<()> {
        if self.has_statements {
            sqlx::query("select pg_stat_statements_reset()").execute(&self.pool).await?;
        }
        Ok(())
    }

    pub async fn backlog(&self) -> anyhow::Result<Backlog> {
        let (unpublished, oldest_age_s): (i64, Option<f64>) = sqlx::query_as(
            "select count(*), extract(epoch from clock_timestamp() - min(created_at))::float8
             from outbox where published_at is null",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Backlog { unpublished, oldest_age_s })
    }

    /// Polls until the backlog is empty or `timeout` passes; returns how long that took, or
    /// `None` if it never emptied.
    pub async fn wait_for_drain(&self, timeout: Duration) -> anyhow::Result<Option<Duration>> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.backlog().await?.unpublished == 0 {
                return Ok(Some(started.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(None)
    }

    /// Percentiles of `published_at - created_at` for the events created in `[from, to)`
    /// (either bound open when `None`).
    ///
    /// Both columns are `now()` of their transactions, i.e. transaction *start* times: the
    /// writer's (a few ms before its commit) and the relay pass's (before it publishes). So
    /// this is "change began → relay pass that published it began", close to, but not exactly,
    /// commit → published; a row committed while a relay pass was starting can even read
    /// slightly negative. `min_ms` is reported so that shows.
    pub async fn event_latency(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> anyhow::Result<EventLatency> {
        self.latency(
            "select (extract(epoch from (published_at - created_at)) * 1000)::float8 as ms
             from outbox
             where ($1::timestamptz is null or created_at >= $1)
               and ($2::timestamptz is null or created_at < $2)",
            from,
            to,
        )
        .await
    }

    /// Percentiles of `suggestion.created_at - outbox.created_at` for suggestions the ai-agent
    /// made from events created in `[from, to)`: change began → suggestion written, the whole
    /// path through the relay, the sidecar and the agent. `events` counts those suggestions;
    /// zero when no ai-agent ran.
    pub async fn suggestion_latency(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> anyhow::Result<EventLatency> {
        self.latency(
            "select (extract(epoch from (s.created_at - o.created_at)) * 1000)::float8 as ms
             from suggestion s join outbox o on o.event_id::text = s.source_event
             where ($1::timestamptz is null or o.created_at >= $1)
               and ($2::timestamptz is null or o.created_at < $2)",
            from,
            to,
        )
        .await
    }

    /// Summarises the `ms` column of `samples`, a query taking the window as `$1` and `$2`.
    async fn latency(
        &self,
        samples: &str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> anyhow::Result<EventLatency> {
        let sql = format!(
            "with e as ({samples})
             select count(*) as events,
                    count(ms) as published,
                    percentile_cont(0.50) within group (order by ms) as p50_ms,
                    percentile_cont(0.95) within group (order by ms) as p95_ms,
                    percentile_cont(0.99) within group (order by ms) as p99_ms,
                    max(ms) as max_ms,
                    min(ms) as min_ms,
                    avg(ms) as mean_ms
             from e"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch_one(&self.pool).await?)
    }

    /// Every statement of this database since the last reset, most total time first.
    pub async fn statement_costs(&self) -> anyhow::Result<Vec<StatementCost>> {
        if !self.has_statements {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_as(
            "select query, calls, mean_exec_time as mean_exec_ms, total_exec_time as total_exec_ms
             from pg_stat_statements
             where dbid = (select oid from pg_database where datname = current_database())
             order by total_exec_time desc",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

/// The statements that say what the outbox costs a create, picked out of all of them.
///
/// Not `COMMIT`: its row times only the statement, while the WAL flush that makes a commit
/// slow happens after it, outside what `pg_stat_statements` sees.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutboxCost {
    pub outbox_insert: Option<StatementCost>,
    pub task_insert: Option<StatementCost>,
}

impl OutboxCost {
    /// Matches on the statement text as the backend writes it (normalised by
    /// `pg_stat_statements`, so parameters are `$n` and whitespace is as in the source).
    pub fn pick(statements: &[StatementCost]) -> Self {
        let find = |matches: &dyn Fn(&str) -> bool| {
            statements.iter().find(|s| matches(s.query.trim_start().to_lowercase().as_str())).cloned()
        };
        Self {
            outbox_insert: find(&|q| q.starts_with("insert into outbox")),
            task_insert: find(&|q| q.starts_with("insert into task ") || q.starts_with("insert into task(")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(query: &str, mean: f64) -> StatementCost {
        StatementCost { query: query.into(), calls: 1, mean_exec_ms: mean, total_exec_ms: mean }
    }

    #[test]
    fn the_outbox_and_task_inserts_are_told_apart() {
        let all = [
            statement("select 1", 0.01),
            statement("insert into task_audit (x) values ($1)", 9.0),
            statement("insert into task (task_id, user_id) values ($1, $2)", 0.08),
            statement("COMMIT", 0.5),
            statement("insert into outbox (event_id, user_id) values ($1, $2)", 0.03),
        ];
        let cost = OutboxCost::pick(&all);
        assert_eq!(cost.outbox_insert.map(|s| s.mean_exec_ms), Some(0.03));
        assert_eq!(cost.task_insert.map(|s| s.mean_exec_ms), Some(0.08));
    }
}
