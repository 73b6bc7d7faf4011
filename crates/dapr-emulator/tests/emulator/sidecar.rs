//! The sidecar a contract test runs against: the emulator, or a real daprd on a real Kafka.
//!
//! The emulator is only worth its tests if it behaves like the sidecar it stands in for, so the
//! event-path tests the product relies on are written once, as `async fn name(kind: SidecarKind)`,
//! and [`on_both_sidecars!`] runs each against both. Any behaviour where the two differ then
//! shows up as a failing `daprd` variant.
//!
//! The `daprd` variants are `#[ignore]`d, so a plain `cargo test` needs no broker. To run them:
//!
//! ```text
//! DIR=$(mktemp -d) && scripts/kafka.sh start "$DIR" 19092 && set -a && . "$DIR/env" && set +a &&
//! DAPRD=$(scripts/daprd.sh build) cargo test -p dapr-emulator --test emulator -- --ignored ::daprd::
//! scripts/kafka.sh kill "$DIR"
//! ```
//!
//! Each daprd runs the production resources (`dapr/components`, `dapr/config.yaml`) under its own
//! app id, so its own consumer group, which starts at the oldest offset of the production topics
//! and therefore also sees the messages of earlier tests: every test marks its events with a
//! [`Run`](crate::helpers::Run) and its app answers SUCCESS to the others.

use std::{
    env, fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use dapr_emulator::{Emulator, EmulatorHandle, RetryPolicy};
use events::client::DaprClient;
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::helpers::TestApp;

/// Which sidecar a shared test body runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidecarKind {
    Emulator,
    Daprd,
}

impl SidecarKind {
    /// How long a test waits for something that should happen. daprd needs seconds to join its
    /// consumer group and to read past the earlier tests' messages, and retries 2 s apart.
    pub fn patience(self) -> Duration {
        match self {
            Self::Emulator => crate::helpers::WAIT,
            Self::Daprd => Duration::from_secs(90),
        }
    }

    /// The inbound retry policy deliveries get: for daprd the production one
    /// (`dapr/components/resiliency.yaml`, `deliver`: constant 2 s, 3 retries); the emulator
    /// gets the same count, with short waits.
    pub fn retry_policy(self) -> RetryPolicy {
        match self {
            Self::Emulator => RetryPolicy { max_retries: 3, interval: Duration::from_millis(10) },
            Self::Daprd => RetryPolicy { max_retries: 3, interval: Duration::from_secs(2) },
        }
    }
}

/// A running sidecar of either kind. Dropping it stops it.
pub struct Sidecar {
    app_id: String,
    base_url: String,
    running: Running,
}

enum Running {
    Emulator(EmulatorHandle),
    /// Held only to be killed on drop.
    Daprd {
        _process: Daprd,
    },
}

/// What to start a [`Sidecar`] with.
#[derive(Default)]
pub struct SidecarBuilder<'a> {
    app: Option<&'a TestApp>,
    app_token: Option<&'a str>,
    api_token: Option<&'a str>,
}

impl Sidecar {
    pub fn builder<'a>() -> SidecarBuilder<'a> {
        SidecarBuilder::default()
    }

    /// The app id, unique per sidecar: the CloudEvent `source` of what it publishes.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The emulator, for assertions on what it recorded; `None` for daprd.
    pub fn emulator(&self) -> Option<&EmulatorHandle> {
        match &self.running {
            Running::Emulator(emulator) => Some(emulator),
            Running::Daprd { .. } => None,
        }
    }

    /// The product's publish client, pointed at this sidecar.
    pub fn client(&self, token: Option<&str>) -> DaprClient {
        DaprClient::new(
            &self.base_url,
            token.map(|t| secrecy::SecretString::from(t.to_owned())),
            Duration::from_secs(30),
        )
        .expect("valid client")
    }

    /// A raw `POST /v1.0/publish/{path}`, for requests the client cannot make.
    pub fn raw_publish(&self, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().post(format!("{}/v1.0/publish/{path}", self.base_url))
    }
}

