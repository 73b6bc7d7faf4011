//! Fault tests: the real release binaries as processes, a stream of writes through the HTTP
//! API, and one fault per scenario. After recovery every committed change must have its event
//! published and processed exactly once in effect.
//!
//! Driven by `scripts/faults.sh`, which builds nothing, starts a private PostgreSQL (and, for
//! `--sidecars dapr`, a Kafka broker) and passes the commands that restart them. Each scenario
//! has users of its own, so its counts are its own (see `counts.rs`): committed, delivered (by
//! the agent's own log), processed, and the effects (an open reschedule proposal for each open
//! task, none left open on a completed one). Every write creates an overdue task with an
//! `Idempotency-Key`, retried until it succeeds, so an ambiguous failure never commits twice;
//! three writes in four then rename, complete or delete it, so every kind of event goes through
//! the fault. Duplicate deliveries are allowed; duplicate effects are not.
//!
//! Sidecars: `stand-in` (crates/dapr-emulator, one process for both services) or `dapr` (a
//! real daprd per service, `scripts/daprd.sh run`, on the Kafka broker the environment names).
//!
//! Replicas: with `--replicas 2` (stand-in only) two backends and two ai-agents share the
//! database and the sidecar, which delivers each user's events to one of the agents as a
//! consumer group would. Writes go to either backend, retries to the other; the agents run
//! their cron loops (see `replicas.rs` for what is checked).

mod counts;
mod replicas;
mod service;

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use clap::{Parser, ValueEnum};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    counts::Counts,
    service::{Service, free_port},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Sidecars {
    StandIn,
    Dapr,
}

#[derive(Debug, Parser)]
struct Args {
    /// Directory holding the backend, ai-agent and dapr-emulator binaries.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// The database the services use (created and empty).
    #[arg(long)]
    database_url: String,
    /// A shell command that restarts PostgreSQL (for the `postgres` scenario).
    #[arg(long)]
    pg_restart_command: Option<String>,
    /// Where process logs go.
    #[arg(long, default_value = "target/faults")]
    log_dir: PathBuf,
    #[arg(long, value_enum, default_value = "stand-in")]
    sidecars: Sidecars,
    /// The Kafka broker's directory (`scripts/kafka.sh`), to read the consumer group.
    #[arg(long)]
    kafka_dir: Option<PathBuf>,
    /// A shell command that stops the Kafka broker and starts it again (`broker` scenario).
    #[arg(long)]
    broker_restart_command: Option<String>,
    /// Writes per scenario.
    #[arg(long, default_value_t = 300)]
    writes: usize,
    /// Writes in the `dead-letter` scenario: each waits out the sidecar's retries.
    #[arg(long, default_value_t = 3)]
    dead_letter_writes: usize,
    /// Users per scenario; with several, the events spread over the topic's partitions.
    #[arg(long, default_value_t = 6)]
    users: usize,
    /// Concurrent writers.
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// Scenarios to run, in order. Default, with the stand-in: sidecar, backend, agent,
    /// postgres; with daprd: steady, replicas, broker, backend-sidecar, dead-letter.
    #[arg(long, value_delimiter = ',')]
    scenarios: Option<Vec<String>>,
    /// How long to wait for every effect after the last write.
    #[arg(long, default_value_t = 90)]
    settle_secs: u64,
    /// Backends and ai-agents (1 or 2; 2 with the stand-in only). With 2 the default scenarios
    /// are two-of-each and backend-killed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    replicas: u8,
}

const AGENT_APP_ID: &str = "todo-ai-agent";

/// The product's processes. `sidecar` is the backend's (with the stand-in, the one process
/// serving both services); `agent_sidecar` and `replica` exist with daprd only.
struct Product {
    backend: Service,
    agent: Service,
    sidecar: Service,
    agent_sidecar: Option<Service>,
    /// A second ai-agent and its sidecar, in the same consumer group (`replicas` scenario).
    replica: Option<(Service, Service)>,
    /// A second backend and ai-agent on the same database and stand-in (`--replicas 2`).
    twin: Option<Twin>,
    base: String,
    agent_env: Vec<(String, String)>,
}

struct Twin {
    backend: Service,
    agent: Service,
    base: String,
}

