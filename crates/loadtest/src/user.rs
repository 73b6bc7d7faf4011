//! One virtual user: its own account, cookie jar and connection, the tasks it knows about,
//! and the closed loop that sends the next request as soon as the previous one is answered.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use chrono::Utc;
use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::{Client, RequestBuilder, Url};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::{
    stats::{Failure, Sample},
    workload::{self, LIST_QUERIES, Mix, Op},
};

/// Settings every virtual user shares.
#[derive(Debug, Clone)]
pub struct UserConfig {
    /// `.../api/v1`, without a trailing slash.
    pub api: String,
    pub request_timeout: Duration,
    pub think_time: Duration,
    pub seed_tasks: usize,
    /// Distinguishes this run's accounts from earlier runs' in the same database.
    pub run_id: String,
    pub rng_seed: u64,
}

/// When the loop records and when it stops, on the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub measure_from: Instant,
    pub stop_at: Instant,
}

/// An open-loop user's timetable: a request every `interval` from `first_at`.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    pub interval: Duration,
    pub first_at: Instant,
}

/// A run-wide cap on requests, so a misconfigured run cannot loop without bound even if the
/// clock check were somehow never reached.
#[derive(Debug)]
pub struct Budget {
    sent: AtomicU64,
    max: u64,
}

impl Budget {
    pub fn new(max: u64) -> Self {
        Self { sent: AtomicU64::new(0), max }
    }

    /// Takes one request from the budget; `false` once it is spent.
    fn take(&self) -> bool {
        self.sent.fetch_add(1, Ordering::Relaxed) < self.max
    }

    pub fn spent(&self) -> bool {
        self.sent.load(Ordering::Relaxed) >= self.max
    }
}

#[derive(Debug, Clone)]
struct KnownTask {
    id: String,
    completed: bool,
}

/// The previous list request's screen and where its next page starts.
#[derive(Debug, Clone)]
struct OpenList {
    query: usize,
    cursor: String,
}

pub struct VirtualUser {
    client: Client,
    config: Arc<UserConfig>,
    email: String,
    password: String,
    rng: StdRng,
    tasks: Vec<KnownTask>,
    open_list: Option<OpenList>,
    /// Numbers the titles this user writes, so they differ from each other.
    serial: u64,
}

