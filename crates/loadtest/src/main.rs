//! A closed-loop load benchmark of the Todo API.
//!
//! `--users` virtual users each sign up, seed a task list, and then send a weighted mix of
//! sign-ins, filtered lists, reads, creates, updates, completions, reopens and deletes as fast
//! as the answers come back (or with `--think-ms` between them). Only requests that start
//! inside the measured window, after a warm-up, are recorded; the sign-ups and seeding before
//! it are reported on their own, because Argon2 makes them slow by design.
//!
//! With `--database-url` it also reports how long events waited in the transactional outbox,
//! what was left unpublished, and what the outbox insert costs next to the task insert
//! (`pg_stat_statements`); with `--backend-pid`/`--emulator-pid`, the processes' peak memory.
//! It prints a table, then one JSON line with the same figures. `scripts/bench.sh` starts
//! everything and runs it; see `./dev bench`.

#![forbid(unsafe_code)]

mod database;
mod process;
mod report;
mod stats;
mod user;
mod workload;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Parser;
use tokio::{sync::Semaphore, task::JoinSet};

use crate::{
    database::{Database, OutboxCost, StatementCost},
    report::{Events, OpRow, ProcessUsage, Report, ServerCpu, Settings, Setup},
    stats::Recorder,
    user::{Budget, Pacing, Schedule, UserConfig, VirtualUser},
    workload::{Mix, Op},
};

/// Drive a mixed, realistic workload against a running Todo backend on this machine.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The backend to load; must be on this machine (`127.0.0.0/8`, `[::1]` or `localhost`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base_url: String,

    /// Concurrent virtual users, each with its own account, session and connection.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=5000))]
    users: u16,

    /// Length of the measured window, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration: u64,

    /// Seconds of the full mix before the measured window, to fill caches and connection
    /// pools; not recorded.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    warmup: u64,

    /// Pause of each user between two requests, in ms; 0 is a closed loop at full speed.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    think_ms: u64,

    /// Open loop: the requests per second offered by all users together, each user sending at
    /// fixed intervals whatever the answers take. A request's latency counts from when it was
    /// due, so a stall that delays later requests shows in their latencies too (no coordinated
    /// omission). Unset: a closed loop, each user sending as soon as its last answer came.
    #[arg(long, conflicts_with = "think_ms", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    rate: Option<u64>,

    /// Tasks each user creates before the warm-up.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=1000))]
    seed_tasks: u64,

    /// Sign-ups in flight at once during setup. Each is an Argon2 hash (tens of ms of CPU and
    /// about 19 MiB); a few at a time keeps the setup from measuring a memory spike.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1000))]
    signup_concurrency: u64,

    /// Per-request timeout in seconds; a request that takes longer counts as an error.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    request_timeout: u64,

    /// Hard cap on requests in the warm-up and measured window together.
    #[arg(long, default_value_t = 20_000_000)]
    max_requests: u64,

    /// Give up on the setup (sign-ups and seeding) after this many seconds.
    #[arg(long, default_value_t = 900)]
    setup_timeout: u64,

    /// Change weights of the mix (parts per thousand by default: `sign_in=50`, `list=350`,
    /// `get=100`, `create=200`, `update=150`, `complete=100`, `reopen=25`, `delete=25`), e.g.
    /// `sign_in=0`.
    #[arg(long, default_value = "", value_parser = parse_mix)]
    mix: Mix,

    /// Seed of the users' random choices, so two runs send the same mix.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// PostgreSQL the backend uses, for the outbox and statement figures. Optional.
    #[arg(long, env = "LOADTEST_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,

    /// Seconds to wait after the load for the outbox to drain.
    #[arg(long, default_value_t = 60)]
    drain_timeout: u64,

    /// Backend process whose memory to report.
    #[arg(long)]
    backend_pid: Option<u32>,

    /// ai-agent process whose memory to report.
    #[arg(long)]
    agent_pid: Option<u32>,
    /// Dapr emulator process whose memory to report.
    #[arg(long)]
    emulator_pid: Option<u32>,

    /// PostgreSQL postmaster, whose CPU time (with its connection processes) to report.
    #[arg(long)]
    postgres_pid: Option<u32>,
}