fn daprd(
    app_id: &str,
    app_port: u16,
    http_port: u16,
    health: &str,
    env: &[(String, String)],
    log_dir: &Path,
) -> Service {
    let command = ["scripts/daprd.sh", "run", app_id, &app_port.to_string(), &http_port.to_string(), health];
    Service::new(
        &format!("daprd-{app_id}-{app_port}"),
        command.map(str::to_owned).to_vec(),
        env.to_vec(),
        format!("http://127.0.0.1:{http_port}/v1.0/healthz"),
        log_dir,
    )
}

impl Product {
    async fn start(args: &Args, http: &reqwest::Client) -> anyhow::Result<Self> {
        let bin = |name: &str| args.bin_dir.join(name).to_string_lossy().into_owned();
        let (api_port, agent_port, dapr_port) = (free_port()?, free_port()?, free_port()?);
        let agent_dapr_port = if args.sidecars == Sidecars::Dapr { free_port()? } else { dapr_port };
        let base = format!("http://127.0.0.1:{api_port}");
        let twins = args.replicas == 2;
        ensure!(!twins || args.sidecars == Sidecars::StandIn, "--replicas 2 runs with the stand-in only");
        let twin_ports = if twins { Some((free_port()?, free_port()?)) } else { None };
        // What the sidecar sends the ai-agent with every delivery, as in the cluster.
        let token = format!("faults-{}", rand::random::<u64>());
        let common = |dapr_port: u16, extra: &[(&str, String)]| {
            let mut env: Vec<(String, String)> = vec![
                ("DATABASE_URL".into(), args.database_url.clone()),
                ("DAPR_HTTP_PORT".into(), dapr_port.to_string()),
                ("LOG_FORMAT".into(), "json".into()),
                // The agent's line per delivery (info) is what `delivered` counts; the twins'
                // cron lines (debug) show which replica ran each period.
                (
                    "RUST_LOG".into(),
                    if twins {
                        "warn,ai_agent::consumer=info,ai_agent::cron=debug"
                    } else {
                        "warn,ai_agent::consumer=info"
                    }
                    .into(),
                ),
                ("DATABASE_ACQUIRE_TIMEOUT_SECS".into(), "2".into()),
                ("APP_API_TOKEN".into(), token.clone()),
            ];
            env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
            env
        };
        let backend_service = |name: &str, port: u16| {
            Service::new(
                name,
                vec![bin("backend"), "serve".into()],
                common(
                    dapr_port,
                    &[
                        ("LISTEN_ADDR", format!("127.0.0.1:{port}")),
                        ("AUTH_RATE_LIMIT_PER_MINUTE", "0".into()),
                        ("WRITE_RATE_LIMIT_PER_MINUTE", "0".into()),
                        ("OUTBOX_PUBLISH_TIMEOUT_MS", "1000".into()),
                        ("CACHE_SECONDS", replicas::CACHE_SECONDS.to_string()),
                        ("AUTH_FAILURES_BEFORE_BACKOFF", replicas::FREE_SIGN_IN_FAILURES.to_string()),
                    ],
                ),
                format!("http://127.0.0.1:{port}/ready"),
                &args.log_dir,
            )
        };
        let backend = backend_service("backend", api_port);
        // The overdue, prioritisation and daily plan passes would create suggestions on their own; off,
        // every effect comes from an event. The twins run housekeeping, which touches nothing
        // counted here, often enough to see each period claimed once.
        let cron: &[(&str, String)] = if twins {
            &[
                ("OVERDUE_SCHEDULE", replicas::NEVER.into()),
                ("PRIORITY_SCHEDULE", replicas::NEVER.into()),
                ("REMINDER_SCHEDULE", replicas::NEVER.into()),
                ("DAILY_PLAN_SCHEDULE", replicas::NEVER.into()),
                ("HOUSEKEEPING_SCHEDULE", replicas::HOUSEKEEPING_SCHEDULE.into()),
            ]
        } else {
            &[("CRON_ENABLED", "false".into())]
        };
        let mut agent_extra = vec![("SUGGESTIONS_PER_HOUR", "1000000".into())];
        agent_extra.extend_from_slice(cron);
        let agent_env = common(agent_dapr_port, &agent_extra);
        let agent = agent_service("ai-agent", &bin("ai-agent"), &agent_env, agent_port, &args.log_dir);
        let twin = twin_ports.map(|(api_port, agent_port)| Twin {
            backend: backend_service("backend-2", api_port),
            agent: agent_service("ai-agent-2", &bin("ai-agent"), &agent_env, agent_port, &args.log_dir),
            base: format!("http://127.0.0.1:{api_port}"),
        });
        let app_urls: Vec<String> = std::iter::once(agent_port)
            .chain(twin_ports.map(|(_, port)| port))
            .map(|port| format!("http://127.0.0.1:{port}"))
            .collect();
        let token_env = [("APP_API_TOKEN".to_owned(), token.clone())];
        let (sidecar, agent_sidecar) = match args.sidecars {
            Sidecars::StandIn => {
                (stand_in(&bin("dapr-emulator"), dapr_port, &app_urls, &token, &args.log_dir), None)
            }
            Sidecars::Dapr => (
                daprd("todo-backend", api_port, dapr_port, "/health", &token_env, &args.log_dir),
                Some(daprd(AGENT_APP_ID, agent_port, agent_dapr_port, "/ready", &token_env, &args.log_dir)),
            ),
        };
        let mut product =
            Self { backend, agent, sidecar, agent_sidecar, replica: None, twin, base, agent_env };
        product.backend.start_ready(http, Duration::from_mins(1)).await?;
        product.agent.start_ready(http, Duration::from_mins(1)).await?;
        if let Some(twin) = &mut product.twin {
            twin.backend.start_ready(http, Duration::from_mins(1)).await?;
            twin.agent.start_ready(http, Duration::from_mins(1)).await?;
        }
        product.sidecar.start_ready(http, Duration::from_mins(1)).await?;
        if let Some(sidecar) = &mut product.agent_sidecar {
            sidecar.start_ready(http, Duration::from_mins(1)).await?;
        }
        Ok(product)
    }

