//! Fault tests: the real release binaries as processes, a stream of writes through the HTTP
//! API, and one fault per scenario. After recovery every committed change must have its event
//! published and processed exactly once in effect.
//!
//! Driven by `scripts/faults.sh`, which builds nothing, starts a private PostgreSQL and passes
//! the command that restarts it. Each scenario uses its own user, so its counts are its own:
//!
//! - committed: `tasks.created` events in the outbox for the user's tasks (one per task the API
//!   committed; every write is an overdue task created with an `Idempotency-Key` and retried
//!   until it succeeds, so an ambiguous failure never commits twice);
//! - delivered: those events the sidecar accepted (`published_at` set by the relay);
//! - processed: those events the ai-agent recorded in `processed_event`, and the `overdue`
//!   suggestions they caused (exactly one per task: the effect).
//!
//! Duplicate deliveries are allowed; duplicate effects are not.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;
use sqlx::PgPool;

#[derive(Debug, Parser)]
struct Args {
    /// Directory holding the backend, ai-agent and dapr-emulator binaries.
    #[arg(long, default_value = "target/release")]
    release_dir: PathBuf,
    /// The database the services use (created and empty).
    #[arg(long)]
    database_url: String,
    /// A shell command that restarts PostgreSQL (for the `postgres` scenario).
    #[arg(long)]
    pg_restart_command: Option<String>,
    /// Where process logs go.
    #[arg(long, default_value = "target/faults")]
    log_dir: PathBuf,
    /// Writes per scenario.
    #[arg(long, default_value_t = 300)]
    writes: usize,
    /// Concurrent writers.
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// Scenarios to run, in order.
    #[arg(long, value_delimiter = ',', default_value = "sidecar,backend,agent,postgres")]
    scenarios: Vec<String>,
    /// How long to wait for every effect after the last write.
    #[arg(long, default_value_t = 90)]
    settle_secs: u64,
}

/// One service process and how to start it again.
struct Service {
    name: &'static str,
    command: Vec<String>,
    env: Vec<(String, String)>,
    ready_url: String,
    log_dir: PathBuf,
    child: Option<Child>,
}

