//! Typed configuration, read from the environment (Kubernetes injects it from a ConfigMap and
//! Secrets) or from command-line flags. Every setting is documented here once;
//! `ai-agent/.env.example` mirrors this file.

use std::{net::SocketAddr, time::Duration};

use chrono::TimeDelta;
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

#[derive(Debug, Parser)]
#[command(name = "ai-agent", version, about = "The Todo assistants: event consumer and cron safety net")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process arguments; no subcommand means `serve`.
    pub fn from_env() -> Self {
        Self::parse_from(platform::cli::args_defaulting_to_serve())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Receive events from the Dapr sidecar and run the cron passes (the default).
    Serve(Box<Config>),
    /// Process the stored dead letters again (after fixing their cause) and exit; idempotent.
    ReplayDeadLetters(Box<Config>),
    /// Run one cron job's passes now, until its backlog is done, print what they did as JSON and
    /// exit; for operators and the cron benchmark (`scripts/bench-cron.sh`).
    RunPass {
        /// overdue, prioritization, reminders, housekeeping or `daily_plan`.
        job: String,
        #[command(flatten)]
        config: Box<Config>,
    },
    /// Print a new VAPID key pair for Web Push and exit: `VAPID_PRIVATE_KEY` (for the agent)
    /// and `VAPID_PUBLIC_KEY` (for the backend), one `NAME=value` line each.
    GenerateVapidKeys,
    /// Probe a running instance's `/health` and exit 0 when it answers; for container health
    /// checks in images without shell tools.
    Healthcheck {
        /// Address of the instance to probe.
        #[arg(long, env = "HEALTHCHECK_URL", default_value = "http://127.0.0.1:8081/health")]
        url: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL URL. May point at a transaction-mode pooler: the agent uses no session state
    /// (its advisory locks are transaction-scoped, and it does not LISTEN).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,

    /// Connections in the pool. All replicas of every service together must stay under the
    /// server's `max_connections`.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 5)]
    pub database_max_connections: u32,

    /// How long a delivery waits for a free connection before it is answered `RETRY`.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_SECS", default_value_t = 5)]
    pub database_acquire_timeout_secs: u64,

    /// Address the HTTP server listens on: the Dapr `app-port`. 8081 rather than 8080 so the
    /// agent can run beside the backend on one machine without configuration.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8081")]
    pub listen_addr: SocketAddr,

    /// The token the sidecar sends in `dapr-api-token` (its `APP_API_TOKEN`). When set, calls to
    /// `/dapr/*` and `/events/*` without it get 401; the health probes stay open, because the
    /// sidecar's app health check sends no token.
    #[arg(long, env = "APP_API_TOKEN", hide_env_values = true)]
    pub app_api_token: Option<SecretString>,

    /// Accept deliveries without `APP_API_TOKEN`, on a development machine only. Without a
    /// token and without this flag the agent refuses to start: a deployment that forgot the
    /// token fails at once instead of taking events from anyone who can reach the port.
    #[arg(long, env = "ALLOW_UNAUTHENTICATED_DELIVERIES", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_unauthenticated_deliveries: bool,

    /// Serve `/metrics` on this address instead of `LISTEN_ADDR`, so a network policy can let
    /// the monitoring namespace reach the metrics and not the delivery routes (the chart sets
    /// it). Unset: `/metrics` is served beside the deliveries.
    #[arg(long, env = "METRICS_LISTEN_ADDR")]
    pub metrics_listen_addr: Option<SocketAddr>,

    /// Name of the Dapr pub/sub component to subscribe on.
    #[arg(long, env = "PUBSUB_NAME", default_value = events::DEFAULT_PUBSUB)]
    pub pubsub_name: String,

    /// Largest accepted delivery body in bytes; larger ones get 413, which the sidecar retries
    /// and finally dead-letters. Events are a few hundred bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Deliveries running longer than this are answered 503, which the sidecar retries.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Time allowed for in-flight deliveries and cron passes to finish after SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 20)]
    pub shutdown_timeout_secs: u64,

    #[command(flatten)]
    pub agents: AgentConfig,

    #[command(flatten)]
    pub push: PushConfig,

    /// Log output: `json` (one object per line) or `pretty` (for a terminal).
    #[arg(long, env = "LOG_FORMAT", default_value = "json")]
    pub log_format: crate::telemetry::LogFormat,
}

/// What the assistants may do and how often their cron passes run.
#[derive(Debug, Clone, Args)]
pub struct AgentConfig {
    /// Most suggestions one user receives in any hour, across all assistants.
    #[arg(long, env = "SUGGESTIONS_PER_HOUR", default_value_t = 10)]
    pub suggestions_per_hour: u32,

    /// Most reminders of one user that fire in any hour with their event and suggestion; the
    /// rest are marked fired without effect (`agent_reminders_suppressed_total`), so one
    /// account's thousands of reminders cannot flood the database and the broker.
    #[arg(long, env = "REMINDERS_PER_HOUR", default_value_t = 120)]
    pub reminders_per_hour: u32,

    /// Days an untouched suggestion stays open before a cron pass marks it expired.
    #[arg(long, env = "SUGGESTION_TTL_DAYS", default_value_t = 7)]
    pub suggestion_ttl_days: u32,

    /// Most rows one cron pass handles in its transaction; a full batch is followed at once by
    /// another pass.
    #[arg(long, env = "AGENT_BATCH_SIZE", default_value_t = 500)]
    pub batch_size: u32,

    /// Days a processed event id is remembered for de-duplication. Must exceed the longest a
    /// message can be redelivered (retries, a consumer group rewound by hand).
    #[arg(long, env = "PROCESSED_EVENT_RETENTION_DAYS", default_value_t = 14)]
    pub processed_event_retention_days: u32,

    /// Run the cron passes in this process. Every replica may: each pass runs on one at a time.
    #[arg(long, env = "CRON_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub cron_enabled: bool,

    /// Overdue sweep (cron with seconds: sec min hour day month weekday, UTC).
    #[arg(long, env = "OVERDUE_SCHEDULE", default_value = "0 */5 * * * *")]
    pub overdue_schedule: String,

    /// Prioritisation pass: due-soon priorities, overload and stale tasks.
    #[arg(long, env = "PRIORITY_SCHEDULE", default_value = "0 */15 * * * *")]
    pub priority_schedule: String,

    /// Reminder pass. Every 15 s rather than every minute: a reminder is a promise about a
    /// time, and the pass is one index probe when nothing is due.
    #[arg(long, env = "REMINDER_SCHEDULE", default_value = "*/15 * * * * *")]
    pub reminder_schedule: String,

    /// Housekeeping: expires old suggestions and forgets old processed event ids.
    #[arg(long, env = "HOUSEKEEPING_SCHEDULE", default_value = "0 */10 * * * *")]
    pub housekeeping_schedule: String,

    /// Daily plan pass: plans the day of each user whose working day has started and who has
    /// no plan for their local date yet. Every 5 minutes, so a plan arrives within 5 minutes
    /// of the start of a working day in any zone (zones differ by quarter hours).
    #[arg(long, env = "DAILY_PLAN_SCHEDULE", default_value = "0 */5 * * * *")]
    pub daily_plan_schedule: String,
}

/// Web Push: sending reminders and the daily plan to the browsers users registered with the
/// backend. Off without `VAPID_PRIVATE_KEY`.
#[derive(Debug, Clone, Args)]
pub struct PushConfig {
    /// The VAPID private key (RFC 8292): base64url of the raw 32-byte P-256 scalar, as
    /// `ai-agent generate-vapid-keys` (or the `web-push` npm tool) prints it. Its public half is
    /// the backend's `VAPID_PUBLIC_KEY`. Unset: no push is sent (the sender does not start).
    #[arg(long, env = "VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<SecretString>,

    /// Who runs this server, for push services to contact: `mailto:` or `https:`. Required with
    /// `VAPID_PRIVATE_KEY`.
    #[arg(long, env = "VAPID_SUBJECT")]
    pub vapid_subject: Option<String>,

    #[command(flatten)]
    pub endpoints: platform::push::PushEndpointConfig,

    /// How often, in milliseconds, the sender looks for pushes to send.
    #[arg(long, env = "PUSH_POLL_INTERVAL_MS", default_value_t = 1000)]
    pub push_poll_interval_ms: u64,

    /// Pushes one sender pass claims (and sends concurrently).
    #[arg(long, env = "PUSH_BATCH_SIZE", default_value_t = 50)]
    pub push_batch_size: u32,

    /// Tries of one push that fails temporarily (429, 5xx, network) before it is dropped.
    #[arg(long, env = "PUSH_MAX_ATTEMPTS", default_value_t = 6)]
    pub push_max_attempts: u32,

    /// Wait before the second try, in seconds, doubled for each further one (a `Retry-After`
    /// from the push service counts when longer); at most an hour.
    #[arg(long, env = "PUSH_RETRY_BASE_SECS", default_value_t = 30)]
    pub push_retry_base_secs: u64,

    /// Time allowed for one request to a push service, in seconds.
    #[arg(long, env = "PUSH_TIMEOUT_SECS", default_value_t = 10)]
    pub push_timeout_secs: u64,
}

/// The limits every assistant works within, from [`AgentConfig`] in the units the passes use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub suggestions_per_hour: i64,
    pub reminders_per_hour: i64,
    pub suggestion_ttl: TimeDelta,
    /// Most rows one cron pass handles.
    pub batch_size: i64,
    pub processed_event_retention: TimeDelta,
}