/// A process whose resources the report shows.
struct Watched {
    name: &'static str,
    pid: u32,
    /// Count its child processes' CPU time too (PostgreSQL's connections).
    with_children: bool,
    /// Report its memory; not for PostgreSQL, whose shared buffers every process maps.
    memory: bool,
}

#[tokio::main]
#[expect(clippy::too_many_lines, reason = "the run's phases in order: set up, warm up, measure, report")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let api = user::loopback_api_root(&args.base_url)?;
    let database = match &args.database_url {
        Some(url) => Some(Database::connect(url).await?),
        None => None,
    };
    if let Some(db) = &database
        && !db.has_statements
    {
        eprintln!(
            "note: pg_stat_statements is not available (needs shared_preload_libraries and the extension); statement costs are skipped"
        );
    }
    let watch = |name, pid, with_children, memory| Watched { name, pid, with_children, memory };
    let mut processes: Vec<Watched> = Vec::new();
    processes.extend(args.backend_pid.map(|pid| watch("backend", pid, false, true)));
    processes.extend(args.emulator_pid.map(|pid| watch("emulator", pid, false, true)));
    processes.extend(args.agent_pid.map(|pid| watch("ai-agent", pid, false, true)));
    processes.extend(args.postgres_pid.map(|pid| watch("postgres", pid, true, false)));
    processes.push(watch("loadtest", std::process::id(), false, true));

    let users = usize::from(args.users);
    let config = Arc::new(UserConfig {
        api: api.to_string(),
        request_timeout: Duration::from_secs(args.request_timeout),
        think_time: Duration::from_millis(args.think_ms),
        seed_tasks: usize::try_from(args.seed_tasks).unwrap_or(usize::MAX),
        run_id: run_id(),
        rng_seed: args.seed,
    });

    eprintln!("==> setup: {users} sign-ups and {} tasks each", args.seed_tasks);
    let setup_started = Instant::now();
    let (ready, setup_recorder, failures) =
        set_up(users, &config, usize::try_from(args.signup_concurrency).unwrap_or(1), args.setup_timeout)
            .await?;
    let setup_elapsed = setup_started.elapsed();
    if ready.is_empty() {
        bail!("no virtual user could be set up: {}", failures.first().map_or("", String::as_str));
    }
    let setup_peaks: Vec<Option<u64>> = processes
        .iter()
        .map(|p| p.memory.then(|| process::memory(p.pid).ok().map(|m| m.peak_kib)).flatten())
        .collect();
    for p in processes.iter().filter(|p| p.memory) {
        if let Err(e) = process::reset_peak(p.pid) {
            eprintln!(
                "note: cannot reset the peak memory of pid {} ({e}); load peaks include the setup",
                p.pid
            );
        }
    }

    eprintln!("==> load: {} users, {} s warm-up, {} s measured", ready.len(), args.warmup, args.duration);
    let started = Instant::now();
    let window = Duration::from_secs(args.duration);
    let schedule = Schedule {
        measure_from: started + Duration::from_secs(args.warmup),
        stop_at: started + Duration::from_secs(args.warmup) + window,
    };
    let budget = Arc::new(Budget::new(args.max_requests));
    let ready_users = u32::try_from(ready.len()).unwrap_or(u32::MAX).max(1);
    // Each user's interval, and its first request spread across one interval so the users do
    // not fire together.
    let pace = args
        .rate
        .map(|rate| Duration::from_secs(u64::from(ready_users)) / u32::try_from(rate).unwrap_or(u32::MAX));
    let mut running = JoinSet::new();
    for (i, user) in (0u32..).zip(ready) {
        let pacing = pace.map(|interval| Pacing { interval, first_at: started + interval * i / ready_users });
        running.spawn(user.run(args.mix.clone(), schedule, pacing, Arc::clone(&budget)));
    }

    tokio::time::sleep_until(schedule.measure_from.into()).await;
    let cpu_from: Vec<Option<f64>> =
        processes.iter().map(|p| process::cpu_seconds(p.pid, p.with_children).ok()).collect();
    let machine_from = process::machine_cpu_seconds().ok();
    // PostgreSQL's CPU split by the client each connection works for.
    let split_server = args.postgres_pid.is_some();
    let server_from = match &database {
        Some(db) if split_server => process::server_processes(db.server_processes().await?),
        _ => Vec::new(),
    };
    let window_from = match &database {
        Some(db) => {
            db.reset_statements().await.context("resetting pg_stat_statements")?;
            Some(db.now().await?)
        }
        None => None,
    };

    // Requests stop starting at `stop_at`; one still in flight then may run to its timeout,
    // and nothing waits longer than that.
    let deadline = schedule.stop_at + config.request_timeout + Duration::from_secs(5);
    let mut recorder = Recorder::default();
    let mut users_abandoned = 0;
    loop {
        match tokio::time::timeout_at(deadline.into(), running.join_next()).await {
            Ok(Some(Ok(samples))) => recorder.add(&samples),
            Ok(Some(Err(e))) => eprintln!("a virtual user failed: {e}"),
            Ok(None) => break,
            Err(_) => {
                users_abandoned = running.len();
                running.abort_all();
                break;
            }
        }
    }
    let cpu_elapsed = schedule.measure_from.elapsed().as_secs_f64();
    let postgres_by_client = match &database {
        Some(db) if split_server => {
            let server_to = process::server_processes(db.server_processes().await?);
            process::split_by_name(&server_from, &server_to, cpu_elapsed)
                .into_iter()
                .map(|(name, processes, cpu_cores)| ServerCpu { name, processes, cpu_cores })
                .collect()
        }
        _ => Vec::new(),
    };
    let machine_busy_cores = machine_from
        .zip(process::machine_cpu_seconds().ok())
        .map(|((busy_from, _), (busy_to, _))| (busy_to - busy_from) / cpu_elapsed);
    eprintln!("==> load stopped; collecting results");

    let usage = processes
        .iter()
        .zip(setup_peaks)
        .zip(cpu_from)
        .map(|((p, setup_peak), cpu_from)| {
            let end = p.memory.then(|| process::memory(p.pid).ok()).flatten();
            let cpu_to = process::cpu_seconds(p.pid, p.with_children).ok();
            ProcessUsage {
                process: p.name.to_owned(),
                pid: p.pid,
                setup_peak_mib: setup_peak.map(mib),
                load_peak_mib: end.map(|m| mib(m.peak_kib)),
                rss_end_mib: end.map(|m| mib(m.rss_kib)),
                cpu_cores: cpu_from.zip(cpu_to).map(|(from, to)| (to - from) / cpu_elapsed),
            }
        })
        .collect();

    let (events, outbox_cost, top_statements) = match &database {
        Some(db) => database_figures(db, window_from, Duration::from_secs(args.drain_timeout)).await?,
        None => (None, None, Vec::new()),
    };

    let operations = recorder.ops().map(|(op, stats)| OpRow { op, summary: stats.summary(window) }).collect();
    let report = Report {
        settings: Settings {
            base_url: args.base_url.clone(),
            users,
            warmup_s: args.warmup,
            duration_s: args.duration,
            think_ms: args.think_ms,
            rate: args.rate,
            seed_tasks: config.seed_tasks,
            rng_seed: args.seed,
            mix_percent: args.mix.shares().into_iter().map(|(op, share)| (op.name(), share)).collect(),
        },
        setup: Setup {
            users_ready: users - failures.len(),
            users_failed: failures.len(),
            first_failure: failures.first().cloned(),
            elapsed_s: setup_elapsed.as_secs_f64(),
            sign_up: setup_recorder.get(Op::SignUp).cloned().unwrap_or_default().summary(setup_elapsed),
            seed_create: setup_recorder.get(Op::Create).cloned().unwrap_or_default().summary(setup_elapsed),
        },
        operations,
        overall: recorder.overall().summary(window),
        budget_exhausted: budget.spent(),
        users_abandoned,
        events,
        outbox_cost,
        top_statements,
        processes: usage,
        postgres_by_client,
        machine_busy_cores,
        machine_cores: std::thread::available_parallelism().map_or(0, usize::from),
    };
    println!("{}", report.render());
    println!("{}", serde_json::to_string(&report).context("serialising the summary")?);
    Ok(())
}

