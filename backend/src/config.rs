//! Typed configuration, read from the environment (Kubernetes injects it from a ConfigMap and
//! Secrets) or from command-line flags. Every setting is documented here once; `.env.example`
//! mirrors this file.

use std::{net::SocketAddr, time::Duration};

use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Parser)]
#[command(name = "backend", version, about = "The Todo REST API and its outbox relay")]
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
    /// Serve the API and run the outbox relay (the default).
    Serve(Box<Config>),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseConfig),
    /// Print the OpenAPI document (JSON) and exit; no database needed. `frontend/openapi.json`
    /// is this output, and the web app's API types are generated from it.
    Openapi,
    /// Put the events the relay parked (the broker refused them `OUTBOX_PARK_AFTER_REFUSALS`
    /// times) back in line, after the cause is fixed, and exit. They go out before their
    /// users' later waiting events, but after those already published.
    ReplayParked {
        #[command(flatten)]
        database: DatabaseConfig,
        /// Only this event (its CloudEvent id, as in the relay's log); all parked events
        /// without it.
        #[arg(long)]
        event_id: Option<uuid::Uuid>,
    },
    /// Probe a running instance's `/health` and exit 0 when it answers; for container health
    /// checks in images without shell tools.
    Healthcheck {
        /// Address of the instance to probe.
        #[arg(long, env = "HEALTHCHECK_URL", default_value = "http://127.0.0.1:8080/health")]
        url: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// PostgreSQL URL for queries. May point at a transaction-mode pooler (e.g. Neon's pooled
    /// endpoint).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,

    /// Direct (non-pooled) PostgreSQL URL, used for LISTEN/NOTIFY and migrations, which a
    /// transaction-mode pooler breaks. Defaults to `DATABASE_URL`.
    #[arg(long, env = "DIRECT_URL", hide_env_values = true)]
    pub direct_url: Option<SecretString>,

    /// Connections in the query pool. Each replica also holds up to 3 for live updates' LISTEN
    /// and 2 for the outbox relay; all replicas together must stay under the server's
    /// `max_connections`.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub database_max_connections: u32,

    /// How long a request waits for a free connection before failing with 503.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_SECS", default_value_t = 5)]
    pub database_acquire_timeout_secs: u64,
}

impl DatabaseConfig {
    pub fn direct_url(&self) -> &SecretString {
        self.direct_url.as_ref().unwrap_or(&self.database_url)
    }
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub database: DatabaseConfig,

    /// Address the HTTP server listens on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    pub listen_addr: SocketAddr,

    /// Apply pending migrations at start-up. Turn off where a separate job migrates (Helm).
    #[arg(long, env = "MIGRATE_ON_START", default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate_on_start: bool,

    /// Mark the session cookie `Secure` (serve over HTTPS only). On in production.
    #[arg(long, env = "COOKIE_SECURE", default_value_t = false, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,

    /// Server-side session lifetime in days.
    #[arg(long, env = "SESSION_TTL_DAYS", default_value_t = 30)]
    pub session_ttl_days: u32,

    /// Sign-in and sign-up attempts allowed per client address per minute, successful or not,
    /// across all replicas (IPv6 clients count per /64). 0 turns the limit off (load tests
    /// only). Failed sign-ins are throttled per email and address on top of this (see
    /// `AUTH_FAILURES_BEFORE_BACKOFF`).
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_MINUTE", default_value_t = 10)]
    pub auth_rate_limit_per_minute: u32,

    #[command(flatten)]
    pub auth_limits: AuthLimitsConfig,

    #[command(flatten)]
    pub quotas: QuotaConfig,

    /// Password hashes (sign-up, sign-in) allowed to wait for a hashing thread; when the queue
    /// is full, further attempts get 503 with `Retry-After`. Unset: 4 per hashing thread (the
    /// threads are one per core but one).
    #[arg(long, env = "PASSWORD_HASH_QUEUE_DEPTH")]
    pub password_hash_queue_depth: Option<usize>,