impl Default for Settings {
    /// The documented defaults of [`AgentConfig`].
    fn default() -> Self {
        Self {
            suggestions_per_hour: 10,
            reminders_per_hour: 120,
            suggestion_ttl: TimeDelta::days(7),
            batch_size: 500,
            processed_event_retention: TimeDelta::days(14),
        }
    }
}

impl Settings {
    pub fn from_config(config: &AgentConfig) -> Self {
        Self {
            suggestions_per_hour: i64::from(config.suggestions_per_hour),
            reminders_per_hour: i64::from(config.reminders_per_hour),
            suggestion_ttl: TimeDelta::days(i64::from(config.suggestion_ttl_days)),
            batch_size: i64::from(config.batch_size.max(1)),
            processed_event_retention: TimeDelta::days(i64::from(config.processed_event_retention_days)),
        }
    }
}

impl Config {
    /// Defaults for everything but the database, as a test or an embedding program wants them.
    pub fn for_database_url(database_url: &str) -> Self {
        let cli = Cli::parse_from(["ai-agent", "serve", "--database-url", database_url]);
        match cli.command {
            Command::Serve(config) => *config,
            Command::Healthcheck { .. }
            | Command::GenerateVapidKeys
            | Command::ReplayDeadLetters(_)
            | Command::RunPass { .. } => {
                unreachable!("the serve subcommand was given")
            }
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// Refuses a configuration that would take deliveries from anyone: no app token and no
    /// explicit development opt-out.
    pub fn check_delivery_auth(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.app_api_token.is_some() || self.allow_unauthenticated_deliveries,
            "APP_API_TOKEN is not set, so anyone who can reach the agent could deliver events; \
             set it to the token the sidecar sends (its APP_API_TOKEN), or set \
             ALLOW_UNAUTHENTICATED_DELIVERIES=true on a development machine"
        );
        Ok(())
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documentation() {
        let config = Config::for_database_url("postgres://localhost/todo");
        assert_eq!(config.listen_addr.port(), 8081);
        assert_eq!(config.pubsub_name, "pubsub-kafka");
        assert!(config.app_api_token.is_none());
        assert!(!config.allow_unauthenticated_deliveries);
        assert!(config.metrics_listen_addr.is_none());
        assert_eq!(config.agents.suggestions_per_hour, 10);
        assert_eq!(config.agents.suggestion_ttl_days, 7);
        assert!(config.agents.cron_enabled);
        assert_eq!(config.agents.overdue_schedule, "0 */5 * * * *");
        assert_eq!(config.agents.daily_plan_schedule, "0 */5 * * * *");
        assert!(config.push.vapid_private_key.is_none() && config.push.vapid_subject.is_none());
        assert_eq!(config.push.endpoints.push_endpoint_hosts.len(), 4);
        assert!(!config.push.endpoints.push_allow_http_endpoints);
    }

    #[test]
    fn default_settings_match_the_configuration_defaults() {
        let config = Config::for_database_url("postgres://localhost/todo");
        assert_eq!(Settings::from_config(&config.agents), Settings::default());
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let cli = Cli::parse_from([
            "ai-agent",
            "serve",
            "--database-url",
            "postgres://u:hunter2@db/todo",
            "--app-api-token",
            "s3cr3t",
        ]);
        let text = format!("{cli:?}");
        assert!(!text.contains("hunter2") && !text.contains("s3cr3t"), "{text}");
    }
}