type SetUpUsers = (Vec<VirtualUser>, Recorder, Vec<String>);

/// Signs up and seeds every user, a bounded number of sign-ups at a time. Users whose setup
/// failed are left out of the load and their errors returned.
async fn set_up(
    users: usize,
    config: &Arc<UserConfig>,
    signup_concurrency: usize,
    timeout_secs: u64,
) -> anyhow::Result<SetUpUsers> {
    let slots = Arc::new(Semaphore::new(signup_concurrency));
    let mut setting_up = JoinSet::new();
    for index in 0..users {
        let (config, slots) = (Arc::clone(config), Arc::clone(&slots));
        setting_up.spawn(async move {
            let mut samples = Vec::new();
            let user = match VirtualUser::new(index, config) {
                Ok(mut user) => user.set_up(&slots, &mut samples).await.map(|()| user),
                Err(e) => Err(e),
            };
            (user, samples)
        });
    }
    let all = async {
        let mut ready = Vec::with_capacity(users);
        let mut recorder = Recorder::default();
        let mut failures = Vec::new();
        while let Some(joined) = setting_up.join_next().await {
            match joined {
                Ok((Ok(user), samples)) => {
                    ready.push(user);
                    recorder.add(&samples);
                }
                Ok((Err(e), samples)) => {
                    failures.push(format!("{e:#}"));
                    recorder.add(&samples);
                }
                Err(e) => failures.push(format!("setup task failed: {e}")),
            }
        }
        (ready, recorder, failures)
    };
    tokio::time::timeout(Duration::from_secs(timeout_secs), all)
        .await
        .with_context(|| format!("the setup took longer than {timeout_secs} s (--setup-timeout)"))
}