    /// Take the client address from `X-Real-IP` / `X-Forwarded-For`. Only behind a proxy that
    /// sets them (the NGINX ingress); otherwise clients could pick their own rate-limit key.
    #[arg(long, env = "TRUST_PROXY_HEADERS", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_proxy_headers: bool,

    /// Extra origins (comma-separated, e.g. `https://todo.example.com`) allowed to send
    /// state-changing requests, besides the API's own origin.
    #[arg(long, env = "ALLOWED_ORIGINS", value_delimiter = ',', default_value = "")]
    pub allowed_origins: Vec<String>,

    /// Largest accepted request body in bytes; larger bodies get 413.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// Requests running longer than this are answered with 503.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// How long, in seconds, a replica serves a session or a user's preferences from memory
    /// instead of asking the database. A sign-out or a preferences change takes effect at once
    /// on the replica that made it and within this many seconds on the others. 0 turns the
    /// caches off.
    #[arg(long, env = "CACHE_SECONDS", default_value_t = 5)]
    pub cache_seconds: u64,

    /// A live-update stream (`/api/v1/stream`) ends after this many seconds and the browser
    /// reconnects at once; it bounds how long a revoked session keeps receiving updates.
    #[arg(long, env = "STREAM_MAX_SECONDS", default_value_t = 300)]
    pub stream_max_seconds: u64,

    /// Live-update streams one user may hold open at once on a replica; one more is refused
    /// with 429. A tab holds one, so this is the tabs a user keeps open. 0 turns the cap off.
    #[arg(long, env = "STREAM_MAX_PER_USER", default_value_t = 8)]
    pub stream_max_per_user: usize,

    /// Live-update streams one client address (an IPv6 client's /64 network) may hold open at
    /// once on a replica, whoever is signed in; one more is refused with 429. Behind NGINX set
    /// `TRUST_PROXY_HEADERS`, or every client shares the proxy's address. 0 turns the cap off.
    #[arg(long, env = "STREAM_MAX_PER_ADDRESS", default_value_t = 32)]
    pub stream_max_per_address: usize,

    /// Directory of the built web app (`frontend/dist`) to serve at `/`, with `index.html`
    /// for every other path that is not the API. Unset: the API only (in Kubernetes, NGINX
    /// serves the web app).
    #[arg(long, env = "WEB_DIR")]
    pub web_dir: Option<std::path::PathBuf>,

    /// Time allowed for in-flight requests and the relay to finish after SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 20)]
    pub shutdown_timeout_secs: u64,

    #[command(flatten)]
    pub outbox: OutboxConfig,

    #[command(flatten)]
    pub chat: ChatConfig,

    #[command(flatten)]
    pub push: PushConfig,

    /// Log output: `json` (one object per line) or `pretty` (for a terminal).
    #[arg(long, env = "LOG_FORMAT", default_value = "json")]
    pub log_format: crate::telemetry::LogFormat,
}

/// How failed sign-ins slow down further attempts. They count per (email, client address), so
/// someone guessing from one address never locks the account's owner out elsewhere.
#[derive(Debug, Clone, Args)]
pub struct AuthLimitsConfig {
    /// Failed sign-ins of one email from one address that cost nothing; each further failure
    /// makes that pair wait (429 with `Retry-After`), doubling the wait every time.
    #[arg(long, env = "AUTH_FAILURES_BEFORE_BACKOFF", default_value_t = 5)]
    pub auth_failures_before_backoff: u32,

    /// The first wait after the free failures, in seconds.
    #[arg(long, env = "AUTH_BACKOFF_BASE_SECS", default_value_t = 2)]
    pub auth_backoff_base_secs: u64,

    /// The longest wait, in seconds.
    #[arg(long, env = "AUTH_BACKOFF_MAX_SECS", default_value_t = 900)]
    pub auth_backoff_max_secs: u64,

    /// A pair's failures are forgotten this many seconds after its last wait ends; a successful
    /// sign-in forgets them at once.
    #[arg(long, env = "AUTH_FAILURE_WINDOW_SECS", default_value_t = 900)]
    pub auth_failure_window_secs: u64,
}

