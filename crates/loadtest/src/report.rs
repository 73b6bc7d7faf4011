//! The results: one structure, printed as a table for people and as one JSON line for scripts.

use std::fmt::Write as _;

use serde::Serialize;

use crate::{
    database::{Backlog, EventLatency, OutboxCost, StatementCost},
    stats::Summary,
    workload::Op,
};

#[derive(Debug, Serialize)]
pub struct Report {
    pub settings: Settings,
    pub setup: Setup,
    pub operations: Vec<OpRow>,
    pub overall: Summary,
    /// The run-wide request cap was reached before the clock ran out.
    pub budget_exhausted: bool,
    /// Virtual users still running at the hard deadline (their requests hung).
    pub users_abandoned: usize,
    pub events: Option<Events>,
    pub outbox_cost: Option<OutboxCost>,
    pub top_statements: Vec<StatementCost>,
    pub processes: Vec<ProcessUsage>,
    /// PostgreSQL's CPU by whom its processes worked for (with `--postgres-pid`).
    pub postgres_by_client: Vec<ServerCpu>,
    /// Cores busy machine-wide in the measured window, whoever used them.
    pub machine_busy_cores: Option<f64>,
    pub machine_cores: usize,
}

#[derive(Debug, Serialize)]
pub struct Settings {
    pub base_url: String,
    pub users: usize,
    pub warmup_s: u64,
    pub duration_s: u64,
    pub think_ms: u64,
    /// Requests per second offered in an open loop; `None` for a closed loop.
    pub rate: Option<u64>,
    pub seed_tasks: usize,
    pub rng_seed: u64,
    pub mix_percent: Vec<(&'static str, f64)>,
}

#[derive(Debug, Serialize)]
pub struct Setup {
    pub users_ready: usize,
    pub users_failed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<String>,
    pub elapsed_s: f64,
    pub sign_up: Summary,
    pub seed_create: Summary,
}

#[derive(Debug, Serialize)]
pub struct OpRow {
    pub op: Op,
    #[serde(flatten)]
    pub summary: Summary,
}

#[derive(Debug, Serialize)]
pub struct Events {
    /// Events whose row was written inside the measured window.
    pub window: EventLatency,
    /// Every event of the run, the seeding burst included.
    pub whole_run: EventLatency,
    /// Change → suggestion written by the ai-agent, for events of the measured window (empty
    /// when the run had no ai-agent).
    pub to_suggestion: EventLatency,
    /// Left unpublished at the moment the load stopped.
    pub backlog_at_stop: Backlog,
    /// Seconds from the load stopping until the backlog was empty; `None` if it did not
    /// empty within the drain timeout.
    pub drain_s: Option<f64>,
}

/// Cores a group of PostgreSQL's processes kept busy in the measured window: the connections
/// of one `application_name`, or the background processes of one type.
#[derive(Debug, Serialize)]
pub struct ServerCpu {
    pub name: String,
    pub processes: usize,
    pub cpu_cores: f64,
}

#[derive(Debug, Serialize)]
pub struct ProcessUsage {
    pub process: String,
    pub pid: u32,
    /// Peak resident set from start-up to the end of the setup (sign-ups and seeding), MiB.
    pub setup_peak_mib: Option<f64>,
    /// Peak resident set inside the warm-up and measured window, MiB.
    pub load_peak_mib: Option<f64>,
    /// Resident set when the load stopped, MiB.
    pub rss_end_mib: Option<f64>,
    /// CPU time in the measured window over its length: 1.0 is one core kept busy.
    pub cpu_cores: Option<f64>,
}

fn opt(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1}{unit}"))
}

fn row(out: &mut String, name: &str, s: &Summary) {
    let _ = writeln!(
        out,
        "  {name:<12} {:>9} {:>9.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>7} {:>9.1}",
        s.requests,
        s.throughput_rps,
        s.mean_ms,
        s.p50_ms,
        s.p95_ms,
        s.p99_ms,
        s.max_ms,
        s.errors,
        s.mean_in_flight
    );
}