/// A request's answer, timed from sending to the last byte of the body.
struct Answer {
    latency: Duration,
    result: Result<Vec<u8>, Failure>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskId {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Completion {
    next_task: Option<TaskId>,
}

impl VirtualUser {
    /// Keeps at least this many tasks: deleting below it would leave get/update/complete with
    /// nothing to act on.
    const MIN_TASKS: usize = 10;

    pub fn new(index: usize, config: Arc<UserConfig>) -> anyhow::Result<Self> {
        // One client per user: its own cookie jar (session) and its own keep-alive
        // connection, as each browser would have.
        let client = Client::builder()
            .cookie_store(true)
            .timeout(config.request_timeout)
            .pool_max_idle_per_host(1)
            .user_agent("todo-loadtest")
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            client,
            email: format!("load-{}-{index}@example.com", config.run_id),
            password: format!("load-test-password-{index}"),
            rng: StdRng::seed_from_u64(config.rng_seed.wrapping_add(index as u64)),
            config,
            tasks: Vec::new(),
            open_list: None,
            serial: 0,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api)
    }

    /// Signs up (one at a time per `signup_slots` permit: Argon2 is slow and memory-hungry, and
    /// an unthrottled burst of hundreds would measure the setup rather than the service) and
    /// seeds the task list. Recorded in `setup`, never in the measured window.
    pub async fn set_up(&mut self, signup_slots: &Semaphore, setup: &mut Vec<Sample>) -> anyhow::Result<()> {
        let credentials = json!({ "email": self.email, "password": self.password });
        let answer = {
            let _slot = signup_slots.acquire().await.context("sign-up slots closed")?;
            self.send(Op::SignUp, self.client.post(self.url("/auth/signup")).json(&credentials)).await
        };
        setup.push(Sample {
            op: Op::SignUp,
            latency: answer.latency,
            failure: answer.result.as_ref().err().cloned(),
        });
        if let Err(failure) = answer.result {
            bail!("sign-up of {} failed: {failure:?}", self.email);
        }
        for _ in 0..self.config.seed_tasks {
            let (latency, result) = self.create().await;
            setup.push(Sample { op: Op::Create, latency, failure: result.as_ref().err().cloned() });
            if let Err(failure) = result {
                bail!("seeding a task for {} failed: {failure:?}", self.email);
            }
        }
        Ok(())
    }

    /// The loop: pick an operation, send it, record it if it was due inside the measured
    /// window, repeat until the schedule or the budget says stop. Closed (the next request as
    /// soon as the answer came) without `pacing`; open with it (each request at its time, its
    /// latency counted from that time, so a late start counts against the server).
    pub async fn run(
        mut self,
        mix: Mix,
        schedule: Schedule,
        pacing: Option<Pacing>,
        budget: Arc<Budget>,
    ) -> Vec<Sample> {
        let mut samples = Vec::new();
        let mut due = pacing.map(|p| p.first_at);
        loop {
            let started = match (due.as_mut(), pacing) {
                (Some(due), Some(pacing)) => {
                    tokio::time::sleep_until((*due).into()).await;
                    let at = *due;
                    *due += pacing.interval;
                    at
                }
                _ => Instant::now(),
            };
            if started >= schedule.stop_at || !budget.take() {
                break;
            }
            let op = mix.sample(&mut self.rng);
            let (op, latency, result) = self.perform(op).await;
            let latency = if pacing.is_some() { started.elapsed() } else { latency };
            if started >= schedule.measure_from {
                samples.push(Sample { op, latency, failure: result.err() });
            }
            if !self.config.think_time.is_zero() {
                tokio::time::sleep(self.config.think_time).await;
            }
        }
        samples
    }

    /// Runs `op`, or the operation it stands for here (a list with an open cursor may turn the
    /// page; a task operation with no suitable task falls back to a list).
    async fn perform(&mut self, op: Op) -> (Op, Duration, Result<(), Failure>) {
        match op {
            Op::SignIn => {
                let (latency, result) = self.sign_in().await;
                (Op::SignIn, latency, result)
            }
            Op::Create => {
                let (latency, result) = self.create().await;
                (Op::Create, latency, result)
            }
            Op::List | Op::ListPage | Op::SignUp => self.list().await,
            Op::Get | Op::Update | Op::Complete | Op::Reopen | Op::Delete => {
                let Some(index) = self.pick_task(op) else { return self.list().await };
                let (latency, result) = self.act_on_task(op, index).await;
                (op, latency, result)
            }
        }
    }

    async fn sign_in(&self) -> (Duration, Result<(), Failure>) {
        let credentials = json!({ "email": self.email, "password": self.password });
        let answer =
            self.send(Op::SignIn, self.client.post(self.url("/auth/signin")).json(&credentials)).await;
        (answer.latency, answer.result.map(|_| ()))
    }

    async fn list(&mut self) -> (Op, Duration, Result<(), Failure>) {
        // Half the time a user who saw a "more" link follows it.
        let (op, query, path) = match self.open_list.take() {
            Some(open) if self.rng.random_bool(0.5) => {
                let path = format!("/tasks?{}&cursor={}", LIST_QUERIES[open.query], open.cursor);
                (Op::ListPage, open.query, path)
            }
            _ => {
                let query = self.rng.random_range(0..LIST_QUERIES.len());
                (Op::List, query, format!("/tasks?{}", LIST_QUERIES[query]))
            }
        };
        let answer = self.send(op, self.client.get(self.url(&path))).await;
        let result = answer.result.map(|body| {
            if let Ok(Page { next_cursor: Some(cursor) }) = serde_json::from_slice(&body) {
                self.open_list = Some(OpenList { query, cursor });
            }
        });
        (op, answer.latency, result)
    }

    async fn create(&mut self) -> (Duration, Result<(), Failure>) {
        self.serial += 1;
        let body = workload::new_task_body(&mut self.rng, self.serial, Utc::now());
        let answer = self.send(Op::Create, self.client.post(self.url("/tasks")).json(&body)).await;
        let result = answer.result.and_then(|bytes| {
            let task: TaskId = serde_json::from_slice(&bytes).map_err(|_| Failure::Transport("bad body"))?;
            self.tasks.push(KnownTask { id: task.id, completed: false });
            Ok(())
        });
        (answer.latency, result)
    }

    /// A task this operation makes sense on: completing an open one, reopening a completed
    /// one, deleting only while enough are left.
    fn pick_task(&mut self, op: Op) -> Option<usize> {
        let wanted: Vec<usize> = match op {
            Op::Complete => self.indices(|t| !t.completed),
            Op::Reopen => self.indices(|t| t.completed),
            Op::Delete if self.tasks.len() <= Self::MIN_TASKS => Vec::new(),
            _ => (0..self.tasks.len()).collect(),
        };
        if wanted.is_empty() { None } else { Some(wanted[self.rng.random_range(0..wanted.len())]) }
    }

    fn indices(&self, keep: impl Fn(&KnownTask) -> bool) -> Vec<usize> {
        self.tasks.iter().enumerate().filter(|(_, t)| keep(t)).map(|(i, _)| i).collect()
    }

    async fn act_on_task(&mut self, op: Op, index: usize) -> (Duration, Result<(), Failure>) {
        let path = format!("/tasks/{}", self.tasks[index].id);
        let request = match op {
            Op::Get => self.client.get(self.url(&path)),
            Op::Update => {
                self.serial += 1;
                let body = workload::update_body(&mut self.rng, self.serial);
                self.client.patch(self.url(&path)).json(&body)
            }
            Op::Complete => self.client.post(self.url(&format!("{path}/complete"))),
            Op::Reopen => self.client.post(self.url(&format!("{path}/incomplete"))),
            _ => self.client.delete(self.url(&path)),
        };
        let answer = self.send(op, request).await;
        let Ok(body) = &answer.result else { return (answer.latency, answer.result.map(|_| ())) };
        match op {
            Op::Complete => {
                self.tasks[index].completed = true;
                // A recurring task's next occurrence is a new task the user now sees.
                if let Ok(Completion { next_task: Some(next) }) = serde_json::from_slice(body)
                    && !self.tasks.iter().any(|t| t.id == next.id)
                {
                    self.tasks.push(KnownTask { id: next.id, completed: false });
                }
            }
            Op::Reopen => self.tasks[index].completed = false,
            Op::Delete => {
                self.tasks.swap_remove(index);
            }
            _ => {}
        }
        (answer.latency, Ok(()))
    }

    /// Sends and reads the whole body inside the timing, since a user waits for all of it.
    async fn send(&self, op: Op, request: RequestBuilder) -> Answer {
        let started = Instant::now();
        let result = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(_) if status != op.expected_status() => Err(Failure::Status(status)),
                    Ok(body) => Ok(body.to_vec()),
                    Err(e) => Err(transport_failure(&e)),
                }
            }
            Err(e) => Err(transport_failure(&e)),
        };
        Answer { latency: started.elapsed(), result }
    }
}