/// What one account may store and how fast it may write, so a single account cannot flood the
/// database or the event broker. 0 turns a limit off.
#[derive(Debug, Clone, Args)]
pub struct QuotaConfig {
    /// Tasks per user, open and completed together; creating one more is refused with 403
    /// `task_quota_exceeded`. Occurrences of recurring tasks count but are never refused, so
    /// completing a recurring task always works.
    #[arg(long, env = "MAX_TASKS_PER_USER", default_value_t = 10_000)]
    pub max_tasks_per_user: u32,

    /// Chat conversations per user; starting one more is refused with 403
    /// `conversation_quota_exceeded`.
    #[arg(long, env = "MAX_CONVERSATIONS_PER_USER", default_value_t = 200)]
    pub max_conversations_per_user: u32,

    /// Messages (the user's and the assistant's) per chat conversation; a message without room
    /// for its reply is refused with 403 `message_quota_exceeded`.
    #[arg(long, env = "MAX_MESSAGES_PER_CONVERSATION", default_value_t = 1000)]
    pub max_messages_per_conversation: u32,

    /// State-changing requests (creating, changing, completing or deleting tasks, chat
    /// messages, preferences) per signed-in user per minute, across all replicas; more get 429
    /// with `Retry-After`. Replicas lease hits in blocks of a twentieth of this (at most 50).
    #[arg(long, env = "WRITE_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub write_rate_limit_per_minute: u32,
}

#[derive(Debug, Clone, Args)]
pub struct OutboxConfig {
    /// Base URL of the Dapr sidecar's HTTP API. Defaults to `http://127.0.0.1:$DAPR_HTTP_PORT`.
    #[arg(long, env = "DAPR_HTTP_ENDPOINT")]
    pub dapr_http_endpoint: Option<String>,

    /// The sidecar's HTTP port (set by the Dapr injector and by `dapr run`).
    #[arg(long, env = "DAPR_HTTP_PORT", default_value_t = 3500)]
    pub dapr_http_port: u16,

    /// Token the sidecar expects in `dapr-api-token`, when it is configured with one.
    #[arg(long, env = "DAPR_API_TOKEN", hide_env_values = true)]
    pub dapr_api_token: Option<SecretString>,

    /// Name of the Dapr pub/sub component events are published to.
    #[arg(long, env = "PUBSUB_NAME", default_value = events::DEFAULT_PUBSUB)]
    pub pubsub_name: String,

    /// Run the relay in this process. Every replica may run it: one publishes at a time.
    #[arg(long, env = "OUTBOX_RELAY_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay_enabled: bool,

    /// Rows published per relay transaction.
    #[arg(long, env = "OUTBOX_BATCH_SIZE", default_value_t = 100)]
    pub batch_size: u32,

    /// How often, in milliseconds, the relay looks for events this replica's API did not write
    /// (the ai-agent's reminders and overdue notices, another replica's changes when that
    /// replica's relay is busy); the API's own changes wake it at once.
    #[arg(long, env = "OUTBOX_POLL_INTERVAL_MS", default_value_t = 250)]
    pub poll_interval_ms: u64,

    /// Least time, in milliseconds, from the start of one relay pass to the next when changes
    /// keep coming: a busy relay publishes the changes of this interval in one transaction
    /// instead of one per change. An event waits at most this long for it; a lone change goes
    /// out at once. 0 runs a pass per change.
    #[arg(long, env = "OUTBOX_MIN_PASS_INTERVAL_MS", default_value_t = 10)]
    pub min_pass_interval_ms: u64,

    /// Timeout of one publish call to the sidecar, in milliseconds.
    #[arg(long, env = "OUTBOX_PUBLISH_TIMEOUT_MS", default_value_t = 5000)]
    pub publish_timeout_ms: u64,

    /// Milliseconds an event the broker refused waits before its next try (its user's later
    /// events wait with it; everyone else's go on), doubled after each further refusal up to
    /// `OUTBOX_REFUSAL_RETRY_MAX_MS`.
    #[arg(long, env = "OUTBOX_REFUSAL_RETRY_MS", default_value_t = 1000)]
    pub refusal_retry_ms: u64,