    /// A second ai-agent with a sidecar of its own in the same app id, so the same consumer
    /// group: Kafka splits the partitions between the two.
    async fn start_replica(&mut self, args: &Args, http: &reqwest::Client) -> anyhow::Result<()> {
        let (port, dapr_port) = (free_port()?, free_port()?);
        let mut env = self.agent_env.clone();
        env.retain(|(k, _)| k != "DAPR_HTTP_PORT");
        env.push(("DAPR_HTTP_PORT".into(), dapr_port.to_string()));
        let bin = args.bin_dir.join("ai-agent").to_string_lossy().into_owned();
        let mut agent = agent_service("ai-agent-replica", &bin, &env, port, &args.log_dir);
        let token = env.iter().filter(|(k, _)| k == "APP_API_TOKEN").cloned().collect::<Vec<_>>();
        let mut sidecar = daprd(AGENT_APP_ID, port, dapr_port, "/ready", &token, &args.log_dir);
        agent.start_ready(http, Duration::from_mins(1)).await?;
        sidecar.start_ready(http, Duration::from_mins(1)).await?;
        self.replica = Some((agent, sidecar));
        Ok(())
    }
}

/// The stand-in sidecar for every service, delivering to the ai-agents at `app_urls`. It
/// retries without end (like a Kafka consumer that does not commit its offset), so a delivery
/// outlives an ai-agent that is down.
fn stand_in(bin: &str, port: u16, app_urls: &[String], token: &str, log_dir: &Path) -> Service {
    let args = [
        "--port",
        &port.to_string(),
        "--app-url",
        &app_urls.join(","),
        "--app-token",
        token,
        "--max-retries",
        "100000",
        "--retry-interval-ms",
        "200",
    ];
    Service::new(
        "dapr-emulator",
        std::iter::once(bin).chain(args).map(str::to_owned).collect(),
        vec![("RUST_LOG".into(), "warn".into())],
        format!("http://127.0.0.1:{port}/v1.0/healthz/outbound"),
        log_dir,
    )
}

fn agent_service(name: &str, bin: &str, env: &[(String, String)], port: u16, log_dir: &Path) -> Service {
    let mut env = env.to_vec();
    env.push(("LISTEN_ADDR".into(), format!("127.0.0.1:{port}")));
    Service::new(
        name,
        vec![bin.to_owned(), "serve".into()],
        env,
        format!("http://127.0.0.1:{port}/ready"),
        log_dir,
    )
}