fn latency_line(out: &mut String, label: &str, e: &EventLatency) {
    let ms = |v: Option<f64>| opt(v, "");
    let _ = writeln!(
        out,
        "  {label:<16} {:>7} events, {:>7} published   p50 {}  p95 {}  p99 {}  max {}  mean {}  min {} ms",
        e.events,
        e.published,
        ms(e.p50_ms),
        ms(e.p95_ms),
        ms(e.p99_ms),
        ms(e.max_ms),
        ms(e.mean_ms),
        ms(e.min_ms)
    );
}

fn statement_line(out: &mut String, label: &str, s: Option<&StatementCost>) {
    let _ = match s {
        Some(s) => writeln!(
            out,
            "  {label:<20} {:>8} calls   mean {:.4} ms   total {:.0} ms",
            s.calls, s.mean_exec_ms, s.total_exec_ms
        ),
        None => writeln!(out, "  {label:<20} not seen"),
    };
}

impl Report {
    #[expect(clippy::too_many_lines, reason = "the report's sections top to bottom, as they print")]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let s = &self.settings;
        let think = if s.think_ms == 0 {
            "no think time".to_owned()
        } else {
            format!("{} ms think time", s.think_ms)
        };
        let load = match s.rate {
            Some(rate) => format!("open loop at {rate} req/s ({think})"),
            None => format!("closed loop ({think})"),
        };
        let _ = writeln!(
            out,
            "Load benchmark against {}: {} users, {load}, {} s measured after {} s warm-up",
            s.base_url, s.users, s.duration_s, s.warmup_s
        );
        let mix: Vec<String> = s.mix_percent.iter().map(|(op, share)| format!("{op} {share:.1}%")).collect();
        let _ = writeln!(out, "Mix: {}", mix.join(", "));

        let setup = &self.setup;
        let _ = writeln!(
            out,
            "\nSetup (not measured): {} users ready, {} failed, in {:.1} s",
            setup.users_ready, setup.users_failed, setup.elapsed_s
        );
        if let Some(failure) = &setup.first_failure {
            let _ = writeln!(out, "  first failure: {failure}");
        }
        let _ = writeln!(
            out,
            "  sign-up (Argon2 hash):  {} requests  p50 {:.1}  p95 {:.1}  max {:.1} ms",
            setup.sign_up.requests, setup.sign_up.p50_ms, setup.sign_up.p95_ms, setup.sign_up.max_ms
        );
        let _ = writeln!(
            out,
            "  seed create:            {} requests  p50 {:.1}  p95 {:.1}  max {:.1} ms",
            setup.seed_create.requests,
            setup.seed_create.p50_ms,
            setup.seed_create.p95_ms,
            setup.seed_create.max_ms
        );

        let _ = writeln!(out, "\nMeasured window ({} s):", s.duration_s);
        let _ = writeln!(
            out,
            "  {:<12} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9}",
            "operation",
            "requests",
            "req/s",
            "mean ms",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "errors",
            "in flight"
        );
        for op_row in &self.operations {
            row(&mut out, op_row.op.name(), &op_row.summary);
        }
        row(&mut out, "overall", &self.overall);
        let mut kinds: Vec<String> = Vec::new();
        for op_row in &self.operations {
            for (kind, n) in &op_row.summary.error_kinds {
                kinds.push(format!("{} {kind}: {n}", op_row.op.name()));
            }
        }
        if !kinds.is_empty() {
            let _ = writeln!(out, "  errors: {}", kinds.join(", "));
        }
        let _ = writeln!(
            out,
            "  (in flight: users inside that operation at an average moment; in a closed loop they send nothing else)"
        );
        if self.budget_exhausted {
            let _ = writeln!(
                out,
                "  NOTE: the request cap (--max-requests) was reached before the clock ran out"
            );
        }
        if self.users_abandoned > 0 {
            let _ = writeln!(
                out,
                "  NOTE: {} users were still waiting at the hard deadline",
                self.users_abandoned
            );
        }