    /// Longest wait between two tries of a refused event, in milliseconds.
    #[arg(long, env = "OUTBOX_REFUSAL_RETRY_MAX_MS", default_value_t = 60_000)]
    pub refusal_retry_max_ms: u64,

    /// Refusals after which an event is parked: it stops blocking its user's later events and
    /// waits for `backend replay-parked` (about 9 minutes of refusals with the defaults).
    #[arg(long, env = "OUTBOX_PARK_AFTER_REFUSALS", default_value_t = 15)]
    pub park_after_refusals: u32,

    /// How long published rows are kept before they are purged, in hours.
    #[arg(long, env = "OUTBOX_RETENTION_HOURS", default_value_t = 168)]
    pub retention_hours: u32,
}

/// Which engine the chat assistant runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChatEngineKind {
    /// OpenAI-compatible when `OPENAI_API_KEY` is set, the built-in engine otherwise.
    Auto,
    /// The built-in rule-based engine; needs no provider.
    Offline,
    /// An OpenAI-compatible chat-completions server with tool calling.
    Openai,
}

#[derive(Debug, Clone, Args)]
pub struct ChatConfig {
    /// The chat assistant's engine: `auto`, `offline` or `openai`.
    #[arg(long, env = "CHAT_ENGINE", value_enum, default_value = "auto")]
    pub chat_engine: ChatEngineKind,

    /// API key of the OpenAI-compatible provider; setting it turns the `auto` engine to OpenAI.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<SecretString>,

    /// Base URL of the OpenAI-compatible API (a local server works too, e.g.
    /// `http://127.0.0.1:11434/v1`).
    #[arg(long, env = "OPENAI_BASE_URL", default_value = "https://api.openai.com/v1")]
    pub openai_base_url: String,

    /// Model name sent to the provider; it must support tool (function) calling.
    #[arg(long, env = "OPENAI_MODEL", default_value = "gpt-4o-mini")]
    pub openai_model: String,

    /// Time allowed for one provider call, in seconds; a slower answer is a 504 (or, when the
    /// turn already changed tasks, a reply saying so). Keep the rounds within `REQUEST_TIMEOUT_SECS`.
    #[arg(long, env = "CHAT_PROVIDER_TIMEOUT_SECS", default_value_t = 20)]
    pub chat_provider_timeout_secs: u64,

    /// Most model calls in one chat turn (each may run tools) before the assistant stops.
    #[arg(long, env = "CHAT_MAX_TOOL_ROUNDS", default_value_t = 5)]
    pub chat_max_tool_rounds: u32,

    /// Time kept free at the end of the request timeout: a chat turn's model rounds must
    /// finish `REQUEST_TIMEOUT_SECS` minus this many seconds after the message arrived, so
    /// the reply (with what was done) is stored and sent before the request times out. A
    /// round that cannot start in time ends the turn.
    #[arg(long, env = "CHAT_TURN_MARGIN_SECS", default_value_t = 5)]
    pub chat_turn_margin_secs: u64,

    /// Model calls one account may make per UTC day (all replicas together); beyond it a
    /// message is refused with 429 until midnight UTC. 0: no limit.
    #[arg(long, env = "CHAT_DAILY_CALLS_PER_USER", default_value_t = 200)]
    pub chat_daily_calls_per_user: u32,

    /// Model tokens (prompt and completion, as the provider reports them) one account may use
    /// per UTC day; checked before each call, so the last call may go past it. 0: no limit.
    #[arg(long, env = "CHAT_DAILY_TOKENS_PER_USER", default_value_t = 400_000)]
    pub chat_daily_tokens_per_user: u64,

    /// Model calls the whole service may make per UTC day; beyond it every message to the
    /// model is refused with 503 until midnight UTC. 0: no limit.
    #[arg(long, env = "CHAT_DAILY_CALLS_TOTAL", default_value_t = 20_000)]
    pub chat_daily_calls_total: u32,

    /// Model tokens the whole service may use per UTC day. 0: no limit.
    #[arg(long, env = "CHAT_DAILY_TOKENS_TOTAL", default_value_t = 40_000_000)]
    pub chat_daily_tokens_total: u64,