/// The consumer group's members holding partitions of the topic, from the broker's own tool.
fn group_members(kafka_dir: &Path) -> anyhow::Result<usize> {
    let out = Command::new("scripts/kafka.sh").arg("offsets").arg(kafka_dir).arg(AGENT_APP_ID).output()?;
    ensure!(out.status.success(), "kafka.sh offsets failed: {}", String::from_utf8_lossy(&out.stderr));
    // Member ids are the client id (the app id) and a suffix; the group's name is the bare id.
    let prefix = format!("{AGENT_APP_ID}-");
    let text = String::from_utf8_lossy(&out.stdout);
    let members: std::collections::HashSet<&str> =
        text.split_whitespace().filter(|w| w.starts_with(&prefix) && w.len() > prefix.len() + 8).collect();
    Ok(members.len())
}

fn shell(command: Option<&str>, what: &str) -> anyhow::Result<()> {
    let command = command.with_context(|| format!("{what}: its command is needed"))?;
    let status = Command::new("bash").args(["-c", command]).status()?;
    ensure!(status.success(), "{what} failed: {status}");
    Ok(())
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

/// What write `n` does after creating its task (`follow_ups`: three writes in four).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FollowUp {
    None,
    Rename,
    Complete,
    Delete,
}

impl FollowUp {
    fn of(n: usize, follow_ups: bool) -> Self {
        match n % 4 {
            _ if !follow_ups => Self::None,
            1 => Self::Rename,
            2 => Self::Complete,
            3 => Self::Delete,
            _ => Self::None,
        }
    }
}