impl<'a> SidecarBuilder<'a> {
    /// The app to discover subscriptions from and deliver to.
    pub fn app(mut self, app: &'a TestApp) -> Self {
        self.app = Some(app);
        self
    }

    /// `APP_API_TOKEN`: sent to the app on every call.
    pub fn app_token(mut self, token: &'a str) -> Self {
        self.app_token = Some(token);
        self
    }

    /// `DAPR_API_TOKEN`: required from the app on every call but health.
    pub fn api_token(mut self, token: &'a str) -> Self {
        self.api_token = Some(token);
        self
    }

    pub async fn start(self, kind: SidecarKind) -> Sidecar {
        // Lowercase letters, digits and dashes: valid as an app id and as a Kafka group id.
        let app_id = format!("contract-{}", &Uuid::new_v4().simple().to_string()[..12]);
        match kind {
            SidecarKind::Emulator => {
                let mut builder = Emulator::builder()
                    .app_id(&app_id)
                    .retry_policy(kind.retry_policy())
                    .redelivery_interval(None);
                if let Some(app) = self.app {
                    builder = builder.app_url(&app.url);
                }
                if let Some(token) = self.app_token {
                    builder = builder.app_token(token);
                }
                if let Some(token) = self.api_token {
                    builder = builder.api_token(token);
                }
                let emulator = builder.start().await.expect("the emulator starts");
                let base_url = emulator.base_url().to_owned();
                Sidecar { app_id, base_url, running: Running::Emulator(emulator) }
            }
            SidecarKind::Daprd => {
                let daprd = Daprd::start(&app_id, &self).await;
                let base_url = format!("http://127.0.0.1:{}", daprd.http_port);
                Sidecar { app_id, base_url, running: Running::Daprd { _process: daprd } }
            }
        }
    }
}

/// The environment a real-daprd test needs; its absence fails the test loudly, because a test
/// that passes without checking anything is worse than none.
struct DaprdEnv {
    binary: PathBuf,
    kafka: Vec<(&'static str, String)>,
}

impl DaprdEnv {
    fn from_env() -> Self {
        let var = |name: &str| env::var(name).ok().filter(|v| !v.is_empty());
        let mut missing = Vec::new();
        let mut require = |name: &'static str| {
            let value = var(name);
            if value.is_none() {
                missing.push(name);
            }
            value.unwrap_or_default()
        };
        let binary = PathBuf::from(require("DAPRD"));
        let brokers = require("KAFKA_BROKERS");
        let username = require("KAFKA_USERNAME");
        let password = require("KAFKA_PASSWORD");
        let ca_cert = match (var("KAFKA_CA_CERT"), var("KAFKA_CA_FILE")) {
            (Some(pem), _) => pem,
            (None, Some(file)) => {
                fs::read_to_string(&file).unwrap_or_else(|e| panic!("cannot read KAFKA_CA_FILE {file}: {e}"))
            }
            (None, None) => {
                missing.push("KAFKA_CA_FILE (or KAFKA_CA_CERT)");
                String::new()
            }
        };
        assert!(
            missing.is_empty(),
            "the real-daprd contract tests need {}: set DAPRD=$(scripts/daprd.sh build), start a broker \
             with `scripts/kafka.sh start DIR PORT` and export the variables of DIR/env \
             (see crates/dapr-emulator/tests/emulator/sidecar.rs)",
            missing.join(", ")
        );
        assert!(
            binary.is_file(),
            "DAPRD={} is not a file: build it with scripts/daprd.sh build",
            binary.display()
        );
        Self {
            binary,
            kafka: vec![
                ("KAFKA_BROKERS", brokers),
                ("KAFKA_USERNAME", username),
                ("KAFKA_PASSWORD", password),
                ("KAFKA_CA_CERT", ca_cert),
            ],
        }
    }
}

/// A daprd process, started the way `dev` starts one, killed on drop.
struct Daprd {
    http_port: u16,
    /// Holds the resources and the log; kept when the test fails, for the post-mortem.
    dir: PathBuf,
    _child: Child,
}