fn transport_failure(error: &reqwest::Error) -> Failure {
    Failure::Transport(if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect error"
    } else {
        "transport error"
    })
}

/// Accepts only a loopback base URL (`127.0.0.0/8`, `::1` or `localhost`): this tool generates
/// heavy traffic and must never be pointed at someone else's server by a typo. Returns the
/// API root (`.../api/v1`).
pub fn loopback_api_root(base_url: &str) -> anyhow::Result<Url> {
    let base = Url::parse(base_url).with_context(|| format!("--base-url {base_url} is not a URL"))?;
    let host = base.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let loopback = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if !loopback || !matches!(base.scheme(), "http" | "https") {
        bail!(
            "--base-url must be an http(s) URL on this machine (127.0.0.1, [::1] or localhost), not {base_url}"
        );
    }
    let root = format!("{}/api/v1", base.as_str().trim_end_matches('/'));
    Url::parse(&root).context("building the API root URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_targets() {
        assert_eq!(
            loopback_api_root("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/api/v1"
        );
        assert_eq!(
            loopback_api_root("http://localhost:9000/").unwrap().as_str(),
            "http://localhost:9000/api/v1"
        );
        assert!(loopback_api_root("http://127.3.4.5:1").is_ok());
        assert!(loopback_api_root("http://[::1]:8080").is_ok());
        for refused in ["http://10.0.0.1:8080", "http://example.com", "ftp://127.0.0.1", "not a url"] {
            assert!(loopback_api_root(refused).is_err(), "{refused} was accepted");
        }
    }

    #[test]
    fn the_budget_runs_out_after_its_count() {
        let budget = Budget::new(2);
        assert!(budget.take());
        assert!(budget.take());
        assert!(!budget.take());
        assert!(budget.spent());
    }
}