/// Sends one request (`request` gets the attempt's number) until the API answers one of
/// `done` (through backend kills and database restarts); a retry after an ambiguous failure
/// may meet its own earlier success, which `done` lists. Returns the body of the final answer
/// and the attempts it took.
async fn until_done(
    request: impl Fn(usize) -> reqwest::RequestBuilder,
    done: &[u16],
    what: &str,
) -> (serde_json::Value, usize) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match request(attempts).send().await {
            Ok(res) if done.contains(&res.status().as_u16()) => {
                return (res.json().await.unwrap_or_default(), attempts);
            }
            Ok(res) if res.status().is_client_error() && res.status().as_u16() != 429 => {
                // A 4xx other than throttling would loop forever; it is a harness bug.
                eprintln!("{what}: unexpected {}", res.status());
                return (serde_json::Value::Null, attempts);
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Creates one overdue task (the same `Idempotency-Key` on every attempt), then applies its
/// follow-up. With several backends, write `n` starts on one and each retry moves to the next.
/// Returns the attempts and the requests it needed without faults.
async fn write_one(
    client: &reqwest::Client,
    bases: &[String],
    n: usize,
    label: &str,
    follow_up: FollowUp,
) -> (usize, usize) {
    let key = format!("faults-{label}-{n}-{}", rand::random::<u64>());
    let body =
        json!({"title": format!("{label} write {n}"), "dueAt": "2020-01-01T09:00:00Z", "priority": "low"});
    let what = format!("write {n} of {label}");
    let base = |attempt: usize| &bases[(n + attempt) % bases.len()];
    let (task, mut attempts) = until_done(
        |a| client.post(format!("{}/api/v1/tasks", base(a))).header("idempotency-key", &key).json(&body),
        &[201],
        &what,
    )
    .await;
    let Some(id) = task["id"].as_str() else { return (attempts, 1) };
    let url = |attempt: usize| format!("{}/api/v1/tasks/{id}", base(attempt));
    let more = match follow_up {
        FollowUp::None => return (attempts, 1),
        FollowUp::Rename => {
            until_done(
                |a| client.patch(url(a)).json(&json!({"title": format!("{label} write {n}, renamed")})),
                &[200],
                &what,
            )
            .await
        }
        // Already completed or already gone: a retry of a request that did succeed.
        FollowUp::Complete => {
            until_done(|a| client.post(format!("{}/complete", url(a))), &[200, 409], &what).await
        }
        FollowUp::Delete => until_done(|a| client.delete(url(a)), &[204, 404], &what).await,
    };
    attempts += more.1;
    (attempts, 2)
}

/// A steady stream of `total` writes spread over the users, by `writers` concurrent writers.
struct Stream {
    done: Arc<AtomicUsize>,
    attempts: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    writers: tokio::task::JoinSet<()>,
}

impl Stream {
    fn start(
        users: &[(reqwest::Client, String)],
        bases: &[String],
        label: &str,
        total: usize,
        writers: usize,
        follow_ups: bool,
    ) -> Self {
        let users = Arc::new(users.to_vec());
        let counter = || Arc::new(AtomicUsize::new(0));
        let (done, attempts, requests, next) = (counter(), counter(), counter(), counter());
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..writers {
            let (users, bases, label) = (Arc::clone(&users), bases.to_vec(), label.to_owned());
            let (done, attempts, requests, next) =
                (Arc::clone(&done), Arc::clone(&attempts), Arc::clone(&requests), Arc::clone(&next));
            set.spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= total {
                        break;
                    }
                    let client = &users[n % users.len()].0;
                    let (tried, needed) =
                        write_one(client, &bases, n, &label, FollowUp::of(n, follow_ups)).await;
                    attempts.fetch_add(tried, Ordering::SeqCst);
                    requests.fetch_add(needed, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                    // A steady stream rather than a burst, so the fault lands mid-stream.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
        }
        Self { done, attempts, requests, writers: set }
    }

    async fn wait_done(&self, n: usize) {
        while self.done.load(Ordering::SeqCst) < n && !self.writers.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the end of the stream; returns the HTTP attempts it took, and the requests it
    /// would have taken without a single failure.
    async fn finish(mut self) -> (usize, usize) {
        while self.writers.join_next().await.is_some() {}
        (self.attempts.load(Ordering::SeqCst), self.requests.load(Ordering::SeqCst))
    }
}

/// Polls until every committed change has its effect or `timeout` runs out.
async fn settle(db: &PgPool, users: &[String], log_dir: &Path, timeout: Duration) -> anyhow::Result<Counts> {
    let deadline = Instant::now() + timeout;
    loop {
        let now = counts::counts(db, users, log_dir).await?;
        if now.settled() || Instant::now() >= deadline {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The dead-letter scenario's fault: every attempt to process these users' events fails (a
/// trigger refuses the agent's processed-event row, so the handler's transaction fails and
/// the agent answers RETRY), until [`DEAD_LETTER_CURE`].
const DEAD_LETTER_FAULT: &str = "
create or replace function faults_refuse() returns trigger language plpgsql as $$
begin
  if new.consumer = 'ai-agent' and exists (
       select 1 from outbox o join faults_refused r on r.user_id = o.user_id
        where o.event_id::text = new.event_id) then
    raise exception 'refused by the fault test';
  end if;
  return new;
end $$;
create table if not exists faults_refused (user_id uuid primary key);
drop trigger if exists faults_refuse on processed_event;
create trigger faults_refuse before insert on processed_event for each row execute function faults_refuse();";
const DEAD_LETTER_CURE: &str = "drop trigger faults_refuse on processed_event; drop function faults_refuse(); drop table faults_refused;";

#[tokio::main]
#[expect(
    clippy::too_many_lines,
    reason = "one loop over the scenarios; each fault and its recovery is a short match arm"
)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.log_dir)?;
    let db = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(&args.database_url).await?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let scenarios = args.scenarios.clone().unwrap_or_else(|| {
        let names = match args.sidecars {
            Sidecars::StandIn if args.replicas == 2 => "two-of-each,backend-killed",
            Sidecars::StandIn => "sidecar,backend,agent,postgres",
            Sidecars::Dapr => "steady,replicas,broker,backend-sidecar,dead-letter",
        };
        names.split(',').map(str::to_owned).collect()
    });
    let mut product = Product::start(&args, &http).await?;
    let mut bases = vec![product.base.clone()];
    bases.extend(product.twin.as_ref().map(|twin| twin.base.clone()));

    let mut failed = Vec::new();
    for scenario in &scenarios {
        let started = Instant::now();
        let started_at = chrono::Utc::now();
        let (writes, user_count) =
            if scenario == "dead-letter" { (args.dead_letter_writes, 1) } else { (args.writes, args.users) };
        let mut users = Vec::new();
        for i in 0..user_count {
            users.push(sign_up(&bases[i % bases.len()], scenario).await?);
        }
        let ids: Vec<String> = users.iter().map(|(_, id)| id.clone()).collect();
        let mut notes = Vec::new();
        // Faults whose writes must all succeed at the first attempt: nothing the API needs failed.
        let api_unaffected = !matches!(scenario.as_str(), "backend" | "postgres" | "backend-killed");
        let mut replayed_all = true;
        match scenario.as_str() {
            "replicas" => {
                product.start_replica(&args, &http).await?;
                let kafka_dir = args.kafka_dir.as_deref().context("--kafka-dir is needed")?;
                let deadline = Instant::now() + Duration::from_mins(1);
                let mut members = group_members(kafka_dir)?;
                while members < 2 && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    members = group_members(kafka_dir)?;
                }
                ensure!(members == 2, "the consumer group has {members} member(s) holding partitions, not 2");
                notes.push("2 members sharing the partitions".to_owned());
            }
            "dead-letter" => {
                sqlx::raw_sql(DEAD_LETTER_FAULT).execute(&db).await?;
                sqlx::query("insert into faults_refused values ($1::uuid)")
                    .bind(&ids[0])
                    .execute(&db)
                    .await?;
            }
            _ => {}
        }

        // The dead-letter scenario's events each wait out the sidecar's retries: creates only.
        let follow_ups = scenario != "dead-letter";
        let stream = Stream::start(&users, &bases, scenario, writes, args.writers, follow_ups);
        let deletes = (0..writes).filter(|&n| FollowUp::of(n, follow_ups) == FollowUp::Delete).count();
        // Let a third of the stream through, then inject the fault.
        stream.wait_done(writes / 3).await;
        let mut ready_again = None;
        let mut sidecar_back = None;
        match scenario.as_str() {
            "steady" | "dead-letter" => {}
            "two-of-each" => {
                // While the writes go on through both backends.
                ensure!(bases.len() == 2, "two-of-each needs --replicas 2");
                notes.push(replicas::sign_outs_reach_both(&bases, 4).await?);
                notes.push(replicas::sign_in_throttle_is_shared(&bases).await?);
            }
            "backend-killed" => {
                // Writes in flight on it fail over to the other backend; its relay pass, if
                // it held the relay, is rolled back and the other replica's relay takes over.
                product.backend.kill();
                tokio::time::sleep(Duration::from_secs(3)).await;
                ready_again = Some(product.backend.start_ready(&http, Duration::from_mins(1)).await?);
            }
            "sidecar" => {
                // Frozen: publishes time out rather than being refused.
                product.sidecar.signal("-STOP");
                tokio::time::sleep(Duration::from_secs(6)).await;
                product.sidecar.signal("-CONT");
            }
            "backend" => {
                product.backend.kill();
                tokio::time::sleep(Duration::from_secs(1)).await;
                ready_again = Some(product.backend.start_ready(&http, Duration::from_mins(1)).await?);
            }
            "agent" => {
                product.agent.kill();
                tokio::time::sleep(Duration::from_secs(2)).await;
                ready_again = Some(product.agent.start_ready(&http, Duration::from_mins(1)).await?);
            }
            "postgres" => {
                shell(args.pg_restart_command.as_deref(), "restarting PostgreSQL")?;
                ready_again = Some(product.backend.wait_ready(&http, Duration::from_mins(1)).await?);
                product.agent.wait_ready(&http, Duration::from_mins(1)).await?;
            }
            "replicas" => {
                // The replica's pod dies: the agent and its sidecar together, mid-stream.
                let (mut agent, mut sidecar) = product.replica.take().context("the replica runs")?;
                sidecar.kill();
                agent.kill();
            }
            "broker" => {
                let restart = Instant::now();
                shell(args.broker_restart_command.as_deref(), "restarting the Kafka broker")?;
                ready_again = Some(restart.elapsed());
            }
            "backend-sidecar" => {
                product.sidecar.kill();
                tokio::time::sleep(Duration::from_secs(5)).await;
                ready_again = Some(product.sidecar.start_ready(&http, Duration::from_mins(1)).await?);
                sidecar_back = Some(chrono::Utc::now());
            }
            other => bail!("unknown scenario {other}"),
        }
        let fault_over = Instant::now();
        let (attempts, requests) = stream.finish().await;

        if scenario == "dead-letter" {
            // Through the sidecar's retries to the dead-letter topic and into the store; then
            // the cause is removed and the letters are replayed.
            let deadline = Instant::now() + Duration::from_secs(args.settle_secs);
            let expected = i64::try_from(writes)?;
            let mut letters = counts::dead_letters(&db, &ids).await?;
            while letters.0 < expected && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(500)).await;
                letters = counts::dead_letters(&db, &ids).await?;
            }
            let before = counts::counts(&db, &ids, &args.log_dir).await?;
            sqlx::raw_sql(DEAD_LETTER_CURE).execute(&db).await?;
            ensure!(letters.0 == expected, "{} of {writes} events reached the dead-letter store", letters.0);
            ensure!(before.processed == 0, "{} refused events counted as processed", before.processed);
            let replay = Command::new(args.bin_dir.join("ai-agent"))
                .arg("replay-dead-letters")
                .envs(product.agent_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .output()?;
            ensure!(
                replay.status.success(),
                "replay-dead-letters failed: {}",
                String::from_utf8_lossy(&replay.stderr)
            );
            let replayed = counts::dead_letters(&db, &ids).await?.1;
            notes.push(format!(
                "{} dead-lettered after the sidecar's retries, {replayed} replayed",
                letters.0
            ));
            replayed_all = replayed == expected;
        }

        let last = settle(&db, &ids, &args.log_dir, Duration::from_secs(args.settle_secs)).await?;
        let caught_up = fault_over.elapsed();
        if let Some(since) = sidecar_back {
            let (published, span) = counts::relay_rate(&db, &ids, since).await?;
            notes.push(format!(
                "relay drained {published} events in {span:.2} s ({:.0}/s)",
                published as f64 / span.max(0.001)
            ));
        }
        let (p50, p95) = counts::latency_ms(&db, &ids).await?;
        if scenario == "two-of-each" {
            notes.push(replicas::order_per_task_kept(&db, &ids, &args.log_dir).await?);
            notes.push(replicas::cron_runs_once_per_period(&args.log_dir, started_at)?);
        }
        let ok = last.tasks == i64::try_from(writes - deletes)?
            && last.settled()
            && (!api_unaffected || attempts == requests)
            // Without a fault, every event is published and delivered once.
            && (!matches!(scenario.as_str(), "steady" | "two-of-each") || last.redeliveries == 0)
            && replayed_all;
        println!(
            "scenario {scenario}: committed {}, delivered {}, processed {} of {} handled, duplicate effects {} \
             (handled twice {}, suggested by two events {}; missing or extra effects {}; redeliveries {}; tasks {}; \
             {attempts} HTTP attempts for {requests} requests by {} users{}; caught up {:.1} s after the fault; \
             commit to suggestion p50 {p50:.0} ms, p95 {p95:.0} ms{}{}) {}",
            last.committed,
            last.delivered,
            last.processed,
            last.handled_types,
            last.handled_twice + last.by_two_events,
            last.handled_twice,
            last.by_two_events,
            last.wrong_effects,
            last.redeliveries,
            last.tasks,
            ids.len(),
            ready_again.map(|d| format!("; ready again after {:.1} s", d.as_secs_f64())).unwrap_or_default(),
            caught_up.as_secs_f64(),
            if notes.is_empty() { String::new() } else { format!("; {}", notes.join("; ")) },
            format_args!("; {:.1} s in all", started.elapsed().as_secs_f64()),
            if ok { "OK" } else { "MISMATCH" },
        );
        if !ok {
            failed.push(scenario.clone());
        }
    }
    // Still serving after everything.
    product.backend.wait_ready(&http, Duration::from_secs(10)).await?;
    product.agent.wait_ready(&http, Duration::from_secs(10)).await?;
    if let Some(twin) = &product.twin {
        twin.backend.wait_ready(&http, Duration::from_secs(10)).await?;
        twin.agent.wait_ready(&http, Duration::from_secs(10)).await?;
    }
    if failed.is_empty() {
        println!("all fault scenarios passed");
        Ok(())
    } else {
        bail!("fault scenarios with mismatched counts: {}", failed.join(", "))
    }
}
