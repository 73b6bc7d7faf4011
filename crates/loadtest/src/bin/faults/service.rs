//! One service process of the product, and how to start, kill and probe it.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

pub struct Service {
    pub name: String,
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    pub ready_url: String,
    pub log_dir: PathBuf,
    child: Option<Child>,
}

impl Service {
    pub fn new(
        name: &str,
        command: Vec<String>,
        env: Vec<(String, String)>,
        ready_url: String,
        log_dir: &std::path::Path,
    ) -> Self {
        Self { name: name.to_owned(), command, env, ready_url, log_dir: log_dir.to_owned(), child: None }
    }

    pub fn start(&mut self) -> anyhow::Result<()> {
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

    /// Starts the process and waits until it answers its readiness URL.
    pub async fn start_ready(
        &mut self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> anyhow::Result<Duration> {
        self.start()?;
        self.wait_ready(http, timeout).await
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL: no drain, no clean-up, like a node that lost power.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill").args([signal, &self.pid().to_string()]).status();
    }

    pub async fn wait_ready(&self, http: &reqwest::Client, timeout: Duration) -> anyhow::Result<Duration> {
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

/// A port free now, below the kernel's ephemeral range. A port the kernel hands out for
/// `:0` lies in that range, where an outgoing connection's local port can take it before the
/// service binds it (seen: daprd's "could not listen on any endpoint" while Kafka clients
/// and connection pools were busy).
pub fn free_port() -> anyhow::Result<u16> {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768)
        .max(10_001);
    for _ in 0..1000 {
        let port = rand::random_range(10_000..low);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port between 10000 and {low}")
}