type DatabaseFigures = (Option<Events>, Option<OutboxCost>, Vec<StatementCost>);

/// Reads the statement costs and the backlog at once (before the drain adds relay work to
/// them), then waits for the relay to catch up and measures event latency.
async fn database_figures(
    db: &Database,
    window_from: Option<chrono::DateTime<chrono::Utc>>,
    drain_timeout: Duration,
) -> anyhow::Result<DatabaseFigures> {
    let window_to = db.now().await?;
    let statements = db.statement_costs().await?;
    let backlog_at_stop = db.backlog().await?;
    let drain = db.wait_for_drain(drain_timeout).await?;
    let window = db.event_latency(window_from, Some(window_to)).await?;
    let whole_run = db.event_latency(None, None).await?;
    // The agent processes what the relay just published; give the last deliveries a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let to_suggestion = db.suggestion_latency(window_from, Some(window_to)).await?;
    let outbox_cost = db.has_statements.then(|| OutboxCost::pick(&statements));
    let top = statements.into_iter().take(8).collect();
    let events =
        Events { window, whole_run, to_suggestion, backlog_at_stop, drain_s: drain.map(|d| d.as_secs_f64()) };
    Ok((Some(events), outbox_cost, top))
}

fn parse_mix(spec: &str) -> Result<Mix, String> {
    Mix::with_overrides(spec)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A short id unique per run, so repeated runs against one database sign up new accounts.
fn run_id() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    format!("{micros:x}")
}