impl Service {
    fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_dir.join(format!("{}.log", self.name)))?;
        let child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("cannot start {}", self.name))?;
        self.child = Some(child);
        Ok(())
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL: no drain, no clean-up, like a node that lost power.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill").args([signal, &self.pid().to_string()]).status();
    }

    async fn wait_ready(&self, http: &reqwest::Client, timeout: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Ok(res) = http.get(&self.ready_url).send().await
                && res.status().is_success()
            {
                return Ok(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{} was not ready within {timeout:?}", self.name)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.signal("-CONT");
        self.kill();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct Counts {
    committed: i64,
    delivered: i64,
    processed: i64,
    tasks: i64,
    suggestions: i64,
    duplicate_suggestions: i64,
}

async fn counts(db: &PgPool, user_id: &str) -> sqlx::Result<Counts> {
    let (committed, delivered, processed, tasks, suggestions, duplicate_suggestions): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = sqlx::query_as(
        "select
           (select count(*) from outbox where user_id = $1::uuid and event_type = 'tasks.created'),
           (select count(*) from outbox where user_id = $1::uuid and event_type = 'tasks.created'
                                          and published_at is not null),
           (select count(*) from processed_event p join outbox o on p.event_id = o.event_id::text
             where o.user_id = $1::uuid and o.event_type = 'tasks.created' and p.consumer = 'ai-agent'),
           (select count(*) from task where user_id = $1::uuid),
           (select count(distinct task_id) from suggestion where user_id = $1::uuid and kind = 'overdue'),
           (select count(*) - count(distinct task_id) from suggestion where user_id = $1::uuid and kind = 'overdue')",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?;
    Ok(Counts { committed, delivered, processed, tasks, suggestions, duplicate_suggestions })
}

/// Signs up a fresh user and returns a client holding its session, and its id.
async fn sign_up(base: &str, label: &str) -> anyhow::Result<(reqwest::Client, String)> {
    let client = reqwest::Client::builder().cookie_store(true).timeout(Duration::from_secs(10)).build()?;
    let email = format!("faults-{label}-{}@example.com", rand::random::<u64>());
    let res = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await?
        .error_for_status()?;
    let body: serde_json::Value = res.json().await?;
    let id = body["id"].as_str().context("a user id")?.to_owned();
    Ok((client, id))
}

/// Creates one overdue task, retrying with the same `Idempotency-Key` until the API answers
/// 201 (through backend kills and database restarts). Returns the attempts it took.
async fn write_one(client: &reqwest::Client, base: &str, n: usize, label: &str) -> usize {
    let key = format!("faults-{label}-{n}-{}", rand::random::<u64>());
    let body =
        json!({"title": format!("{label} write {n}"), "dueAt": "2020-01-01T09:00:00Z", "priority": "low"});
    let mut attempts = 0;
    loop {
        attempts += 1;
        let sent = client
            .post(format!("{base}/api/v1/tasks"))
            .header("idempotency-key", &key)
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(res) if res.status().as_u16() == 201 => return attempts,
            Ok(res) if res.status().is_client_error() && res.status().as_u16() != 429 => {
                // A 4xx other than throttling would loop forever; it is a harness bug.
                eprintln!("write {n} of {label}: unexpected {}", res.status());
                return attempts;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.log_dir)?;
    let db = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(&args.database_url).await?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let bin = |name: &str| args.release_dir.join(name).to_string_lossy().into_owned();
    let (api_port, agent_port, dapr_port) = (free_port()?, free_port()?, free_port()?);
    let base = format!("http://127.0.0.1:{api_port}");
    let common = |extra: &[(&str, String)]| {
        let mut env: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), args.database_url.clone()),
            ("DAPR_HTTP_PORT".into(), dapr_port.to_string()),
            ("LOG_FORMAT".into(), "json".into()),
            ("RUST_LOG".into(), "warn".into()),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS".into(), "2".into()),
        ];
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        env
    };
    let mut backend = Service {
        name: "backend",
        command: vec![bin("backend"), "serve".into()],
        env: common(&[
            ("LISTEN_ADDR", format!("127.0.0.1:{api_port}")),
            ("AUTH_RATE_LIMIT_PER_MINUTE", "0".into()),
            ("OUTBOX_PUBLISH_TIMEOUT_MS", "1000".into()),
        ]),
        ready_url: format!("{base}/ready"),
        log_dir: args.log_dir.clone(),
        child: None,
    };
    let mut agent = Service {
        name: "ai-agent",
        command: vec![bin("ai-agent"), "serve".into()],
        // The cron passes would create overdue suggestions on their own; off, every effect
        // comes from an event.
        env: common(&[
            ("LISTEN_ADDR", format!("127.0.0.1:{agent_port}")),
            ("CRON_ENABLED", "false".into()),
            ("SUGGESTIONS_PER_HOUR", "1000000".into()),
        ]),
        ready_url: format!("http://127.0.0.1:{agent_port}/ready"),
        log_dir: args.log_dir.clone(),
        child: None,
    };
    // Retries without end (like a Kafka consumer that does not commit its offset), so a
    // delivery outlives an ai-agent that is down.
    let mut sidecar = Service {
        name: "dapr-emulator",
        command: vec![
            bin("dapr-emulator"),
            "--port".into(),
            dapr_port.to_string(),
            "--app-url".into(),
            format!("http://127.0.0.1:{agent_port}"),
            "--max-retries".into(),
            "100000".into(),
            "--retry-interval-ms".into(),
            "200".into(),
        ],
        env: vec![("RUST_LOG".into(), "warn".into())],
        ready_url: format!("http://127.0.0.1:{dapr_port}/v1.0/healthz/outbound"),
        log_dir: args.log_dir.clone(),
        child: None,
    };

    backend.start()?;
    backend.wait_ready(&http, Duration::from_secs(60)).await?;
    agent.start()?;
    agent.wait_ready(&http, Duration::from_secs(60)).await?;
    sidecar.start()?;
    sidecar.wait_ready(&http, Duration::from_secs(30)).await?;

    let mut failed = Vec::new();
    for scenario in &args.scenarios {
        let started = Instant::now();
        let (client, user) = sign_up(&base, scenario).await?;
        let done = Arc::new(AtomicUsize::new(0));
        let attempts = Arc::new(AtomicUsize::new(0));
        let next = Arc::new(AtomicUsize::new(0));
        let mut writers = tokio::task::JoinSet::new();
        for _ in 0..args.writers {
            let (client, base, label) = (client.clone(), base.clone(), scenario.clone());
            let (done, attempts, next, total) = (done.clone(), attempts.clone(), next.clone(), args.writes);
            writers.spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= total {
                        break;
                    }
                    attempts.fetch_add(write_one(&client, &base, n, &label).await, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                    // A steady stream rather than a burst, so the fault lands mid-stream.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
        }
        // Let a third of the stream through, then inject the fault.
        while done.load(Ordering::SeqCst) < args.writes / 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut recovery = Duration::ZERO;
        match scenario.as_str() {
            "sidecar" => {
                // Frozen, not killed: the stand-in keeps accepted messages in memory only (a
                // real sidecar hands them to Kafka), so killing it would lose what Kafka keeps.
                // A frozen sidecar is the harder case anyway: publishes time out.
                sidecar.signal("-STOP");
                tokio::time::sleep(Duration::from_secs(6)).await;
                sidecar.signal("-CONT");
            }
            "backend" => {
                backend.kill();
                tokio::time::sleep(Duration::from_secs(1)).await;
                backend.start()?;
                recovery = backend.wait_ready(&http, Duration::from_secs(60)).await?;
            }
            "agent" => {
                agent.kill();
                tokio::time::sleep(Duration::from_secs(2)).await;
                agent.start()?;
                recovery = agent.wait_ready(&http, Duration::from_secs(60)).await?;
            }
            "postgres" => {
                let command = args.pg_restart_command.as_deref().context("--pg-restart-command is needed")?;
                let status = Command::new("bash").args(["-c", command]).status()?;
                if !status.success() {
                    bail!("restarting PostgreSQL failed: {status}");
                }
                recovery = backend.wait_ready(&http, Duration::from_secs(60)).await?;
                agent.wait_ready(&http, Duration::from_secs(60)).await?;
            }
            other => bail!("unknown scenario {other}"),
        }
        while writers.join_next().await.is_some() {}

        // Wait until every committed event has its effect, or the settle time runs out.
        let deadline = Instant::now() + Duration::from_secs(args.settle_secs);
        let mut last = counts(&db, &user).await?;
        while Instant::now() < deadline
            && !(last.committed == last.tasks
                && last.delivered == last.committed
                && last.processed == last.committed
                && last.suggestions == last.committed)
        {
            tokio::time::sleep(Duration::from_millis(250)).await;
            last = counts(&db, &user).await?;
        }
        let ok = last.tasks == args.writes as i64
            && last.committed == last.tasks
            && last.delivered == last.committed
            && last.processed == last.committed
            && last.suggestions == last.committed
            && last.duplicate_suggestions == 0;
        println!(
            "scenario {scenario}: committed {}, delivered {}, processed {} (tasks {}, overdue suggestions {}, \
             duplicate suggestions {}; {} HTTP attempts for {} writes; ready again after {:.1} s; {:.1} s in all) {}",
            last.committed,
            last.delivered,
            last.processed,
            last.tasks,
            last.suggestions,
            last.duplicate_suggestions,
            attempts.load(Ordering::SeqCst),
            args.writes,
            recovery.as_secs_f64(),
            started.elapsed().as_secs_f64(),
            if ok { "OK" } else { "MISMATCH" },
        );
        if !ok {
            failed.push(scenario.clone());
        }
    }
    // Still serving after everything.
    backend.wait_ready(&http, Duration::from_secs(10)).await?;
    agent.wait_ready(&http, Duration::from_secs(10)).await?;
    if failed.is_empty() {
        println!("all fault scenarios passed");
        Ok(())
    } else {
        bail!("fault scenarios with mismatched counts: {}", failed.join(", "))
    }
}