        if let Some(events) = &self.events {
            let _ = writeln!(
                out,
                "\nEvents through the outbox (published_at - created_at, both transaction start times):"
            );
            latency_line(&mut out, "measured window", &events.window);
            latency_line(&mut out, "whole run", &events.whole_run);
            if events.to_suggestion.events > 0 {
                let _ = writeln!(
                    out,
                    "  end to end, change → suggestion written by the ai-agent (suggestion.created_at - outbox.created_at):"
                );
                latency_line(&mut out, "measured window", &events.to_suggestion);
            }
            let _ = writeln!(
                out,
                "  backlog when the load stopped: {} unpublished (oldest {} s); drained {}",
                events.backlog_at_stop.unpublished,
                opt(events.backlog_at_stop.oldest_age_s, ""),
                events
                    .drain_s
                    .map_or_else(|| "NOT within the timeout".to_owned(), |d| format!("in {d:.2} s"))
            );
        }
        if let Some(cost) = &self.outbox_cost {
            let _ = writeln!(
                out,
                "\nStatement cost in the measured window (pg_stat_statements, execution time):"
            );
            statement_line(&mut out, "insert into outbox", cost.outbox_insert.as_ref());
            statement_line(&mut out, "insert into task", cost.task_insert.as_ref());
            let _ = writeln!(
                out,
                "  (execution only: the client round trip per statement and the commit's WAL flush are not included)"
            );
            if !self.top_statements.is_empty() {
                let _ = writeln!(out, "  top statements by total time:");
                for st in &self.top_statements {
                    let query: String = st.query.split_whitespace().collect::<Vec<_>>().join(" ");
                    let query: String = query.chars().take(90).collect();
                    let _ = writeln!(
                        out,
                        "    {:>9.0} ms {:>8} calls {:>8.4} ms mean  {query}",
                        st.total_exec_ms, st.calls, st.mean_exec_ms
                    );
                }
            }
        }
        if !self.processes.is_empty() {
            let _ = writeln!(
                out,
                "\nProcesses (memory: VmHWM peak resident set; CPU: cores busy in the measured window):"
            );
            for p in &self.processes {
                let _ = writeln!(
                    out,
                    "  {:<9} pid {:<8} setup peak {:>10}   load peak {:>10}   resident at stop {:>10}   CPU {}",
                    p.process,
                    p.pid,
                    opt(p.setup_peak_mib, " MiB"),
                    opt(p.load_peak_mib, " MiB"),
                    opt(p.rss_end_mib, " MiB"),
                    p.cpu_cores.map_or_else(|| "n/a".to_owned(), |c| format!("{c:.2} cores"))
                );
            }
        }
        if !self.postgres_by_client.is_empty() {
            let parts: Vec<String> = self
                .postgres_by_client
                .iter()
                .filter(|c| c.cpu_cores >= 0.005)
                .map(|c| format!("{} {:.2} ({})", c.name, c.cpu_cores, c.processes))
                .collect();
            let _ = writeln!(out, "  postgres by client, cores (processes): {}", parts.join(", "));
        }
        if let Some(busy) = self.machine_busy_cores {
            let watched: f64 = self.processes.iter().filter_map(|p| p.cpu_cores).sum();
            let _ = writeln!(
                out,
                "  machine: {busy:.2} of {} cores busy in the window; {:.2} of them outside the processes above{}",
                self.machine_cores,
                (busy - watched).max(0.0),
                // Kernel work for the watched processes (network, WAL writes) shows up here
                // too, so only a large share means someone else was using the machine.
                if busy - watched > 0.3 {
                    " (other load on the machine: figures are pessimistic)"
                } else {
                    ""
                }
            );
        }
        out
    }
}