impl Daprd {
    async fn start(app_id: &str, settings: &SidecarBuilder<'_>) -> Self {
        let env = DaprdEnv::from_env();
        let dir = env::temp_dir().join(format!("dapr-contract-{app_id}"));
        fs::create_dir_all(&dir).expect("create the sidecar's directory");
        let resources = scoped_resources(&dir, app_id);
        let log_path = dir.join("daprd.log");
        let log = fs::File::create(&log_path).expect("create the daprd log");
        let repo = repo_root();

        let http_port = free_port();
        let mut command = Command::new(&env.binary);
        command
            .args(["--app-id", app_id, "--app-protocol", "http"])
            .args(["--dapr-http-port", &http_port.to_string()])
            .args(["--dapr-grpc-port", &free_port().to_string()])
            .args(["--metrics-port", &free_port().to_string()])
            .args(["--dapr-listen-addresses", "127.0.0.1"])
            .arg("--resources-path")
            .arg(&resources)
            .arg("--config")
            .arg(repo.join("dapr/config.yaml"))
            .args(["--log-level", "warn"])
            .envs(env.kafka.iter().map(|(k, v)| (k, v)))
            .env_remove("APP_API_TOKEN")
            .env_remove("DAPR_API_TOKEN")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .kill_on_drop(true);
        if let Some(app) = settings.app {
            command.args(["--app-port", &app.port().to_string()]);
        }
        if let Some(token) = settings.app_token {
            command.env("APP_API_TOKEN", token);
        }
        if let Some(token) = settings.api_token {
            command.env("DAPR_API_TOKEN", token);
        }
        let mut child =
            command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", env.binary.display()));

        // `/v1.0/healthz` turns 204 once the components are loaded and the app port is open.
        let healthz = format!("http://127.0.0.1:{http_port}/v1.0/healthz");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_mins(1);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "daprd {app_id} exited with {status} before it was healthy; log:\n{}",
                    tail(&log_path)
                );
            }
            if http.get(&healthz).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "daprd {app_id} was not healthy within 60 s; log:\n{}",
                tail(&log_path)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { http_port, dir, _child: child }
    }
}

impl Drop for Daprd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("daprd's resources and log are kept in {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A copy of `dapr/components` whose `scopes` lists also name `app_id`. Nothing else changes:
/// the production resources are scoped to the product's app ids, and a sidecar outside the
/// scopes would load neither the Kafka component nor the resiliency policy.
fn scoped_resources(dir: &Path, app_id: &str) -> PathBuf {
    let source = repo_root().join("dapr/components");
    let target = dir.join("components");
    fs::create_dir_all(&target).expect("create the resources directory");
    for entry in fs::read_dir(&source).expect("dapr/components exists") {
        let path = entry.expect("a directory entry").path();
        let Some(name) = path.file_name() else { continue };
        let text = fs::read_to_string(&path).expect("a readable resource");
        let scoped: String = text
            .lines()
            .flat_map(|line| {
                let extra = (line == "scopes:").then(|| format!("- \"{app_id}\""));
                std::iter::once(line.to_owned()).chain(extra)
            })
            .map(|line| line + "\n")
            .collect();
        fs::write(target.join(name), scoped).expect("write a resource");
    }
    target
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<_> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Runs each shared test body `async fn name(kind: SidecarKind)` as `emulator::name` and as
/// `daprd::name`; the latter needs a real daprd and Kafka (module docs above).
macro_rules! on_both_sidecars {
    ($($test:ident),+ $(,)?) => {
        mod emulator {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::sidecar::SidecarKind::Emulator).await;
                }
            )+
        }

        mod daprd {
            $(
                #[tokio::test]
                #[ignore = "needs daprd and Kafka: see crates/dapr-emulator/tests/emulator/sidecar.rs"]
                async fn $test() {
                    super::$test($crate::sidecar::SidecarKind::Daprd).await;
                }
            )+
        }
    };
}
pub(crate) use on_both_sidecars;