    /// Chat messages allowed per user per minute, across all replicas. 0 turns the limit off.
    #[arg(long, env = "CHAT_RATE_LIMIT_PER_MINUTE", default_value_t = 20)]
    pub chat_rate_limit_per_minute: u32,

    /// Longest chat message in characters; longer ones are refused with 422.
    #[arg(long, env = "CHAT_MAX_MESSAGE_CHARS", default_value_t = 2000)]
    pub chat_max_message_chars: usize,

    /// How long a deletion or bulk change waits for the user's "yes", in seconds.
    #[arg(long, env = "CHAT_CONFIRMATION_TTL_SECS", default_value_t = 300)]
    pub chat_confirmation_ttl_secs: u64,

    /// With the OpenAI engine on, also phrase each new suggestion's reason as one sentence
    /// with the model (one call per suggestion, from the suggestion owner's daily budget).
    /// The rule-based reason shows meanwhile and whenever the wording fails.
    #[arg(long, env = "ASSISTANT_MODEL_WORDING", default_value_t = true, action = clap::ArgAction::Set)]
    pub assistant_model_wording: bool,

    /// Time allowed for one wording call, in seconds; a slower answer keeps the rule-based
    /// reason.
    #[arg(long, env = "ASSISTANT_WORDING_TIMEOUT_SECS", default_value_t = 4)]
    pub assistant_wording_timeout_secs: u64,
}

/// Web Push: browsers register here, the ai-agent sends (see its `VAPID_PRIVATE_KEY`).
#[derive(Debug, Clone, Args)]
pub struct PushConfig {
    /// The VAPID application server public key (RFC 8292): base64url without padding, the
    /// 65-byte uncompressed P-256 point, as `ai-agent generate-vapid-keys` prints it. Browsers
    /// subscribe with it, so it must be the public half of the ai-agent's `VAPID_PRIVATE_KEY`.
    /// Unset: push is off (`GET /push/config` says so, registering answers 409).
    #[arg(long, env = "VAPID_PUBLIC_KEY", value_parser = parse_vapid_public_key)]
    pub vapid_public_key: Option<String>,

    #[command(flatten)]
    pub endpoints: platform::push::PushEndpointConfig,
}

/// A VAPID public key as browsers take it: refused at start-up rather than handed to browsers
/// that would then fail to subscribe.
fn parse_vapid_public_key(raw: &str) -> Result<String, String> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let raw = raw.trim();
    match URL_SAFE_NO_PAD.decode(raw) {
        Ok(point) if point.len() == 65 && point[0] == 4 => Ok(raw.to_owned()),
        _ => Err("must be base64url (unpadded) of a 65-byte uncompressed P-256 point".to_owned()),
    }
}

impl OutboxConfig {
    pub fn dapr_base_url(&self) -> String {
        self.dapr_http_endpoint.clone().unwrap_or_else(|| format!("http://127.0.0.1:{}", self.dapr_http_port))
    }

    pub fn pacing(&self) -> crate::relay::Pacing {
        crate::relay::Pacing {
            poll_interval: Duration::from_millis(self.poll_interval_ms),
            min_pass_interval: Duration::from_millis(self.min_pass_interval_ms),
        }
    }

    pub fn refusal_policy(&self) -> crate::relay::RefusalPolicy {
        crate::relay::RefusalPolicy {
            first_retry: Duration::from_millis(self.refusal_retry_ms),
            max_retry: Duration::from_millis(self.refusal_retry_max_ms),
            park_after: self.park_after_refusals.max(1),
        }
    }
}

impl Config {
    /// Defaults for everything but the database, as a test or an embedding program wants them.
    pub fn for_database_url(database_url: &str) -> Self {
        let cli = Cli::parse_from(["backend", "serve", "--database-url", database_url]);
        match cli.command {
            Command::Serve(config) => *config,
            _ => unreachable!("the serve subcommand was given"),
        }
    }
}

/// Renders a database URL for logs with its password masked.
pub fn redact_url(url: &SecretString) -> String {
    let raw = url.expose_secret();
    match (raw.find("://"), raw.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &raw[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &raw[..scheme_end], user, &raw[at + 1..])
        }
        _ => raw.to_owned(),
    }
}
